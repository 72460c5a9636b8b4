//! The command line itself: exit codes for usage errors, and the help texts.

use crate::util::{Bsic, Project};

#[test]
fn unknown_flag_is_a_usage_error() {
    let project = Project::reference();
    let run = project.bsic().args(["check", "--frobnicate"]).run();
    run.assert_code(2);
    assert!(run.stderr.contains("--frobnicate"), "{}", run.describe());
    assert_eq!(run.stdout, "");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let run = Project::reference().bsic().arg("frobnicate").run();
    run.assert_code(2);
    assert!(run.stderr.contains("frobnicate"), "{}", run.describe());
}

#[test]
fn directory_without_project_file_is_a_usage_error() {
    let dir = Project::empty();
    assert!(
        !dir.path().ancestors().any(|a| a.join("bsic.kdl").is_file()),
        "a bsic.kdl above the temp directory would be found instead"
    );
    for args in [
        &["check"][..],
        &["check", "--format", "json"][..],
        &["build"][..],
    ] {
        let run = dir.bsic().args(args).run();
        run.assert_code(2);
        assert!(run.stderr.contains("bsic.kdl"), "{}", run.describe());
        assert!(!dir.join("dist").exists());
    }
    // The same with the directory given as an argument, from elsewhere.
    let run = Bsic::new(&std::env::temp_dir())
        .arg("check")
        .arg(dir.path())
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("bsic.kdl"), "{}", run.describe());
}

#[test]
fn project_is_found_from_a_subdirectory() {
    let project = Project::reference();
    let run = Bsic::new(&project.join("policies")).arg("check").run();
    run.assert_code(0);
}

#[test]
fn version_prints_the_version_commit_and_date() {
    let run = Project::empty().bsic().arg("--version").run();
    run.assert_code(0);
    let line = run.stdout.trim();
    let rest = line
        .strip_prefix(&format!("bsic {} (", env!("CARGO_PKG_VERSION")))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not `bsic VERSION (COMMIT DATE)`: {line}"));
    let (commit, date) = rest.split_once(' ').expect("a commit and a date");
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line}"
    );
    assert!(
        date == "unknown" || (date.len() == 10 && date.as_bytes()[4] == b'-'),
        "{line}"
    );
    // Built from this checkout, it names this checkout's HEAD (when Git is here to ask).
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=9", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|h| h.status.success() && std::env::var_os("BSIC_BUILD_COMMIT").is_none());
    if let Some(head) = head {
        assert_eq!(
            commit,
            String::from_utf8_lossy(&head.stdout).trim(),
            "{line}"
        );
    }
    // `bsic version` says the same.
    let run = Project::empty().bsic().arg("version").run();
    run.assert_code(0);
    assert_eq!(run.stdout.trim(), line);
}

#[test]
fn version_json_is_for_scripts() {
    let run = Project::empty().bsic().args(["version", "--json"]).run();
    run.assert_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    for key in ["commit", "date", "target"] {
        assert!(json[key].as_str().is_some_and(|v| !v.is_empty()), "{json}");
    }
}

#[test]
fn man_pages() {
    let run = Project::empty().bsic().arg("man").run();
    run.assert_code(0);
    for section in [
        "NAME",
        "SYNOPSIS",
        "\"EXIT STATUS\"",
        "ENVIRONMENT",
        "EXAMPLES",
    ] {
        assert!(
            run.stdout.contains(&format!(".SH {section}")),
            "bsic(1) lacks {section}"
        );
    }
    assert!(run.stdout.contains("SOURCE_DATE_EPOCH"));
    // Every command has a page of its own.
    let run = Project::empty().bsic().args(["man", "check"]).run();
    run.assert_code(0);
    assert!(run.stdout.contains(".TH bsic-check 1"), "{}", run.stdout);
    for needle in [
        ".SH NAME",
        ".SH SYNOPSIS",
        "bsic\\-check",
        "explain\\-overrides",
        "\\-\\-format",
    ] {
        assert!(run.stdout.contains(needle), "bsic-check(1) lacks {needle}");
    }
    assert!(!run.stdout.contains("EXIT STATUS"));
    let run = Project::empty()
        .bsic()
        .args(["man", "catalog", "import"])
        .run();
    run.assert_code(0);
    assert!(run.stdout.contains("bsic\\-catalog\\-import"));
}

#[test]
fn man_page_of_an_unknown_command_is_a_usage_error() {
    let run = Project::empty().bsic().args(["man", "chekc"]).run();
    run.assert_code(2);
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("'chekc'"), "{}", run.describe());
    assert!(
        run.stderr.contains("similar command exists: 'check'"),
        "{}",
        run.describe()
    );
    let run = Project::empty().bsic().args(["man", "nosuch"]).run();
    run.assert_code(2);
    assert!(run.stderr.contains("commands: "), "{}", run.describe());
}

#[test]
fn help_texts() {
    let commands: [&[&str]; 4] = [
        &["--help"],
        &["check", "--help"],
        &["build", "--help"],
        &["schema", "--help"],
    ];
    for args in commands {
        let run = Project::empty().bsic().args(args).run();
        run.assert_code(0);
        let name = if args.len() == 1 {
            "help".to_string()
        } else {
            format!("help-{}", args[0])
        };
        insta::assert_snapshot!(name, run.stdout);
    }
}
