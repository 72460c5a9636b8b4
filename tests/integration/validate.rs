//! `bsic validate` and `bsic import` on raw declarations and profiles: the fixture corpus
//! (`tests/fixtures/validate/`), cross-file rules, availability, and the import round trip.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::{Bsic, Project, repo};

fn validate(cwd: &Path, args: &[&str]) -> crate::util::Run {
    Bsic::new(cwd).arg("validate").args(args).run()
}

fn codes(run: &crate::util::Run) -> Vec<(String, String, String)> {
    run.diagnostics()
        .unwrap()
        .iter()
        .map(|d| {
            let loc = &d["location"];
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_str().unwrap_or_default().to_string(),
                format!("{}:{}", loc["line"], loc["column"]),
            )
        })
        .collect()
}

#[test]
fn good_fixtures_validate_clean() {
    let run = validate(&repo("tests/fixtures/validate"), &["good"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("validated 5 files: 0 errors"),
        "{}",
        run.describe()
    );
}

#[test]
fn every_bad_fixture_fails_at_its_place() {
    let dir = repo("tests/fixtures/validate/bad");
    let expected = fs::read_to_string(dir.join("EXPECTED")).unwrap();
    let mut failures = Vec::new();
    let mut listed = Vec::new();
    for line in expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [file, code, at] = fields[..] else {
            panic!("bad EXPECTED line: {line}");
        };
        listed.push(file.to_string());
        let json = validate(&dir, &[file, "--format", "json"]);
        if json.code != Some(1) || json.crash_text().is_some() {
            failures.push(format!("{file}: exit {:?}\n{}", json.code, json.describe()));
            continue;
        }
        let found = codes(&json);
        if !found
            .iter()
            .any(|(c, s, l)| c == code && s == "error" && l == at)
        {
            failures.push(format!("{file}: want {code} at {at}, got {found:?}"));
        }
        // The human report names the file with line and column too.
        let human = validate(&dir, &[file]);
        if !human.stderr.contains(&format!("{file}:{at}")) {
            failures.push(format!(
                "{file}: human report lacks {file}:{at}\n{}",
                human.stderr
            ));
        }
    }
    let mut on_disk: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "EXPECTED")
        .collect();
    on_disk.sort();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every bad fixture is listed in EXPECTED once"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn all_problems_of_a_file_are_reported_in_one_run() {
    let project = Project::empty().file(
        "d.json",
        r#"{
  "Type": "com.apple.configuration.softwareupdate.settings",
  "Identifier": "x",
  "ServerToken": "1",
  "Payload": {
    "AutomaticActions": {"InstallSecurityUpdate": "Sometimes"},
    "Deferrals": {"MinorPeriodInDays": 200},
    "RapidSecurityResponse": {"EnableRollbak": false, "Enable": "no"}
  }
}"#,
    );
    let run = validate(project.path(), &["d.json", "--format", "json"]);
    run.assert_code(1);
    let found: Vec<String> = codes(&run)
        .into_iter()
        .map(|(c, _, at)| format!("{c} {at}"))
        .collect();
    assert_eq!(
        found,
        [
            "bsic::invalid-value 6:51",
            "bsic::out-of-range 7:40",
            "bsic::unknown-property 8:31",
            "bsic::wrong-type 8:65",
        ],
        "{}",
        run.describe()
    );
    let diagnostics = run.diagnostics().unwrap();
    assert_eq!(diagnostics[2]["help"], "did you mean `EnableRollback`?");
}

#[test]
fn cross_file_rules() {
    let settings = |id: &str, install: &str| {
        format!(
            r#"{{"Type": "com.apple.configuration.softwareupdate.settings", "Identifier": "{id}",
 "ServerToken": "1", "Payload": {{"AutomaticActions": {{"InstallSecurityUpdate": "{install}"}}}}}}"#
        )
    };
    let restrictions = |camera: bool| {
        let mut dict = plist::Dictionary::new();
        dict.insert("PayloadType".into(), "com.apple.applicationaccess".into());
        dict.insert("PayloadIdentifier".into(), "com.example.r".into());
        dict.insert(
            "PayloadUUID".into(),
            "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D".into(),
        );
        dict.insert("PayloadVersion".into(), 1.into());
        dict.insert("allowCamera".into(), camera.into());
        let mut top = plist::Dictionary::new();
        top.insert("PayloadType".into(), "Configuration".into());
        top.insert("PayloadIdentifier".into(), "com.example.p".into());
        top.insert(
            "PayloadUUID".into(),
            "6F1D2C4A-0B5E-4C1D-9A8B-2E3F4A5B6C7D".into(),
        );
        top.insert("PayloadVersion".into(), 1.into());
        top.insert(
            "PayloadContent".into(),
            plist::Value::Array(vec![plist::Value::Dictionary(dict)]),
        );
        let mut bytes = Vec::new();
        plist::Value::Dictionary(top)
            .to_writer_xml(&mut bytes)
            .unwrap();
        bytes
    };
    let project = Project::empty()
        .file("a.json", settings("com.example.a", "AlwaysOn"))
        .file("b.json", settings("com.example.b", "AlwaysOff"))
        .file("c.json", settings("com.example.a", "AlwaysOn"))
        .file(
            "activation.json",
            r#"{"Type": "com.apple.activation.simple", "Identifier": "com.example.act",
 "ServerToken": "1", "Payload": {"StandardConfigurations": ["com.example.a", "com.example.gone"]}}"#,
        )
        .file("r1.mobileconfig", restrictions(true))
        .file("r2.mobileconfig", restrictions(false))
        .file("notes/other.json", r#"{"name": "not a declaration"}"#);
    let run = validate(project.path(), &["--format", "json"]);
    run.assert_code(1);
    let found: Vec<(String, String)> = codes(&run).into_iter().map(|(c, s, _)| (c, s)).collect();
    for (code, severity) in [
        ("bsic::duplicate-identifier", "error"),
        ("bsic::missing-configuration", "warning"),
        ("bsic::managed-twice", "warning"),
        ("bsic::contradicting-settings", "warning"),
    ] {
        assert!(
            found.contains(&(code.to_string(), severity.to_string())),
            "{code} missing: {found:?}"
        );
    }
    // A JSON file that is no declaration, found in a directory, is skipped; named, it is warned
    // about (pre-commit hooks pass every changed *.json).
    let named = validate(project.path(), &["notes/other.json"]);
    named.assert_code(0);
    assert!(
        named.stderr.contains("bsic::not-recognized"),
        "{}",
        named.describe()
    );
}

/// Two profiles in one run may share neither their `PayloadIdentifier` (installing the second
/// replaces the first) nor any `PayloadUUID`; each repeat is an error at the second file.
#[test]
fn profiles_in_different_files_share_no_identifier_or_uuid() {
    let profile = |id: &str, uuid: &str, item_uuid: &str| {
        let mut dict = plist::Dictionary::new();
        dict.insert("PayloadType".into(), "com.apple.applicationaccess".into());
        dict.insert("PayloadIdentifier".into(), format!("{id}.r").into());
        dict.insert("PayloadUUID".into(), item_uuid.into());
        dict.insert("PayloadVersion".into(), 1.into());
        let mut top = plist::Dictionary::new();
        top.insert("PayloadType".into(), "Configuration".into());
        top.insert("PayloadIdentifier".into(), id.into());
        top.insert("PayloadUUID".into(), uuid.into());
        top.insert("PayloadVersion".into(), 1.into());
        top.insert(
            "PayloadContent".into(),
            plist::Value::Array(vec![plist::Value::Dictionary(dict)]),
        );
        let mut bytes = Vec::new();
        plist::Value::Dictionary(top)
            .to_writer_xml(&mut bytes)
            .unwrap();
        bytes
    };
    const A: &str = "AAAAAAAA-2222-3333-4444-555555555555";
    const B: &str = "BBBBBBBB-2222-3333-4444-555555555555";
    const C: &str = "CCCCCCCC-2222-3333-4444-555555555555";
    const D: &str = "DDDDDDDD-2222-3333-4444-555555555555";
    let distinct = Project::empty()
        .file("a.mobileconfig", profile("com.example.a", A, B))
        .file("b.mobileconfig", profile("com.example.b", C, D));
    validate(distinct.path(), &["."]).assert_code(0);
    for (what, second) in [
        ("PayloadIdentifier", profile("com.example.a", C, D)),
        ("profile PayloadUUID", profile("com.example.b", A, D)),
        ("payload PayloadUUID", profile("com.example.b", C, B)),
        (
            "a payload with the other profile's UUID",
            profile("com.example.b", C, A),
        ),
    ] {
        let project = Project::empty()
            .file("a.mobileconfig", profile("com.example.a", A, B))
            .file("b.mobileconfig", second);
        let run = validate(project.path(), &["--format", "json"]);
        run.assert_code(1);
        let diagnostics = run.diagnostics().unwrap();
        assert!(
            diagnostics
                .iter()
                .any(|d| d["code"] == "bsic::duplicate-payload-id"
                    && d["location"]["file"]
                        .as_str()
                        .is_some_and(|f| f.ends_with("b.mobileconfig"))),
            "{what}: {}",
            run.describe()
        );
    }
}

#[test]
fn availability_for_a_platform_and_fleet() {
    let project = Project::empty().file(
        "su.json",
        r#"{"Type": "com.apple.configuration.softwareupdate.settings", "Identifier": "x",
 "ServerToken": "1", "Payload": {"AutomaticActions": {"InstallSecurityUpdate": "AlwaysOn"}}}"#,
    );
    let run = validate(
        project.path(),
        &[
            "su.json",
            "--platform",
            "iOS",
            "--min-os",
            "17.0",
            "--format",
            "json",
        ],
    );
    run.assert_code(0);
    let found: Vec<String> = codes(&run).into_iter().map(|(c, _, _)| c).collect();
    assert!(
        found.contains(&"bsic::unavailable-on-platform".to_string()),
        "{found:?}"
    );
    // Without --platform, the `fleet` of the bsic.kdl above the working directory applies;
    // --platform overrides it.
    let project = project.file(
        "bsic.kdl",
        "organization \"Example\"\nidentifier-prefix \"com.example\"\nfleet iOS=\"17.0\"\n",
    );
    let run = validate(project.path(), &["su.json", "--format", "json"]);
    run.assert_code(0);
    let from_fleet = run.diagnostics().unwrap();
    assert!(
        from_fleet
            .iter()
            .any(|d| d["code"] == "bsic::unavailable-on-platform"
                && d["message"].as_str().unwrap_or("").contains("iOS")),
        "{}",
        run.describe()
    );
    let run = validate(
        project.path(),
        &["su.json", "--platform", "macOS", "--format", "json"],
    );
    let on_macos: Vec<String> = codes(&run).into_iter().map(|(c, _, _)| c).collect();
    assert!(
        !on_macos.contains(&"bsic::unavailable-on-platform".to_string()),
        "{on_macos:?}"
    );
    // A bsic.kdl that does not validate is `bsic check`'s to report: validate says once that
    // it goes on without the fleet, and judges the files as without a project.
    let broken = Project::empty()
        .file(
            "bsic.kdl",
            "organization \"Example\"\nfleet iOS=\"seventeen\"\n",
        )
        .file(
            "su.json",
            r#"{"Type": "com.apple.configuration.softwareupdate.settings", "Identifier": "x",
 "ServerToken": "1", "Payload": {"AutomaticActions": {"InstallSecurityUpdate": "AlwaysOn"}}}"#,
        );
    let run = validate(broken.path(), &["su.json"]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("validating without its `fleet`"),
        "{}",
        run.describe()
    );
    assert!(
        !run.stderr.contains("unavailable-on-platform"),
        "{}",
        run.describe()
    );
    // Without a `fleet` node there is nothing to go on without: the project file is not
    // validated here, and its errors are left to `bsic check`.
    let unrelated = Project::empty().file("bsic.kdl", "organization 5\n").file(
        "su.json",
        std::fs::read_to_string(broken.path().join("su.json")).unwrap(),
    );
    let run = validate(unrelated.path(), &["su.json"]);
    run.assert_code(0);
    assert!(!run.stderr.contains("bsic.kdl"), "{}", run.describe());
    // The acceptance's valid profile carries RSR restrictions Apple deprecated in OS 26.
    let good = repo("tests/fixtures/validate/bad");
    let run = validate(
        &good,
        &["restrictions-type.mobileconfig", "--format", "json"],
    );
    let deprecated = run
        .diagnostics()
        .unwrap()
        .into_iter()
        .find(|d| d["code"] == "bsic::deprecated")
        .expect("a deprecation warning");
    assert!(
        deprecated["help"].as_str().unwrap().contains("26.0"),
        "{deprecated}"
    );
}

/// A profile holding Apple's removed `com.apple.SoftwareUpdate` payload: deprecated from
/// macOS 26.0, removed in 27.0, and the diagnostic names the declaration to use instead.
#[test]
fn removed_payloads_are_reported_with_their_replacement() {
    let profile = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>PayloadContent</key>
    <array>
        <dict>
            <key>AutomaticCheckEnabled</key>
            <true/>
            <key>PayloadIdentifier</key>
            <string>com.example.su.p</string>
            <key>PayloadType</key>
            <string>com.apple.SoftwareUpdate</string>
            <key>PayloadUUID</key>
            <string>CCCCCCCC-2222-3333-4444-555555555555</string>
            <key>PayloadVersion</key>
            <integer>1</integer>
        </dict>
    </array>
    <key>PayloadDisplayName</key>
    <string>su</string>
    <key>PayloadIdentifier</key>
    <string>com.example.su</string>
    <key>PayloadType</key>
    <string>Configuration</string>
    <key>PayloadUUID</key>
    <string>BBBBBBBB-2222-3333-4444-555555555555</string>
    <key>PayloadVersion</key>
    <integer>1</integer>
</dict>
</plist>
"#;
    let project = Project::empty().file("su.mobileconfig", profile);
    let run_for = |min_os: &str| {
        let run = validate(
            project.path(),
            &[
                "su.mobileconfig",
                "--platform",
                "macOS",
                "--min-os",
                min_os,
                "--format",
                "json",
            ],
        );
        run.assert_code(0);
        run.diagnostics().unwrap()
    };
    let replacement = "com.apple.configuration.softwareupdate.settings";
    let before = run_for("15.0");
    assert!(
        !before.iter().any(|d| d["code"] == "bsic::deprecated"),
        "{before:?}"
    );
    let deprecated = run_for("26.1");
    assert_eq!(deprecated.len(), 1, "{deprecated:?}");
    assert_eq!(deprecated[0]["code"], "bsic::deprecated");
    assert!(
        deprecated[0]["help"]
            .as_str()
            .unwrap_or("")
            .contains(replacement),
        "{deprecated:?}"
    );
    let removed = run_for("27.0");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["code"], "bsic::unavailable-on-platform");
    let help = removed[0]["help"].as_str().unwrap_or("");
    assert!(
        help.contains("removed in macOS 27.0") && help.contains(replacement),
        "{help}"
    );
}

#[test]
fn binary_plists_are_validated_without_positions() {
    let source = repo("tests/fixtures/validate/good/restrictions.mobileconfig");
    let value = plist::Value::from_file(&source).unwrap();
    let project = Project::empty();
    value
        .to_file_binary(project.join("good.mobileconfig"))
        .unwrap();
    validate(project.path(), &["good.mobileconfig"]).assert_code(0);
    let bad = repo("tests/fixtures/validate/bad/unknown-key.mobileconfig");
    plist::Value::from_file(&bad)
        .unwrap()
        .to_file_binary(project.join("bad.mobileconfig"))
        .unwrap();
    let run = validate(project.path(), &["bad.mobileconfig"]);
    run.assert_code(1);
    assert!(
        run.stderr.contains("bad.mobileconfig"),
        "{}",
        run.describe()
    );
}

#[test]
fn hostile_inputs_fail_cleanly() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let project = Project::empty()
        .file("deep.json", deep)
        .file("empty.json", "")
        .file("bom.json", "\u{feff}{\"Type\": 1}")
        .file("comments.json", "// hi\n{}")
        .file("nul.mobileconfig", "\0\0\0")
        .file(
            "crlf.mobileconfig",
            "<plist>\r\n<dict>\r\n<key>A</key>\r\n</dict>\r\n</plist>\r\n",
        );
    for name in [
        "deep.json",
        "empty.json",
        "bom.json",
        "comments.json",
        "nul.mobileconfig",
        "crlf.mobileconfig",
    ] {
        let run = validate(project.path(), &[name]);
        run.assert_code(1);
        assert!(run.crash_text().is_none(), "{}", run.describe());
    }
}

fn settings_payload(dist: &Path) -> Vec<Value> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(dist) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "json") {
            let value: Value = serde_json::from_slice(&fs::read(entry.path()).unwrap()).unwrap();
            if value["Type"] == "com.apple.configuration.softwareupdate.settings" {
                found.push(value["Payload"].clone());
            }
        }
    }
    found
}

fn import_project() -> Project {
    Project::empty().file(
        "bsic.kdl",
        "organization \"Test\"\nidentifier-prefix \"com.example.test\"\npolicies \"policies/**/*.kdl\"\n",
    )
}

#[test]
fn import_round_trips_settings() {
    let payloads = [
        serde_json::json!({"AutomaticActions": {"InstallSecurityUpdate": "AlwaysOn"},
            "RapidSecurityResponse": {"Enable": true, "EnableRollback": false}}),
        serde_json::json!({"AutomaticActions": {"Download": "AlwaysOn", "InstallOSUpdates": "Allowed"},
            "Deferrals": {"MajorPeriodInDays": 30, "MinorPeriodInDays": 7},
            "Notifications": true, "AllowStandardUserOSUpdates": false}),
        serde_json::json!({"Beta": {"ProgramEnrollment": "AlwaysOff"}, "RecommendedCadence": "Oldest"}),
    ];
    for payload in payloads {
        let project = import_project();
        let declaration = serde_json::json!({
            "Type": "com.apple.configuration.softwareupdate.settings",
            "Identifier": "com.example.original", "ServerToken": "1", "Payload": payload,
        });
        project.write("in/su.json", declaration.to_string());
        project
            .bsic()
            .args(["import", "in/su.json"])
            .run()
            .assert_code(0);
        let dist = project.join("dist");
        project.build_ok(&dist);
        let built = settings_payload(&dist);
        assert!(
            built.contains(&payload),
            "{payload} not among {built:?}\n{}",
            fs::read_to_string(project.join("policies/imported.kdl")).unwrap()
        );
    }
}

/// Every settings key `bsic keys` lists: a declaration with just that key (and what it needs
/// beside it) imports into a policy that builds, and the built declaration carries the key
/// with the same value.
#[test]
fn every_settings_key_imports_and_builds_to_the_same_value() {
    let keys = Project::empty().bsic().args(["keys", "--json"]).run();
    keys.assert_code(0);
    let keys: Vec<Value> = serde_json::from_str(&keys.stdout).unwrap();
    let settings: Vec<&Value> = keys
        .iter()
        .filter(|k| k["payload"] == "com.apple.configuration.softwareupdate.settings")
        .collect();
    assert!(settings.len() >= 15, "{settings:?}");
    let program = serde_json::json!({"Description": "Beta", "Token": "tok"});
    for key in settings {
        let name = key["key"].as_str().unwrap();
        let values = key["values"].as_str().unwrap();
        let value = match values {
            "boolean" => Value::from(false),
            "1..90" => Value::from(30),
            "array" => Value::from(vec![program.clone()]),
            "dictionary" => program.clone(),
            list => Value::from(list.rsplit('|').next().unwrap()),
        };
        let mut payload = serde_json::json!({});
        let pointer = format!("/{}", name.replace('.', "/"));
        let (parent, leaf) = name.rsplit_once('.').map_or(("", name), |(p, l)| (p, l));
        let slot = if parent.is_empty() {
            &mut payload
        } else {
            payload[parent] = serde_json::json!({});
            &mut payload[parent]
        };
        slot[leaf] = value.clone();
        // Beta programs only go with an enrollment that admits them.
        if name.starts_with("Beta.") && name != "Beta.ProgramEnrollment" {
            payload["Beta"]["ProgramEnrollment"] = "AlwaysOn".into();
        }
        let project = import_project();
        let declaration = serde_json::json!({
            "Type": "com.apple.configuration.softwareupdate.settings",
            "Identifier": "com.example.original", "ServerToken": "1", "Payload": payload,
        });
        project.write("in/su.json", declaration.to_string());
        let run = project.bsic().args(["import", "in/su.json"]).run();
        assert_eq!(run.code, Some(0), "{name}: {}", run.describe());
        assert_import_builds_to(&project, name, &pointer, &value);
    }
}

/// Builds what `bsic import` wrote in `project` and asserts that a settings declaration of
/// the build holds `value` at `pointer` (what `case` names in failure messages).
fn assert_import_builds_to(project: &Project, case: &str, pointer: &str, value: &Value) {
    let dist = project.join("dist");
    let build = project.bsic().arg("build").arg("--out").arg(&dist).run();
    assert_eq!(
        build.code,
        Some(0),
        "{case}: the import does not build\n{}\n{}",
        fs::read_to_string(project.join("policies/imported.kdl")).unwrap(),
        build.describe()
    );
    let built = settings_payload(&dist);
    assert!(
        built.iter().any(|p| p.pointer(pointer) == Some(value)),
        "{case}: no {pointer} = {value} among {built:?}"
    );
}

#[test]
fn import_round_trips_enforcement() {
    let project = import_project().file(
        "e.json",
        r#"{"Type": "com.apple.configuration.softwareupdate.enforcement.specific", "Identifier": "e",
 "ServerToken": "1", "Payload": {"TargetOSVersion": "26.3.1", "TargetLocalDateTime": "2027-04-01T09:00:00",
 "DetailsURL": "https://it.example.com/u"}}"#,
    );
    project
        .bsic()
        .args(["import", "e.json"])
        .run()
        .assert_code(0);
    let dist = project.join("dist");
    project.build_ok(&dist);
    let mut found = false;
    for entry in walkdir::WalkDir::new(&dist) {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "json") {
            let value: Value = serde_json::from_slice(&fs::read(entry.path()).unwrap()).unwrap();
            found |= value["Payload"]["TargetOSVersion"] == "26.3.1"
                && value["Payload"]["TargetLocalDateTime"] == "2027-04-01T09:00:00";
        }
    }
    assert!(found);
}

/// Every legacy profile key `bsic import` maps: a profile with just that key imports into a
/// policy that builds, and the built settings declaration carries the mapped key and value.
/// (A key whose DDM equivalent Apple's data gives no availability on the profile's platform
/// is reported and left out rather than turned into a policy the builder refuses.)
#[test]
fn every_imported_profile_key_builds_to_the_same_setting() {
    const RESTRICTIONS: &str = "com.apple.applicationaccess";
    const SOFTWARE_UPDATE: &str = "com.apple.SoftwareUpdate";
    /// (payload type, legacy key, its value, the Apple settings key and value it becomes)
    type Case = (
        &'static str,
        &'static str,
        Value,
        Option<(&'static str, Value)>,
    );
    let cases: &[Case] = &[
        (
            RESTRICTIONS,
            "allowRapidSecurityResponseInstallation",
            false.into(),
            Some(("RapidSecurityResponse.Enable", false.into())),
        ),
        (
            RESTRICTIONS,
            "allowRapidSecurityResponseRemoval",
            false.into(),
            Some(("RapidSecurityResponse.EnableRollback", false.into())),
        ),
        (
            RESTRICTIONS,
            "enforcedSoftwareUpdateDelay",
            30.into(),
            Some(("Deferrals.CombinedPeriodInDays", 30.into())),
        ),
        (
            RESTRICTIONS,
            "enforcedSoftwareUpdateMajorOSDeferredInstallDelay",
            60.into(),
            Some(("Deferrals.MajorPeriodInDays", 60.into())),
        ),
        (
            RESTRICTIONS,
            "enforcedSoftwareUpdateMinorOSDeferredInstallDelay",
            14.into(),
            Some(("Deferrals.MinorPeriodInDays", 14.into())),
        ),
        (
            RESTRICTIONS,
            "enforcedSoftwareUpdateNonOSDeferredInstallDelay",
            7.into(),
            Some(("Deferrals.SystemPeriodInDays", 7.into())),
        ),
        (
            SOFTWARE_UPDATE,
            "AutomaticDownload",
            true.into(),
            Some(("AutomaticActions.Download", "AlwaysOn".into())),
        ),
        (
            SOFTWARE_UPDATE,
            "AutomaticallyInstallMacOSUpdates",
            false.into(),
            Some(("AutomaticActions.InstallOSUpdates", "AlwaysOff".into())),
        ),
        (
            SOFTWARE_UPDATE,
            "CriticalUpdateInstall",
            true.into(),
            Some(("AutomaticActions.InstallSecurityUpdate", "AlwaysOn".into())),
        ),
        (
            SOFTWARE_UPDATE,
            "AllowPreReleaseInstallation",
            false.into(),
            Some(("Beta.ProgramEnrollment", "AlwaysOff".into())),
        ),
        // Implied (the default): nothing to carry over, and said so.
        (SOFTWARE_UPDATE, "AutomaticCheckEnabled", true.into(), None),
    ];
    for (payload_type, key, value, expected) in cases {
        let project = import_project();
        let mut payload = serde_json::json!({
            "PayloadType": payload_type, "PayloadIdentifier": "com.example.p",
            "PayloadUUID": "CCCCCCCC-2222-3333-4444-555555555555", "PayloadVersion": 1,
        });
        payload[*key] = value.clone();
        let profile = serde_json::json!({
            "PayloadType": "Configuration", "PayloadIdentifier": "com.example.profile",
            "PayloadUUID": "BBBBBBBB-2222-3333-4444-555555555555", "PayloadVersion": 1,
            "PayloadDisplayName": "imported", "PayloadContent": [payload],
        });
        let mut bytes = Vec::new();
        plist::to_writer_xml(&mut bytes, &profile).unwrap();
        project.write("in/p.mobileconfig", bytes);
        let run = project
            .bsic()
            .args(["import", "in/p.mobileconfig", "--group", "macs"])
            .run();
        let Some((apple_key, apple_value)) = expected else {
            assert!(
                run.stderr.contains("nothing written"),
                "{key}: {}",
                run.describe()
            );
            continue;
        };
        run.assert_code(0);
        let pointer = format!("/{}", apple_key.replace('.', "/"));
        assert_import_builds_to(&project, key, &pointer, apple_value);
    }
}

#[test]
fn import_reports_unmapped_keys_and_refuses_to_overwrite() {
    let project = import_project();
    fs::copy(
        repo("tests/fixtures/validate/good/restrictions.mobileconfig"),
        project.join("r.mobileconfig"),
    )
    .unwrap();
    let run = project.bsic().args(["import", "r.mobileconfig"]).run();
    run.assert_code(0);
    assert!(
        run.stderr.contains("bsic::not-imported"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("allowCamera"), "{}", run.describe());
    let written = fs::read_to_string(project.join("policies/imported.kdl")).unwrap();
    assert!(written.contains("download \"always-on\""), "{written}");
    project.bsic().arg("check").run().assert_code(0);
    let again = project.bsic().args(["import", "r.mobileconfig"]).run();
    again.assert_code(2);
    assert!(again.stderr.contains("--force"), "{}", again.describe());
    assert_eq!(
        fs::read_to_string(project.join("policies/imported.kdl")).unwrap(),
        written
    );
    project
        .bsic()
        .args(["import", "r.mobileconfig", "--force", "--group", "all"])
        .run()
        .assert_code(0);
    // Invalid input is never imported.
    let bad = project
        .bsic()
        .args(["import", "--out", "policies/bad.kdl"])
        .arg(repo("tests/fixtures/validate/bad/enum.json"))
        .run();
    bad.assert_code(1);
    assert!(!project.join("policies/bad.kdl").exists());
}

#[test]
fn signed_profiles_are_verified_then_validated() {
    let project = Project::reference();
    crate::util::self_signed_p256(project.path(), "signer", "/CN=validate");
    project
        .bsic()
        .args([
            "build",
            "--out",
            "dist",
            "--sign-cert",
            "signer.pem",
            "--sign-key",
            "signer.key",
        ])
        .run()
        .assert_code(0);
    let run = validate(project.path(), &["dist"]);
    run.assert_code(0);
    let profile = walkdir::WalkDir::new(project.join("dist"))
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .find(|p| p.extension().is_some_and(|e| e == "mobileconfig"))
        .expect("a signed profile");
    let mut bytes = fs::read(&profile).unwrap();
    let at = bytes
        .windows(7)
        .position(|w| w == b"<string")
        .expect("plist text inside the signature");
    bytes[at + 1] = b'S';
    fs::write(&profile, bytes).unwrap();
    let run = validate(
        project.path(),
        &[profile.to_str().unwrap(), "--format", "json"],
    );
    run.assert_code(1);
    let found: Vec<String> = codes(&run).into_iter().map(|(c, _, _)| c).collect();
    assert_eq!(found, ["bsic::bad-profile-signature"], "{}", run.describe());
}

#[test]
fn the_fleet_gitops_example_validates_clean() {
    let run = validate(
        &repo("examples"),
        &["fleet-gitops", "--platform", "macOS", "--min-os", "15.0"],
    );
    run.assert_code(0);
    assert!(
        run.stderr.contains("validated 5 files: 0 errors"),
        "{}",
        run.describe()
    );
}
