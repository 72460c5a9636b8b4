//! `bsic catalog import` and enforcement targets checked against the pinned catalog (issue 5).

use std::path::Path;
use std::process::Command;

fn bsic(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bsic"))
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .unwrap()
}

fn project(dir: &Path, enforce: &str, extra: &str) {
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    let pin = std::fs::read_to_string(dir.join("pin.txt")).unwrap_or_default();
    std::fs::write(
        dir.join("bsic.kdl"),
        format!("organization \"T\"\nidentifier-prefix \"com.example.t\"\n{pin}\n{extra}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("policies/p.kdl"),
        format!("group \"kiosks\"\npolicy \"k\" {{\n    applies-to \"kiosks\"\n    platforms \"macOS\"\n    {enforce}\n}}\n"),
    )
    .unwrap();
}

#[test]
fn targets_are_checked_against_the_imported_catalog() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/catalog");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, "", "");
    let import = bsic(
        dir,
        &[
            "catalog",
            "import",
            fixtures.join("pmv.json").to_str().unwrap(),
            fixtures.join("sofa-macos.json").to_str().unwrap(),
        ],
    );
    let said = String::from_utf8_lossy(&import.stdout).to_string();
    assert!(
        import.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let pin = said
        .lines()
        .find(|l| l.trim_start().starts_with("catalog "))
        .unwrap()
        .trim()
        .to_string();
    std::fs::write(dir.join("pin.txt"), &pin).unwrap();
    let snapshot = std::fs::read_to_string(dir.join("catalog/apple-releases.json")).unwrap();
    assert!(
        snapshot.contains("25D771280a") && snapshot.contains("25C56"),
        "{snapshot}"
    );

    let ok = r#"enforce version="26.3.1" build="25D771280a" by="2027-01-15T09:00:00""#;
    project(dir, ok, "");
    assert!(bsic(dir, &["check"]).status.success());

    // A build that does not exist, with a suggestion from the catalog.
    project(
        dir,
        r#"enforce version="26.3.1" build="25D771281a" by="2027-01-15T09:00:00""#,
        "",
    );
    let out = bsic(dir, &["check", "--format", "json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("bsic::catalog") && text.contains("did you mean `25D771280a`"),
        "{text}"
    );

    // A BSI build whose base is another version.
    project(
        dir,
        r#"enforce version="26.3" build="25D771280a" by="2027-01-15T09:00:00""#,
        "",
    );
    let text =
        String::from_utf8_lossy(&bsic(dir, &["check", "--format", "json"]).stdout).to_string();
    assert!(text.contains("is 26.3.1 (a), not 26.3"), "{text}");

    // A target older than the fleet already runs.
    project(
        dir,
        r#"enforce version="26.2" by="2027-01-15T09:00:00""#,
        "fleet macOS=\"26.3\"",
    );
    let text =
        String::from_utf8_lossy(&bsic(dir, &["check", "--format", "json"]).stdout).to_string();
    assert!(text.contains("already run 26.3"), "{text}");

    // A snapshot edited by hand no longer matches its pin: the check refuses it.
    project(dir, ok, "");
    std::fs::write(
        dir.join("catalog/apple-releases.json"),
        snapshot.replace("25C56", "25C57"),
    )
    .unwrap();
    let out = bsic(dir, &["check", "--format", "json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("not the pinned"), "{text}");
}

/// A feed with a wrongly typed entry, a path as a version, markup as a build and an unknown
/// platform used to import as "wrote 0 releases" with exit 0. Each is now an error at its
/// line and column in the feed, the run exits 1, and no snapshot is written.
#[test]
fn entries_that_are_not_releases_stop_the_import_where_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    project(dir, "", "");
    std::fs::write(
        dir.join("feed.json"),
        "{\n  \"PublicAssetSets\": {\n    \"macOS\": [\n      {\"ProductVersion\": \"../../x\", \"Build\": \"25D1\"},\n      {\"ProductVersion\": \"26.3\", \"Build\": \"<script>\"},\n      {\"ProductVersion\": 26.3, \"Build\": \"25D1\"}\n    ],\n    \"Plan9\": []\n  }\n}\n",
    )
    .unwrap();
    let import = bsic(
        dir,
        &["catalog", "import", "feed.json", "--out", "snap.json"],
    );
    let stderr = String::from_utf8_lossy(&import.stderr).to_string();
    assert_eq!(import.status.code(), Some(1), "{stderr}");
    for at in [
        "feed.json:4:26",
        "feed.json:5:43",
        "feed.json:6:26",
        "feed.json:8:5",
    ] {
        assert!(stderr.contains(at), "no error at {at}\n{stderr}");
    }
    assert!(stderr.contains("bsic::feed-entry"), "{stderr}");
    assert!(
        !dir.join("snap.json").exists(),
        "a refused import wrote the snapshot"
    );
    assert!(!String::from_utf8_lossy(&import.stdout).contains("wrote"));
}

/// Runs bsic in `dir` at the Unix time `now`.
fn bsic_at(dir: &Path, now: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bsic"))
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", now)
        .output()
        .unwrap()
}

/// Writes a project pinning `pin` with `policies` as its one policy file.
fn model_project(dir: &Path, pin: &str, policies: &str) {
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("bsic.kdl"),
        format!("organization \"T\"\nidentifier-prefix \"com.example.t\"\n{pin}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("policies/p.kdl"), policies).unwrap();
}

/// With a catalog of Apple's lookup-service shape pinned: Mac board IDs map to the model
/// identifiers a group's `models` name, a BSI the catalog lists for other models is refused
/// with the right build, an unknown model gets a did-you-mean, a version some models cannot
/// run is a warning, an expired BSI an error; the catalog (not the build's letter) decides
/// what is staged; a group's models reach its activation predicate and status items.
#[test]
fn models_and_bsis_follow_the_catalog() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/catalog");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    model_project(dir, "", "");
    let feed = fixtures.join("pmv-devices.json");
    let import = bsic(dir, &["catalog", "import", feed.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&import.stdout).to_string();
    assert!(import.status.success(), "{said}");
    let pin = said
        .lines()
        .find(|l| l.trim_start().starts_with("catalog "))
        .unwrap()
        .trim()
        .to_string();
    let snapshot = std::fs::read_to_string(dir.join("catalog/apple-releases.json")).unwrap();
    assert!(
        snapshot.contains("\"J700AP\"") && snapshot.contains("\"prerequisite\": \"25D2140\""),
        "{snapshot}"
    );
    let group =
        |models: &str| format!("group \"macs\" {{ platforms \"macOS\"; models {models} }}\n");
    let policy = |enforce: &str| {
        format!(
            "policy \"p\" {{\n    applies-to \"macs\"\n    platforms \"macOS\"\n    {enforce}\n}}\n"
        )
    };
    let check = |now: &str| {
        let out = bsic_at(dir, now, &["check", "--format", "json"]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let early = "1767225600"; // 2026-01-01

    // The MacBook Neo's BSI on MacBook Airs: refused, naming the Air and its BSI.
    let neo_bsi = r#"enforce version="26.3.2" build="25D771400a" by="2027-01-15T09:00:00""#;
    model_project(dir, &pin, &(group("\"Mac14,2\"") + &policy(neo_bsi)));
    let (code, text) = check(early);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("bsic::bsi-models")
            && text.contains("`Mac14,2`")
            && text.contains(r#"version=\"26.3.1\" build=\"25D771280a\""#),
        "{text}"
    );

    // A model the catalog does not know.
    let bsi = r#"enforce version="26.3.1" build="25D771280a" by="2027-01-15T09:00:00""#;
    model_project(dir, &pin, &(group("\"Mac14,3\"") + &policy(bsi)));
    let (code, text) = check(early);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("bsic::unknown-model") && text.contains("did you mean `Mac14,2`"),
        "{text}"
    );

    // An OS version the Neo cannot run: a warning.
    let version = r#"enforce version="26.3.1" by="2027-01-15T09:00:00""#;
    model_project(dir, &pin, &(group("\"Mac17,5\"") + &policy(version)));
    let (code, text) = check(early);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("bsic::models-cannot-run") && text.contains("`Mac17,5`"),
        "{text}"
    );

    // The right BSI for a family prefix: builds, staged, the models in the predicate.
    model_project(
        dir,
        &pin,
        &(group("\"Mac14,*\" \"Mac15,12\"") + &policy(bsi)),
    );
    let (code, text) = check(early);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("the pinned catalog lists it as one"),
        "{text}"
    );
    // 26.4 is out for these Macs: the BSI for 26.3.1 no longer reaches them all.
    assert!(
        text.contains("bsic::bsi-superseded") && text.contains("the newer 26.4"),
        "{text}"
    );
    let out = bsic_at(dir, early, &["build", "--out", "dist"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ddm = dir.join("dist/ddm/macs");
    let activation =
        std::fs::read_to_string(ddm.join("com.example.t.macs.activation.json")).unwrap();
    assert!(
        activation.contains(
            r#"(@status(device.model.identifier) == 'Mac15,12' OR @status(device.model.identifier) BEGINSWITH 'Mac14,')"#
        ),
        "{activation}"
    );
    assert!(ddm.join("com.example.t.macs.enforce.base.json").exists());
    assert!(ddm.join("com.example.t.macs.enforce.bsi.json").exists());
    let status = std::fs::read_to_string(ddm.join("com.example.t.macs.status.json")).unwrap();
    assert!(status.contains("device.model.identifier"), "{status}");

    // A build whose letter says BSI, which the catalog lists as an OS release: not staged.
    let lettered = r#"enforce version="26.3.1" build="25D212800b" by="2027-01-15T09:00:00""#;
    model_project(dir, &pin, &(group("\"Mac16,12\"") + &policy(lettered)));
    let (code, text) = check(early);
    assert_eq!(code, Some(0), "{text}");
    assert!(!text.contains("bsic::staged-base"), "{text}");
    let out = bsic_at(dir, early, &["build", "--out", "dist2"]);
    assert!(out.status.success());
    let declarations: Vec<_> = std::fs::read_dir(dir.join("dist2/ddm/macs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        declarations.contains(&"com.example.t.macs.enforce.json".to_string()),
        "{declarations:?}"
    );

    // A beta build: the catalog never lists one, and says why.
    let beta = r#"enforce version="26.4" build="25E5207k" by="2027-01-15T09:00:00""#;
    model_project(dir, &pin, &(group("\"Mac14,2\"") + &policy(beta)));
    let (code, text) = check(early);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("it is a beta build") && text.contains("bsic::beta-build"),
        "{text}"
    );

    // After Apple's expiration date the BSI is refused.
    model_project(dir, &pin, &(group("\"Mac14,2\"") + &policy(bsi)));
    let (code, text) = check("1796083200"); // 2026-12-01
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("bsic::expired-bsi") && text.contains("2026-11-20"),
        "{text}"
    );
}

/// A group's `models` reach what a device of a model gets: `bsic explain --model`, a policy
/// test's `model`, and `bsic status`, which places a device by the model its report carries
/// and says the model in its verdict. No catalog is needed for any of it.
#[test]
fn models_reach_explain_tests_and_status() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    std::fs::write(
        dir.join("bsic.kdl"),
        "organization \"T\"\nidentifier-prefix \"com.example.t\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("policies/p.kdl"),
        r#"group "phones" { platforms "iOS"; models "iPhone15,*" }
group "new-phones" { platforms "iOS"; models "iPhone18,1" }
policy "a" {
    applies-to "phones"
    platforms "iOS"
    enforce version="26.3.1" by="2027-01-15T09:00:00"
}
policy "b" {
    applies-to "new-phones"
    platforms "iOS"
    enforce version="26.4" by="2027-01-15T09:00:00"
}
"#,
    )
    .unwrap();
    let explain = |model: &str| {
        let out = bsic(
            dir,
            &[
                "explain",
                "--group",
                "phones",
                "--group",
                "new-phones",
                "--platform",
                "iOS",
                "--model",
                model,
                "--format",
                "json",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let new = explain("iPhone18,1");
    assert_eq!(
        new["receives_from"],
        serde_json::json!(["new-phones"]),
        "{new}"
    );
    assert_eq!(new["model"], "iPhone18,1");
    assert_eq!(new["platforms"][0]["enforcement"][0]["version"], "26.4");
    let old = explain("iPhone15,2");
    assert_eq!(
        old["platforms"][0]["enforcement"][0]["version"], "26.3.1",
        "{old}"
    );
    let prefix = bsic(dir, &["explain", "--group", "phones", "--model", "iPhone*"]);
    assert_eq!(prefix.status.code(), Some(2));

    let test = |version: &str| {
        std::fs::write(
            dir.join("tests/m.test.kdl"),
            format!(
                "test \"a new phone gets 26.4\" {{\n    groups \"phones\" \"new-phones\"\n    platform \"iOS\"\n    model \"iPhone18,1\"\n    expect {{\n        enforce version=\"{version}\"\n    }}\n}}\n"
            ),
        )
        .unwrap();
        bsic(dir, &["test"])
    };
    let pass = test("26.4");
    assert!(
        pass.status.success(),
        "{}",
        String::from_utf8_lossy(&pass.stderr)
    );
    assert_eq!(test("26.3.1").status.code(), Some(1));

    let report = serde_json::json!({
        "StatusItems": {
            "device": {
                "identifier": { "serial-number": "P1" },
                "model": { "identifier": "iPhone18,1" },
                "operating-system": { "family": "iOS", "version": "26.4", "build-version": "23E100" }
            }
        },
        "Errors": [],
        "FullReport": true
    });
    std::fs::write(dir.join("reports/p1.json"), report.to_string()).unwrap();
    let out = bsic(dir, &["status", "--reports", "reports", "--format", "json"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let doc: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}{}", String::from_utf8_lossy(&out.stderr)));
    let device = &doc["devices"][0];
    assert_eq!(device["model"], "iPhone18,1", "{doc:#}");
    assert_eq!(
        device["groups"],
        serde_json::json!(["new-phones"]),
        "{doc:#}"
    );
    assert_eq!(device["state"], "compliant", "{doc:#}");
}

/// A profile has no predicate: a group limited by `models` or `os` whose policies also go
/// out as a profile is warned about, once per group; DDM-only policies, or a `fleet` whose
/// devices all read the DDM declaration, leave nothing to warn about.
#[test]
fn a_filtered_group_sent_a_profile_is_warned_about() {
    let policies = |channels: &str| {
        format!(
            r#"group "new-phones" {{ platforms "iOS"; models "iPhone17,1" }}
group "old-macs" {{ platforms "macOS"; os max="15.7" }}
policy "bsi" {{
    applies-to "new-phones" "old-macs"
    {channels}
    background-security allow-rollback=#false
    os-updates notifications=#false
}}
"#
        )
    };
    let warned = |project: &crate::util::Project| {
        let run = project.bsic().args(["check", "--format", "json"]).run();
        run.assert_code(0);
        let mut groups: Vec<String> = run
            .stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|d| d["code"] == "bsic::unfiltered-profile")
            .map(|d| d["message"].as_str().unwrap_or_default().to_string())
            .collect();
        groups.sort();
        groups
    };
    let project = crate::util::Project::base().file("policies/p.kdl", policies(""));
    let found = warned(&project);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].contains("`new-phones`")
            && found[0].contains("`models`")
            && found[0].contains("iOS")
    );
    assert!(
        found[1].contains("`old-macs`") && found[1].contains("`os`") && found[1].contains("macOS")
    );

    let ddm_only =
        crate::util::Project::base().file("policies/p.kdl", policies("channels \"ddm\""));
    assert_eq!(warned(&ddm_only), Vec::<String>::new());

    // Every device new enough for the DDM declaration: no profile, nothing to warn about.
    let modern = crate::util::Project::base().file("policies/p.kdl", policies(""));
    let project_file = std::fs::read_to_string(modern.join("bsic.kdl")).unwrap();
    modern.write(
        "bsic.kdl",
        format!("{project_file}fleet macOS=\"26.0\" iOS=\"26.0\"\n"),
    );
    assert_eq!(warned(&modern), Vec::<String>::new());
}
