//! Reporting under hostile input: diagnostics far to the right, floods of diagnostics, a reader
//! that closes the pipe, and control characters in what is echoed. Bounds are asserted as
//! counts and bytes, never wall time.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use crate::util::{BSIC, Project, Run};

/// A run that is a diagnostic report, not a crash.
fn assert_reported(run: &Run, code: i32) {
    run.assert_code(code);
    assert_eq!(run.crash_text(), None, "{}", run.describe());
}

/// A policy file whose error sits after 70,000 spaces on its line.
fn wide_policy() -> String {
    format!(
        "policy \"wide\" {{\n    applies-to \"pilot\"\n{}nonsense-node 1\n}}\n",
        " ".repeat(70_000)
    )
}

#[test]
fn an_error_past_column_65535_is_reported_with_its_real_column() {
    let project = Project::base().file("policies/wide.kdl", wide_policy());
    let run = project.bsic().arg("check").run();
    assert_reported(&run, 1);
    assert!(
        run.stderr.contains("policies/wide.kdl:3:70001"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("nonsense-node 1"), "{}", run.describe());
    assert!(run.stderr.len() < 4_000, "{} bytes", run.stderr.len());
}

#[test]
fn minified_json_and_one_line_plists_report_far_right_errors() {
    let padding = " ".repeat(70_000);
    let json = format!(
        r#"{{"Type": "com.apple.configuration.softwareupdate.settings", "Identifier": "x", "ServerToken": "1",{padding}"Payload": {{"Deferrals": {{"MinorPeriodInDays": 200}}}}}}"#
    );
    let plist = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict>{padding}\
         <key>PayloadType</key><string>Configuration</string><key>PayloadIdentifier</key>\
         <string>com.example.p</string><key>PayloadUUID</key><string>not-a-uuid</string>\
         <key>PayloadVersion</key><integer>1</integer><key>PayloadContent</key><array/></dict></plist>"
    );
    let project = Project::empty()
        .file("d.json", json)
        .file("p.mobileconfig", plist);
    let run = project.bsic().args(["validate", "d.json"]).run();
    assert_reported(&run, 1);
    assert!(run.stderr.contains("d.json:1:"), "{}", run.describe());
    assert!(
        run.stderr.contains("MinorPeriodInDays"),
        "{}",
        run.describe()
    );
    for args in [
        &["validate", "p.mobileconfig"][..],
        &["import", "p.mobileconfig"][..],
    ] {
        let run = project.bsic().args(args).run();
        assert_eq!(run.crash_text(), None, "{}", run.describe());
        assert!(matches!(run.code, Some(0 | 1)), "{}", run.describe());
        assert!(run.stderr.len() < 20_000, "{} bytes", run.stderr.len());
    }
}

/// One line of `background-security` setting `offer` `count` times: `count - 1` errors.
fn repeated(count: usize) -> String {
    format!(
        "policy \"rep\" {{ applies-to \"pilot\"; background-security{} }}\n",
        " offer=#true".repeat(count)
    )
}

#[test]
fn thousands_of_errors_on_one_line_are_capped_in_every_format() {
    let project = Project::base().file("policies/rep.kdl", repeated(5_000));
    let human = project.bsic().arg("check").run();
    assert_reported(&human, 1);
    assert_eq!(
        human.stderr.matches("bsic::duplicate-node").count(),
        20,
        "{}",
        human.stderr
    );
    assert!(
        human
            .stderr
            .contains("… and 4,979 more errors in policies/rep.kdl"),
        "{}",
        human.stderr
    );
    assert!(human.stderr.contains(": 4999 errors"), "{}", human.stderr);
    // 601 MB before the cap; a bounded report is a few kilobytes.
    assert!(human.stderr.len() < 40_000, "{} bytes", human.stderr.len());

    let json = project.bsic().args(["check", "--format", "json"]).run();
    assert_eq!(json.diagnostics().unwrap().len(), 20, "{}", json.describe());
    assert!(json.stderr.contains("4,979 more errors"), "{}", json.stderr);

    let sarif = project.bsic().args(["check", "--format", "sarif"]).run();
    let log: serde_json::Value = serde_json::from_str(&sarif.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(20));

    let github = project.bsic().args(["check", "--format", "github"]).run();
    assert_eq!(
        github.stdout.matches("::error ").count(),
        20,
        "{}",
        github.stdout
    );

    let all = project
        .bsic()
        .args(["check", "--format", "json", "--max-diagnostics", "0"])
        .run();
    assert_eq!(all.diagnostics().unwrap().len(), 4_999);
    assert!(!all.stderr.contains("more errors"), "{}", all.stderr);
}

#[test]
fn the_run_cap_sums_up_the_files_left_out() {
    let mut project = Project::base();
    for file in 0..15 {
        let policies: String = (0..3)
            .map(|i| format!("policy \"p{file}x{i}\" {{ applies-to \"pilot\"; nonsense 1 }}\n"))
            .collect();
        project = project.file(&format!("policies/f{file:02}.kdl"), policies);
    }
    let run = project
        .bsic()
        .args(["check", "--max-diagnostics", "2"])
        .run();
    assert_reported(&run, 1);
    assert_eq!(run.stderr.matches("bsic::unknown-node").count(), 20);
    assert!(
        run.stderr
            .contains("… and 1 more error in policies/f00.kdl"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("… and 15 more errors in 5 other files"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(": 45 errors"), "{}", run.stderr);
}

#[test]
fn ten_thousand_unknown_nodes_render_in_bounded_output() {
    let body: String = (0..10_000)
        .map(|i| format!("    nonsense{i} 1\n"))
        .collect();
    let project = Project::base().file(
        "policies/many.kdl",
        format!("policy \"many\" {{\n    applies-to \"pilot\"\n{body}}}\n"),
    );
    let run = project.bsic().arg("check").run();
    assert_reported(&run, 1);
    assert_eq!(run.stderr.matches("bsic::unknown-node").count(), 20);
    assert!(run.stderr.contains("9,980 more errors"), "{}", run.stderr);
    assert!(run.stderr.len() < 40_000, "{} bytes", run.stderr.len());
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let many: String = (0..300)
        .map(|i| format!("policy \"bad{i}\" {{ applies-to \"pilot\"; nonsense{i} 1 }}\n"))
        .collect();
    let project = Project::base().file("policies/many.kdl", many);
    // Far more than a pipe buffer holds, so bsic is still writing when the reader leaves.
    let mut child = Command::new(BSIC)
        .args(["check", "--max-diagnostics", "0"])
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    drop(stderr);
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(
        matches!(status.code(), Some(code) if code < 3),
        "bsic died on a closed pipe: {status:?}"
    );

    // The same for stdout, with JSON lines.
    let mut child = Command::new(BSIC)
        .args(["check", "--max-diagnostics", "0", "--format", "json"])
        .current_dir(project.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0_u8; 1];
    stdout.read_exact(&mut byte).unwrap();
    drop(stdout);
    let mut errors = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut errors)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(
        matches!(status.code(), Some(code) if code < 3),
        "bsic died on a closed pipe: {status:?}\n{errors}"
    );
    assert!(!errors.contains("internal error"), "{errors}");
}

#[test]
fn control_characters_are_escaped_in_human_output() {
    let name = "policies/evil\u{1b}]0;title\u{7}.kdl";
    let project = Project::base().file(
        name,
        "policy \"e\" {\n    applies-to \"pilot\" // \u{1b}[2J\u{9b}31m\n    \
         background-security automatic-install=\"\\u{1b}[31mred\"\n}\n",
    );
    let run = project.bsic().arg("check").run();
    assert_reported(&run, 1);
    assert!(run.stderr.contains("bsic::"), "{}", run.describe());
    for control in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(
            !run.stderr.contains(control),
            "raw {control:?} in output\n{}",
            run.stderr.escape_debug()
        );
    }
    // The file name and the comment are shown, escaped.
    assert!(
        run.stderr.contains("evil\\u{1b}]0;title\\u{7}.kdl"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("// \\u{1b}[2J\\u{9b}31m"),
        "{}",
        run.stderr
    );
}

#[test]
fn fatal_errors_escape_the_paths_they_name() {
    let project = Project::empty();
    let run = project
        .bsic()
        .args(["check", "missing\u{1b}[31m\u{7}"])
        .run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("missing\\u{1b}[31m\\u{7}"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stderr.contains('\u{1b}') && !run.stderr.contains('\u{7}'),
        "{}",
        run.stderr.escape_debug()
    );
}
