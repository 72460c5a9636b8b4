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
