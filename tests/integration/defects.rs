//! Defects found by trying bsic against an outside corpus and as a newcomer (issue 16), one
//! test per class.

use std::fs;

use crate::util::Project;

/// A group's OS range with a patch number: the patch reaches the activation predicate and
/// `explain`, never silently dropped.
#[test]
fn a_patch_version_in_a_group_range_is_compiled_in() {
    let project = Project::reference().file(
        "policies/patch.kdl",
        "group \"patch\" { platforms \"macOS\"; os min=\"26.3.2\" max=\"27.0.1\" }\n\
         policy \"patch-p\" { applies-to \"patch\"; platforms \"macOS\"; \
         background-security { allow-rollback #false } }\n",
    );
    let out = project.join("dist");
    project.build_ok(&out);
    let activation =
        fs::read_to_string(out.join("ddm/patch/com.example.it.patch.activation.json")).unwrap();
    for bound in ["== '26.3.2'", "== '27.0.1'", "26[.]3[.]"] {
        assert!(activation.contains(bound), "{bound} missing: {activation}");
    }
    let explain = |os: &str| {
        let run = project
            .bsic()
            .args([
                "explain",
                "--group",
                "patch",
                "--platform",
                "macOS",
                "--os",
                os,
            ])
            .run();
        run.assert_code(0);
        run.stdout
    };
    assert!(!explain("26.3.1").contains("RapidSecurityResponse"));
    assert!(explain("26.3.2").contains("RapidSecurityResponse"));
    assert!(explain("27.0.1").contains("RapidSecurityResponse"));
    assert!(!explain("27.0.2").contains("RapidSecurityResponse"));
}

/// SARIF and GitHub output carry a policy's lint warning beside another policy's error.
#[test]
fn machine_formats_carry_warnings_beside_errors() {
    let project = Project::reference().file(
        "policies/both.kdl",
        "policy \"warn-and-err\" {\n    applies-to \"pilot\"\n    platforms \"macOS\"\n    \
         background-security { automatic-install \"always-on\"; allow-rollback #true }\n}\n\
         policy \"err\" { applies-to \"pilot\"; background-security { ofer #true } }\n",
    );
    let run = project.bsic().args(["check", "--format", "sarif"]).run();
    run.assert_code(1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let levels: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["level"].as_str())
        .collect();
    assert!(
        levels.contains(&"error") && levels.contains(&"warning"),
        "{levels:?}"
    );
    let run = project.bsic().args(["check", "--format", "github"]).run();
    assert!(
        run.stdout.contains("::error") && run.stdout.contains("::warning"),
        "{}",
        run.describe()
    );
}

/// The summary counts what was read, and says how much of it was rejected.
#[test]
fn the_summary_counts_what_was_read_and_what_was_rejected() {
    let project = Project::reference()
        .file(
            "policies/bad.kdl",
            "policy \"a\" { applies-to \"pilot\"; background-security { ofer #true } }\n\
             policy \"b\" { applies-to \"pilot\"; background-security { offer #true } }\n",
        )
        .file("policies/broken.kdl", "policy \"c\" {");
    let run = project.bsic().arg("check").run();
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("checked 5 policy files (1 did not parse), 7 policies (1 rejected)"),
        "{}",
        run.describe()
    );
}

/// A SARIF rule describes its code, not the first result: two typos with different
/// did-you-means share a rule whose help names neither.
#[test]
fn sarif_rules_describe_the_code_not_the_first_result() {
    let project = Project::reference().file(
        "policies/typos.kdl",
        "policy \"t\" { applies-to \"pilot\"; background-security { ofer #true; allow-rolback #false } }\n",
    );
    let run = project.bsic().args(["check", "--format", "sarif"]).run();
    run.assert_code(1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "bsic::unknown-node")
        .expect("a rule for unknown-node");
    let text = rule.to_string();
    for instance in ["offer", "allow-rollback", "ofer", "rolback"] {
        assert!(
            !text.contains(instance),
            "rule text names `{instance}`: {text}"
        );
    }
    assert!(rule["help"]["text"].as_str().is_some_and(|h| !h.is_empty()));
    assert!(
        rule["shortDescription"]["text"]
            .as_str()
            .is_some_and(|h| !h.is_empty())
    );
}
