//! Inputs for diagnostic codes that cannot come from a KDL policy and that no other test
//! produces: plan, status, catalog and verify problems. Each test makes one input per code and
//! checks that exactly that problem is reported. `docs::every_code_has_an_example` names these
//! tests in its registry.

use std::process::Command;

use crate::util::{self, Project, Run, repo};

/// The diagnostic codes bsic printed on stderr: every report, status warnings included, puts
/// the code on a line of its own.
fn codes(run: &Run) -> Vec<String> {
    let mut found: Vec<String> = run
        .stderr
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("bsic::") && !line.contains(' '))
        .map(String::from)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn assert_only(run: &Run, code: &str, exit: i32) {
    assert!(run.crash_text().is_none(), "crashed\n{}", run.describe());
    run.assert_code(exit);
    assert_eq!(codes(run), [code], "{}", run.describe());
}

#[test]
fn plan_read_failed_when_the_old_output_lost_a_file() {
    let project = Project::reference();
    project.build_ok(&project.join("dist"));
    std::fs::remove_file(project.join("dist/ddm/kiosks/com.example.it.kiosks.settings.json"))
        .unwrap();
    let run = project.bsic().arg("plan").run();
    assert_only(&run, "bsic::plan::read-failed", 1);
}

#[test]
fn plan_old_project_errors_when_the_revision_does_not_check() {
    let project = Project::reference().file("policies/typo.kdl", "policy \"x\" {\n    nope\n}\n");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .current_dir(project.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "broken"]);
    std::fs::remove_file(project.join("policies/typo.kdl")).unwrap();
    let run = project.bsic().args(["plan", "--against", "HEAD"]).run();
    assert_only(&run, "bsic::plan::old-project-errors", 1);
}

/// The status fixture project, built, with one report of a watch in `reports/`.
fn status_project() -> Project {
    let project = Project::empty();
    util::copy_dir(&repo("tests/fixtures/status/fleet"), project.path());
    project.build_ok(&project.join("dist"));
    project.write(
        "reports/watch.json",
        r#"{"StatusItems":{"device":{"identifier":{"serial-number":"W1"},
            "operating-system":{"family":"watchOS","version":"11.0"}}},"Errors":[]}"#,
    );
    project
}

#[test]
fn status_unknown_platform_bad_manifest_and_unwritable() {
    let project = status_project();
    let status = |extra: &[&str]| {
        project
            .bsic()
            .args([
                "status",
                "--reports",
                "reports",
                "--now",
                "2027-01-01T00:00:00",
            ])
            .args(extra)
            .run()
    };
    assert_only(&status(&[]), "bsic::status-unknown-platform", 0);

    project.write("foreign/manifest.json", r#"{"name": "my-site-app"}"#);
    let run = status(&["--dist", "foreign"]);
    run.assert_code(2);
    assert!(
        codes(&run).contains(&"bsic::status-bad-manifest".to_string()),
        "{}",
        run.describe()
    );

    let run = status(&["--html", "dist/manifest.json/report.html"]);
    run.assert_code(2);
    assert!(
        codes(&run).contains(&"bsic::status-unwritable".to_string()),
        "{}",
        run.describe()
    );

    project.write("tokens.json", r#"{"format": "someone-elses/3"}"#);
    let run = status(&["--server-tokens", "tokens.json"]);
    run.assert_code(2);
    assert!(
        codes(&run).contains(&"bsic::status-bad-server-tokens".to_string()),
        "{}",
        run.describe()
    );
}

#[test]
fn catalog_import_refuses_malformed_and_unknown_feeds() {
    let project = Project::reference()
        .file("broken.json", "{")
        .file("unknown.json", r#"{"releases": []}"#);
    // A feed that stops being JSON is located like any other bad input (exit 1); one that is
    // JSON of an unknown shape cannot be used at all (exit 2).
    for (feed, code, exit) in [
        ("broken.json", "bsic::syntax", 1),
        ("unknown.json", "bsic::catalog::unknown-format", 2),
    ] {
        let run = project
            .bsic()
            .args(["catalog", "import", feed, "--out", "catalog.json"])
            .run();
        assert_only(&run, code, exit);
        assert!(!project.join("catalog.json").exists());
    }
}

/// `bsic verify` prints the message of each `verify::*` problem with its code (see
/// docs/diagnostics.md): each message is the `#[error]` text of that code's variant in
/// `compiler/src/sign/error.rs`.
#[test]
fn verify_names_what_is_wrong_with_a_foreign_signature() {
    let project = Project::reference();
    let dir = project.path();
    util::self_signed_p256(dir, "a", "/CN=a");
    util::self_signed_p256(dir, "b", "/CN=b");
    project.write("c.plist", "<plist version=\"1.0\"><dict/></plist>");
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "bsic::verify::content",
            &["-signer", "a.pem", "-inkey", "a.key"],
            "detached signature",
        ),
        (
            "bsic::verify::unsupported-algorithm",
            &[
                "-signer",
                "a.pem",
                "-inkey",
                "a.key",
                "-nodetach",
                "-md",
                "sha1",
            ],
            "unsupported digest algorithm",
        ),
        (
            "bsic::verify::signer-count",
            &[
                "-signer",
                "a.pem",
                "-inkey",
                "a.key",
                "-signer",
                "b.pem",
                "-inkey",
                "b.key",
                "-nodetach",
            ],
            "expected exactly one signer, found 2",
        ),
        (
            "bsic::verify::signer-certificate-missing",
            &[
                "-signer",
                "a.pem",
                "-inkey",
                "a.key",
                "-nodetach",
                "-nocerts",
            ],
            "the signer's certificate is not included",
        ),
    ];
    for (code, options, message) in cases {
        let file = format!("{}.mobileconfig", code.rsplit("::").next().unwrap());
        let mut args = vec![
            "cms", "-sign", "-in", "c.plist", "-outform", "DER", "-out", &file,
        ];
        args.extend_from_slice(options);
        util::openssl(dir, &args);
        let run = project.bsic().args(["verify", &file]).run();
        assert!(
            run.crash_text().is_none(),
            "{code}: crashed\n{}",
            run.describe()
        );
        run.assert_code(1);
        assert!(
            run.stdout.contains(message) || run.stderr.contains(message),
            "{code}: expected `{message}`\n{}",
            run.describe()
        );
        assert!(
            run.stdout.contains(&format!("({code})")),
            "{code}: the code is not printed\n{}",
            run.describe()
        );
    }
}

#[test]
fn fleet_ignores_knobs_the_oldest_macs_lack() {
    let project = Project::reference();
    let kdl = std::fs::read_to_string(project.join("bsic.kdl")).unwrap();
    project.write("bsic.kdl", format!("{kdl}fleet macOS=\"14.0\"\n"));
    let run = project
        .bsic()
        .args(["check", "--format", "json"])
        .env("SOURCE_DATE_EPOCH", "1767225600") // 2026-01-01: no deadline has passed
        .run();
    run.assert_code(0);
    let mut found: Vec<String> = run
        .diagnostics()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str().map(String::from))
        .collect();
    found.dedup();
    assert_eq!(found, ["bsic::fleet-ignores"], "{}", run.describe());
}

#[test]
fn an_unreadable_pkcs12_stops_the_build() {
    let project = Project::reference().file("garbage.p12", "garbage\n");
    let run = project
        .bsic()
        .args(["build", "-q", "--sign-p12", "garbage.p12"])
        .args(["--p12-password-file", "garbage.p12"])
        .run();
    assert_only(&run, "bsic::sign::pkcs12", 2);
    assert!(!project.join("dist").exists());
}
