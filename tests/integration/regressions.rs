//! Hostile and oversized input (issue 7): every case fails with a located diagnostic and exit
//! code 1, never a panic or a crash. Inputs found by the fuzz targets in `fuzz/` get a test
//! here, named after what they exercise, with the input inline.

use crate::util::Project;

/// Runs `bsic check --format json` and returns the codes reported, asserting exit code 1
/// and no crash.
fn codes_of(project: &Project) -> Vec<String> {
    let run = project.bsic().args(["check", "--format", "json"]).run();
    run.assert_code(1);
    assert_eq!(run.crash_text(), None, "{}", run.describe());
    run.diagnostics()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The acceptance check's input: 20,000 nested blocks and invalid UTF-8 in one project.
#[test]
fn deep_nesting_and_invalid_utf8() {
    let project = Project::base()
        .file(
            "policies/deep.kdl",
            format!(
                "policy \"deep\" {}{}\n",
                "{ x ".repeat(20_000),
                "}".repeat(20_000)
            ),
        )
        .file(
            "policies/bytes.kdl",
            b"group \"ok\"\ngroup \"\xff\xfe\"\n\x00",
        );
    let codes = codes_of(&project);
    assert!(codes.contains(&"bsic::too-deep".to_string()), "{codes:?}");
    assert!(codes.contains(&"bsic::not-utf8".to_string()), "{codes:?}");
}

#[test]
fn a_string_longer_than_64_kib_is_refused_where_it_is() {
    let long = "x".repeat(bsic::validate::MAX_STRING_BYTES + 1);
    let project = Project::base().file(
        "policies/long.kdl",
        format!(
            "policy \"long\" {{\n    description \"{long}\"\n    applies-to \"pilot\"\n    os-updates notifications=#true\n}}\n"
        ),
    );
    let run = project.bsic().args(["check", "--format", "json"]).run();
    run.assert_code(1);
    let diagnostics = run.diagnostics().unwrap();
    let too_long = diagnostics
        .iter()
        .find(|d| d["code"] == "bsic::string-too-long")
        .unwrap_or_else(|| panic!("{}", run.describe()));
    assert_eq!(too_long["location"]["file"], "policies/long.kdl");
    assert_eq!(too_long["location"]["line"], 2);
    assert_eq!(too_long["location"]["column"], 17);
}

#[test]
fn more_than_10_000_policy_files_are_refused_before_reading() {
    let project = Project::base();
    for i in 0..=bsic::source::MAX_POLICY_FILES {
        project.write(&format!("policies/many/{}/{i}.kdl", i % 100), "");
    }
    let codes = codes_of(&project);
    assert_eq!(codes, vec!["bsic::too-many-files".to_string()]);
}

#[test]
fn an_integer_beyond_64_bits_is_located() {
    let policy = |number: &str| {
        format!("policy \"big\" {{\n    applies-to \"pilot\"\n    priority {number}\n}}\n")
    };
    let project = Project::base().file("policies/big.kdl", policy("99999999999999999999"));
    let codes = codes_of(&project);
    assert!(
        codes.contains(&"bsic::integer-overflow".to_string()),
        "{codes:?}"
    );
    // Beyond 128 bits the KDL parser itself refuses the number: still a located error.
    let project = Project::base().file(
        "policies/big.kdl",
        policy("340282366920938463463374607431768211456"),
    );
    let codes = codes_of(&project);
    assert!(codes.contains(&"bsic::syntax".to_string()), "{codes:?}");
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_repository_is_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("outside.kdl"), "group \"outside\"\n").unwrap();
    let project = Project::base();
    std::os::unix::fs::symlink(
        outside.path().join("outside.kdl"),
        project.join("policies/linked.kdl"),
    )
    .unwrap();
    let codes = codes_of(&project);
    assert_eq!(codes, vec!["bsic::symlink-escapes".to_string()]);
}
