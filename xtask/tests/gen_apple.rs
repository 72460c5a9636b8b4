//! Tests of `cargo xtask gen-apple` against the vendored Apple tree and the
//! committed files in `schemas/apple/`.

// Helpers outside `#[test]` functions unwrap too; a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use xtask::apple::{self, Generated, Overlay};

fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf()
    })
}

fn generated() -> &'static Generated {
    static GENERATED: OnceLock<Generated> = OnceLock::new();
    GENERATED.get_or_init(|| apple::generate(root()).unwrap())
}

fn generated_json(name: &str) -> Value {
    let text = generated()
        .files
        .get(name)
        .unwrap_or_else(|| panic!("{name} not generated"));
    serde_json::from_str(text).unwrap()
}

const SETTINGS: &str = "declaration.com.apple.configuration.softwareupdate.settings.schema.json";

fn settings_validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&generated_json(SETTINGS)).unwrap()
}

fn valid_settings() -> Value {
    json!({
        "Type": "com.apple.configuration.softwareupdate.settings",
        "Identifier": "bsic.softwareupdate.settings",
        "ServerToken": "1",
        "Payload": {
            "Notifications": true,
            "Deferrals": {"CombinedPeriodInDays": 30, "MajorPeriodInDays": 90},
            "RecommendedCadence": "Newest",
            "AutomaticActions": {
                "Download": "AlwaysOn",
                "InstallOSUpdates": "Allowed",
                "InstallSecurityUpdate": "AlwaysOn"
            },
            "RapidSecurityResponse": {"Enable": true, "EnableRollback": false},
            "AllowStandardUserOSUpdates": false,
            "Beta": {
                "ProgramEnrollment": "AlwaysOn",
                "OfferPrograms": [{"Description": "Seed", "Token": "t0k3n"}]
            }
        }
    })
}

fn availability() -> Value {
    generated_json("availability.json")
}

/// `generated` with `path` (object keys) replaced by `value`.
fn with(mut document: Value, path: &[&str], value: Value) -> Value {
    let (last, parents) = path.split_last().unwrap();
    let mut node = &mut document;
    for key in parents {
        node = node.get_mut(*key).unwrap();
    }
    node.as_object_mut()
        .unwrap()
        .insert((*last).to_owned(), value);
    document
}

#[test]
fn committed_files_match_a_fresh_generation() {
    let drifted = apple::check(root(), generated()).unwrap();
    assert!(
        drifted.is_empty(),
        "schemas/apple/ is stale; run `cargo xtask gen-apple` and commit:\n{}",
        drifted.join("\n")
    );
}

#[test]
fn generation_is_deterministic() {
    let again = apple::generate(root()).unwrap();
    assert_eq!(again.files, generated().files);
}

#[test]
fn every_schema_compiles_with_the_rust_crate() {
    let mut count = 0;
    for (name, text) in &generated().files {
        if !name.ends_with(".schema.json") {
            continue;
        }
        let schema: Value = serde_json::from_str(text).unwrap();
        jsonschema::meta::validate(&schema)
            .unwrap_or_else(|e| panic!("{name} is not a valid schema: {e}"));
        jsonschema::draft202012::new(&schema)
            .unwrap_or_else(|e| panic!("{name} does not compile: {e}"));
        assert_eq!(
            schema["$id"],
            format!("https://bsic.dev/schemas/apple/{name}"),
            "{name}"
        );
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        count += 1;
    }
    // 38 declaration types and 127 profile payloads in Release_iOS-18-1_macOS-15-1.
    assert!(count >= 160, "only {count} schemas");
}

#[test]
fn every_committed_schema_passes_python_check_schema() {
    let dir = root().join(apple::OUTPUT_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".schema.json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let script = "\
import json, sys
from jsonschema import Draft202012Validator
for path in sys.argv[1:]:
    with open(path) as f:
        Draft202012Validator.check_schema(json.load(f))
print(len(sys.argv) - 1)
";
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .expect("python3 is needed (with the `jsonschema` package)");
    assert!(
        output.status.success(),
        "check_schema failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        files.len().to_string()
    );
}

/// Walks Apple's YAML key list next to the schema built for it.
fn assert_keys_present(keys: &serde_norway::Value, schema: &Value, path: &str) -> usize {
    let mut seen = 0;
    for key in keys.as_sequence().unwrap() {
        let name = key["key"].as_str().unwrap();
        let ty = key["type"].as_str().unwrap();
        let here = format!("{path}.{name}");
        let property = &schema["properties"][name];
        assert!(property.is_object(), "{here} missing from the schema");
        seen += 1;
        if let Some(subkeys) = key.get("subkeys") {
            seen += match ty {
                "<dictionary>" => assert_keys_present(subkeys, property, &here),
                "<array>" => {
                    let item = &subkeys[0];
                    let item_schema = &property["items"];
                    assert!(item_schema.is_object(), "{here} has no items schema");
                    match item.get("subkeys") {
                        Some(item_keys) => 1 + assert_keys_present(item_keys, item_schema, &here),
                        None => 1,
                    }
                }
                other => panic!("{here}: subkeys on {other}"),
            };
        }
    }
    seen
}

#[test]
fn settings_schema_has_every_key_of_apple_yaml() {
    let yaml_path = root()
        .join("apple/device-management/declarative/declarations/configurations/softwareupdate.settings.yaml");
    let yaml: serde_norway::Value =
        serde_norway::from_str(&std::fs::read_to_string(yaml_path).unwrap()).unwrap();
    let schema = generated_json(SETTINGS);
    let payload = &schema["properties"]["Payload"];
    let seen = assert_keys_present(&yaml["payloadkeys"], payload, "Payload");
    assert!(seen >= 20, "walked only {seen} keys");
    assert_eq!(
        schema["properties"]["Type"]["const"],
        "com.apple.configuration.softwareupdate.settings"
    );
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["required"],
        json!(["Type", "Identifier", "ServerToken", "Payload"])
    );
}

#[test]
fn settings_schema_accepts_a_valid_declaration() {
    let validator = settings_validator();
    let errors: Vec<String> = validator
        .iter_errors(&valid_settings())
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let minimal = json!({
        "Type": "com.apple.configuration.softwareupdate.settings",
        "Identifier": "x",
        "ServerToken": "y",
        "Payload": {}
    });
    assert!(validator.is_valid(&minimal));
}

#[test]
fn settings_schema_rejects_bad_declarations() {
    let validator = settings_validator();
    let cases = [
        (
            "InstallSecurityUpdate outside its rangelist",
            with(
                valid_settings(),
                &["Payload", "AutomaticActions", "InstallSecurityUpdate"],
                json!("Sometimes"),
            ),
        ),
        (
            "deferral above the range",
            with(
                valid_settings(),
                &["Payload", "Deferrals", "CombinedPeriodInDays"],
                json!(200),
            ),
        ),
        (
            "deferral below the range",
            with(
                valid_settings(),
                &["Payload", "Deferrals", "MajorPeriodInDays"],
                json!(0),
            ),
        ),
        (
            "unknown nested key",
            with(
                valid_settings(),
                &["Payload", "RapidSecurityResponse", "EnableBSI"],
                json!(true),
            ),
        ),
        (
            "unknown key in an array item",
            with(
                valid_settings(),
                &["Payload", "Beta", "OfferPrograms"],
                json!([{"Description": "d", "Token": "t", "Extra": 1}]),
            ),
        ),
        (
            "wrong value type",
            with(
                valid_settings(),
                &["Payload", "Notifications"],
                json!("yes"),
            ),
        ),
        (
            "other declaration type",
            with(
                valid_settings(),
                &["Type"],
                json!("com.apple.configuration.passcode.settings"),
            ),
        ),
        (
            "unknown envelope key",
            with(valid_settings(), &["Extra"], json!(1)),
        ),
    ];
    for (what, instance) in cases {
        assert!(!validator.is_valid(&instance), "accepted: {what}");
    }
    let mut no_identifier = valid_settings();
    no_identifier.as_object_mut().unwrap().remove("Identifier");
    assert!(!validator.is_valid(&no_identifier));
}

#[test]
fn profile_schemas_include_common_payload_keys() {
    let schema = generated_json("profile.com.apple.applicationaccess.schema.json");
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let payload = json!({
        "PayloadType": "com.apple.applicationaccess",
        "PayloadIdentifier": "bsic.restrictions",
        "PayloadUUID": "5C0A2B9E-8C6E-4E7B-9C8D-3F1A2B3C4D5E",
        "PayloadVersion": 1,
        "PayloadDisplayName": "Restrictions",
        "allowRapidSecurityResponseRemoval": false
    });
    assert!(validator.is_valid(&payload));
    assert!(!validator.is_valid(&with(
        payload.clone(),
        &["PayloadType"],
        json!("com.apple.SoftwareUpdate")
    )));
    assert!(!validator.is_valid(&with(payload.clone(), &["PayloadVersion"], json!(2))));
    let mut no_uuid = payload;
    no_uuid.as_object_mut().unwrap().remove("PayloadUUID");
    assert!(!validator.is_valid(&no_uuid));

    let top = generated_json("profile.TopLevel.schema.json");
    assert_eq!(
        top["properties"]["PayloadType"]["enum"],
        json!(["Configuration"])
    );
}

#[test]
fn recursive_structures_validate_nested_items() {
    let schema = generated_json("profile.com.apple.homescreenlayout.schema.json");
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let folder = |pages: Value| json!({"Type": "Folder", "DisplayName": "F", "Pages": pages});
    let app = json!({"Type": "App", "BundleID": "com.example.app"});
    let layout = |inner: Value| {
        json!({
            "PayloadType": "com.apple.homescreenlayout",
            "PayloadIdentifier": "bsic.hsl",
            "PayloadUUID": "5C0A2B9E-8C6E-4E7B-9C8D-3F1A2B3C4D5E",
            "PayloadVersion": 1,
            "Dock": [folder(json!([[inner.clone()]]))],
            "Pages": [[folder(json!([[inner]]))]]
        })
    };
    assert!(validator.is_valid(&layout(app)));
    assert!(!validator.is_valid(&layout(json!({"Type": "Widget"}))));
    assert!(!validator.is_valid(&layout(json!({"Type": "App", "Colour": "red"}))));
}

#[test]
fn availability_reflects_yaml_inheritance_and_overlay() {
    let table = availability();
    assert_eq!(
        table["source"],
        "apple/device-management (Release_iOS-18-1_macOS-15-1) + apple/overlay.yaml \
         (facts current to Apple release 27.2)"
    );
    let settings = &table["declarations"]["com.apple.configuration.softwareupdate.settings"];
    assert_eq!(
        settings["file"],
        "declarative/declarations/configurations/softwareupdate.settings.yaml"
    );
    assert_eq!(settings["apply"], "combined");
    assert_eq!(
        settings["platforms"]["tvOS"],
        json!({"introduced": "18.4", "allowed-enrollments": ["supervised", "device"], "allowed-scopes": ["system"]})
    );
    assert_eq!(settings["platforms"]["visionOS"]["introduced"], "26.0");
    assert_eq!(
        settings["platforms"]["macOS"],
        json!({"introduced": "15.0", "allowed-enrollments": ["supervised"], "allowed-scopes": ["system"]})
    );

    let keys = &settings["keys"];
    let install = &keys["AutomaticActions.InstallSecurityUpdate"];
    assert_eq!(install["platforms"]["iOS"], json!({"introduced": "n/a"}));
    assert_eq!(install["platforms"]["macOS"]["introduced"], "15.0");
    assert_eq!(
        install["platforms"]["macOS"]["allowed-enrollments"],
        json!(["supervised"])
    );
    assert_eq!(install["type"], "string");
    assert_eq!(install["default"], "Allowed");
    assert_eq!(
        install["rangelist"],
        json!(["Allowed", "AlwaysOn", "AlwaysOff"])
    );
    assert_eq!(install["combinetype"], "enum-last");
    assert_eq!(install["presence"], "optional");

    // Inherited from AutomaticActions (supervised only on iOS), not from the payload.
    assert_eq!(
        keys["AutomaticActions.Download"]["platforms"]["iOS"]["allowed-enrollments"],
        json!(["supervised"])
    );

    let rollback = &keys["RapidSecurityResponse.EnableRollback"]["platforms"];
    assert_eq!(rollback["tvOS"]["introduced"], "18.4");
    assert_eq!(rollback["visionOS"]["introduced"], "26.0");
    assert_eq!(rollback["iOS"]["introduced"], "18.0");
    assert_eq!(
        keys["RapidSecurityResponse"]["title"],
        "Background Security Improvement settings"
    );
    for os in ["iOS", "tvOS", "visionOS"] {
        assert_eq!(
            keys["Deferrals"]["platforms"][os]["allowed-enrollments"],
            json!(["supervised"]),
            "{os}"
        );
    }
    assert_eq!(
        keys["Deferrals.CombinedPeriodInDays"]["range"],
        json!({"min": 1, "max": 90})
    );
    // Array items: the array's path plus the item's key name.
    assert_eq!(keys["Beta.OfferPrograms.Program"]["type"], "dictionary");
    assert_eq!(
        keys["Beta.OfferPrograms.Program.Token"]["presence"],
        "required"
    );

    let restrictions = &table["profiles"]["com.apple.applicationaccess"];
    assert_eq!(restrictions["payloadtype"], "com.apple.applicationaccess");
    for name in [
        "allowRapidSecurityResponseRemoval",
        "allowRapidSecurityResponseInstallation",
    ] {
        let platforms = &restrictions["keys"][name]["platforms"];
        assert_eq!(platforms["iOS"]["deprecated"], "26.0", "{name}");
        assert_eq!(platforms["iOS"]["introduced"], "16.0", "{name}");
        assert_eq!(platforms["iOS"]["supervised"], true, "{name}");
        assert_eq!(platforms["macOS"]["deprecated"], "26.0", "{name}");
        assert_eq!(platforms["tvOS"], json!({"introduced": "n/a"}), "{name}");
        assert_eq!(restrictions["keys"][name]["type"], "boolean");
    }

    let recursive = &table["profiles"]["com.apple.homescreenlayout"]["keys"];
    assert_eq!(
        recursive["Dock.IconItem.Pages.PagesItem"]["same-as"],
        "Dock"
    );
}

fn overlay(yaml: &str) -> Overlay {
    serde_norway::from_str(yaml).unwrap()
}

#[test]
fn overlay_errors_name_the_entry() {
    let (mut corpus, _) = apple::load(root()).unwrap();
    let cases = [
        ("base: Release_iOS-99-0_macOS-99-0\n", "update `base`"),
        (
            "base: Release_iOS-18-1_macOS-15-1
overrides:
  - declaration: com.apple.configuration.softwareupdate.settings
    key: RapidSecurityResponse.NoSuchKey
    set: {title: x}
    why: test
",
            "override #1 (declaration com.apple.configuration.softwareupdate.settings, key RapidSecurityResponse.NoSuchKey): no key",
        ),
        (
            "base: Release_iOS-18-1_macOS-15-1
overrides:
  - profile: com.apple.MCX
    set: {title: x}
    why: test
",
            "select one with `file`",
        ),
        (
            "base: Release_iOS-18-1_macOS-15-1
overrides:
  - declaration: com.apple.configuration.softwareupdate.settings
    set: {}
    why: test
",
            "changes nothing",
        ),
    ];
    for (yaml, expected) in cases {
        let message = overlay(yaml).apply(&mut corpus).unwrap_err().to_string();
        assert!(message.contains(expected), "{message}");
    }
    let unknown_field = serde_norway::from_str::<Overlay>(
        "base: x\noverrides:\n  - file: a.yaml\n    set: {presence: required}\n    why: t\n",
    );
    assert!(unknown_field.is_err());
}

#[test]
fn overlay_entries_already_in_apple_yaml_are_reported() {
    let (mut corpus, notes) = apple::load(root()).unwrap();
    assert!(notes.is_empty(), "{notes:?}");
    let redundant = overlay(
        "base: Release_iOS-18-1_macOS-15-1
overrides:
  - file: declarative/declarations/configurations/softwareupdate.settings.yaml
    key: Deferrals
    set:
      supportedOS:
        iOS: {allowed-enrollments: [supervised]}
    why: already in Apple's YAML
",
    );
    let notes = redundant.apply(&mut corpus).unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("changes nothing"), "{}", notes[0]);
}

#[test]
fn yaml_errors_name_file_and_key() {
    let bad = "title: T
payload:
  declarationtype: com.example.test
payloadkeys:
- key: Outer
  type: <dictionary>
  subkeys:
  - key: Inner
    type: <strnig>
";
    let error = apple::model::parse_document(bad).unwrap_err().to_string();
    assert!(error.contains("Outer.Inner"), "{error}");
    assert!(error.contains("<strnig>"), "{error}");

    let unknown = "title: T
payload:
  declarationtype: com.example.test
payloadkeys:
- key: Outer
  type: <string>
  colour: red
";
    let error = apple::model::parse_document(unknown)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("Outer") && error.contains("colour"),
        "{error}"
    );
}

#[test]
fn the_overlay_never_overrules_apples_yaml_silently() {
    // Apple's YAML alone, without bsic's overlay applied.
    let corpus = apple::Corpus::load(root()).unwrap();
    let cases = [
        (
            // Apple's YAML marks tvOS n/a; overriding it without recording that is refused.
            "base: Release_iOS-18-1_macOS-15-1
overrides:
  - declaration: com.apple.configuration.softwareupdate.settings
    set: {supportedOS: {tvOS: {introduced: '18.4'}}}
    why: test
",
            "overrides Apple's \"n/a\" with \"18.4\" silently",
        ),
        (
            // A review record the YAML no longer matches: a newer release moved the fact.
            "base: Release_iOS-18-1_macOS-15-1
overrides:
  - declaration: com.apple.configuration.softwareupdate.settings
    set: {supportedOS: {macOS: {introduced: '15.4'}}}
    was: {supportedOS: {macOS: {introduced: '14.0'}}}
    why: test
",
            "Apple's YAML now says \"15.0\", not \"14.0\"",
        ),
        (
            "base: Release_iOS-18-1_macOS-15-1
overrides:
  - declaration: com.apple.configuration.softwareupdate.settings
    key: Notifications
    set: {supportedOS: {macOS: {deprecated: '27.0'}}}
    was: {supportedOS: {macOS: {deprecated: '26.0'}}}
    why: test
",
            "Apple's YAML says nothing there",
        ),
        (
            "base: Release_iOS-18-1_macOS-15-1
overrides:
  - profile: com.apple.SoftwareUpdate
    set: {replaced-by: x}
    why: test
    source: [nowhere]
",
            "source `nowhere` is not listed",
        ),
        (
            "base: Release_iOS-18-1_macOS-15-1
status-items:
  - name: softwareupdate.install-state
    title: t
    file: declarative/status/softwareupdate.install-state.yaml
    supportedOS: {macOS: {introduced: '14.0'}}
",
            "defined by Apple's YAML now",
        ),
    ];
    for (yaml, expected) in cases {
        let message = overlay(yaml)
            .apply(&mut corpus.clone())
            .unwrap_err()
            .to_string();
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn every_overlay_fact_names_its_source_and_release() {
    let overlay = Overlay::load(root()).unwrap();
    assert_eq!(overlay.current.as_deref(), Some("27.2"));
    for (index, entry) in overlay.overrides.iter().enumerate() {
        assert!(
            !entry.source.is_empty(),
            "override #{} cites no source",
            index + 1
        );
    }
    for item in &overlay.status_items {
        assert!(
            !item.source.is_empty(),
            "status item {} cites no source",
            item.name
        );
    }
    let sources = root().join("apple/SOURCES.md");
    let text = std::fs::read_to_string(sources).unwrap();
    for id in overlay.sources.keys() {
        assert!(
            text.contains(&format!("`{id}`")),
            "apple/SOURCES.md does not describe `{id}`"
        );
    }
}

#[test]
fn removals_reach_the_table_with_their_replacement() {
    let table = availability();
    let payload = &table["profiles"]["com.apple.SoftwareUpdate"];
    assert_eq!(payload["platforms"]["macOS"]["deprecated"], "26.0");
    assert_eq!(payload["platforms"]["macOS"]["removed"], "27.0");
    assert_eq!(
        payload["replaced-by"],
        "com.apple.configuration.softwareupdate.settings"
    );
    let rsr = &table["profiles"]["com.apple.applicationaccess"]["keys"]["allowRapidSecurityResponseInstallation"];
    assert_eq!(rsr["platforms"]["iOS"]["removed"], "27.0");
    assert!(
        rsr["replaced-by"]
            .as_str()
            .unwrap()
            .contains("RapidSecurityResponse.Enable")
    );
    assert_eq!(
        table["status-items"]["mdm.enrollment-type"]["platforms"]["iOS"]["introduced"],
        "27.0"
    );
}
