//! Unit tests of `bsic validate`'s checks on raw declarations and profiles.

//! The mutation corpus: from Apple's generated schemas, for every declaration type and
//! profile payload type, files with an unknown key, a missing required key, a value of the
//! wrong type, an enum value outside the list and a number out of range. Every mutant must
//! be rejected with the expected code, located at the mutated key or value.

use super::*;

struct Outcome {
    report: Report,
}

fn check(schemas: &Schemas, name: &str, bytes: Vec<u8>) -> Outcome {
    let mut report = Report::default();
    let size = bytes.len() as u64;
    let mut file = FileCheck::new(FileId(0), Path::new(name));
    let _ = check_bytes(
        Path::new(name),
        size,
        bytes,
        true,
        &ValidateOptions::default(),
        schemas,
        &mut file,
    )
    .unwrap();
    report.absorb(file);
    Outcome { report }
}

impl Outcome {
    /// True when an error with `code` starts at the first occurrence of `needle`.
    fn has(&self, code: &str, needle: &str) -> bool {
        let Some((_, file)) = self.report.sources.iter().next() else {
            return false;
        };
        let Some(offset) = file.text.find(needle) else {
            return false;
        };
        self.report.diagnostics.sorted().iter().any(|d| {
            d.code() == code && d.severity == crate::diag::Severity::Error && d.at.offset == offset
        })
    }

    fn codes(&self) -> Vec<String> {
        let sources = &self.report.sources;
        self.report
            .diagnostics
            .sorted()
            .iter()
            .map(|d| format!("{} {} {}", d.code(), sources.locate(d.at), d))
            .collect()
    }
}

/// Scalar mutations of one property schema: (value, expected code).
fn mutations(schema: &Value) -> Vec<(Value, &'static str)> {
    let mut out = Vec::new();
    let kind = schema.get("type").and_then(Value::as_str);
    match kind {
        Some("boolean") => out.push((Value::from("bsic-wrong-type"), "bsic::wrong-type")),
        Some("integer") => {
            out.push((Value::from("bsic-wrong-type"), "bsic::wrong-type"));
            if let Some(max) = schema.get("maximum").and_then(Value::as_i64) {
                out.push((Value::from(max + 1), "bsic::out-of-range"));
            }
            if let Some(min) = schema.get("minimum").and_then(Value::as_i64) {
                out.push((Value::from(min - 1), "bsic::out-of-range"));
            }
        }
        Some("string") => {
            out.push((Value::from(424_242), "bsic::wrong-type"));
            if schema.get("enum").is_some() {
                out.push((Value::from("BsicNotInTheList"), "bsic::invalid-value"));
            }
        }
        Some("array") => out.push((Value::from(424_242), "bsic::wrong-type")),
        Some("object") => out.push((Value::from(424_242), "bsic::wrong-type")),
        _ => {}
    }
    out
}

/// Every property under an object schema, at every depth of nested objects: (path, schema).
fn properties(schema: &Value, path: &[String], out: &mut Vec<(Vec<String>, Value)>) {
    for (key, property) in schema["properties"].as_object().into_iter().flatten() {
        let mut inner = path.to_vec();
        inner.push(key.clone());
        out.push((inner.clone(), property.clone()));
        if property.get("type").and_then(Value::as_str) == Some("object") {
            properties(property, &inner, out);
        }
    }
}

/// `{a: {b: value}}` for the path `[a, b]`.
fn nest(path: &[String], value: Value) -> Value {
    path.iter().rev().fold(
        value,
        |inner, key| serde_json::json!({ key.as_str(): inner }),
    )
}

fn declaration(kind: &str, payload: Value) -> Vec<u8> {
    let document = serde_json::json!({
        "Type": kind, "Identifier": "com.example.mutant", "ServerToken": "1", "Payload": payload,
    });
    serde_json::to_vec_pretty(&document).unwrap()
}

#[test]
fn every_declaration_mutant_is_rejected_where_it_was_made() {
    let mut failures = Vec::new();
    let mut mutants = 0;
    let schemas = Schemas::default();
    for (name, text) in SCHEMAS {
        let Some(kind) = name.strip_prefix("declaration.") else {
            continue;
        };
        let schema: Value = serde_json::from_str(text).unwrap();
        let payload = &schema["properties"]["Payload"];
        // An unknown key next to the real ones.
        mutants += 1;
        let outcome = check(
            &schemas,
            "m.json",
            declaration(kind, serde_json::json!({ "BsicUnknownKey": true })),
        );
        if payload.get("additionalProperties") == Some(&Value::Bool(false))
            && !outcome.has("bsic::unknown-property", "\"BsicUnknownKey\"")
        {
            failures.push(format!("{kind}: unknown key: {:?}", outcome.codes()));
        }
        // Each required payload key missing.
        for required in payload["required"].as_array().into_iter().flatten() {
            mutants += 1;
            let required = required.as_str().unwrap_or_default();
            let outcome = check(&schemas, "m.json", declaration(kind, serde_json::json!({})));
            let found = outcome
                .codes()
                .iter()
                .any(|c| c.starts_with("bsic::missing") && c.contains(&format!("`{required}`")));
            if !found {
                failures.push(format!("{kind}: missing {required}: {:?}", outcome.codes()));
            }
        }
        // Each envelope key missing.
        for key in ["Type", "Identifier", "ServerToken", "Payload"] {
            mutants += 1;
            let mut document: Value =
                serde_json::from_slice(&declaration(kind, serde_json::json!({}))).unwrap();
            if let Some(map) = document.as_object_mut() {
                map.remove(key);
            }
            let outcome = check(&schemas, "m.json", serde_json::to_vec(&document).unwrap());
            if !outcome.report.diagnostics.has_errors() {
                failures.push(format!("{kind}: without {key} accepted"));
            }
        }
        // Every payload key at every depth: wrong type, outside the list, out of range.
        let mut found = Vec::new();
        properties(payload, &[], &mut found);
        for (path, property) in found {
            let key = path.last().cloned().unwrap_or_default();
            for (value, code) in mutations(&property) {
                mutants += 1;
                let rendered = serde_json::to_string(&value).unwrap();
                let outcome = check(&schemas, "m.json", declaration(kind, nest(&path, value)));
                let needle = format!("\"{key}\": {rendered}");
                let at_value = needle.len() - rendered.len();
                let located = outcome.report.sources.iter().next().is_some_and(|(_, f)| {
                    let Some(start) = f.text.find(&needle) else {
                        return false;
                    };
                    outcome
                        .report
                        .diagnostics
                        .sorted()
                        .iter()
                        .any(|d| d.code() == code && d.at.offset == start + at_value)
                });
                if !located {
                    failures.push(format!(
                        "{kind}.{} = {rendered}: want {code}: {:?}",
                        path.join("."),
                        outcome.codes()
                    ));
                }
            }
        }
    }
    assert!(mutants > 500, "only {mutants} mutants");
    assert!(
        failures.is_empty(),
        "{} of {mutants} mutants not caught:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn profile(item: ::plist::Dictionary) -> Vec<u8> {
    let mut top = ::plist::Dictionary::new();
    top.insert("PayloadType".into(), "Configuration".into());
    top.insert("PayloadIdentifier".into(), "com.example.mutant".into());
    top.insert(
        "PayloadUUID".into(),
        "6F1D2C4A-0B5E-4C1D-9A8B-2E3F4A5B6C7D".into(),
    );
    top.insert("PayloadVersion".into(), 1.into());
    top.insert(
        "PayloadContent".into(),
        ::plist::Value::Array(vec![::plist::Value::Dictionary(item)]),
    );
    let mut bytes = Vec::new();
    ::plist::Value::Dictionary(top)
        .to_writer_xml(&mut bytes)
        .unwrap();
    bytes
}

fn to_plist(value: &Value) -> ::plist::Value {
    match value {
        Value::Bool(b) => ::plist::Value::Boolean(*b),
        Value::Number(n) => n.as_i64().map_or(::plist::Value::Real(0.5), |i| {
            ::plist::Value::Integer(i.into())
        }),
        Value::String(s) => ::plist::Value::String(s.clone()),
        _ => ::plist::Value::String(String::new()),
    }
}

#[test]
fn every_profile_mutant_is_rejected_where_it_was_made() {
    let mut failures = Vec::new();
    let mut mutants = 0;
    let schemas = Schemas::default();
    for (name, text) in SCHEMAS {
        let Some(kind) = name.strip_prefix("profile.") else {
            continue;
        };
        if kind == "TopLevel" {
            continue;
        }
        let schema: Value = serde_json::from_str(text).unwrap();
        let base = || {
            let mut item = ::plist::Dictionary::new();
            item.insert("PayloadType".into(), kind.into());
            item.insert("PayloadIdentifier".into(), "com.example.item".into());
            item.insert(
                "PayloadUUID".into(),
                "0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D".into(),
            );
            item.insert("PayloadVersion".into(), 1.into());
            item
        };
        mutants += 1;
        let mut item = base();
        item.insert("BsicUnknownKey".into(), true.into());
        let outcome = check(&schemas, "m.mobileconfig", profile(item));
        if schema.get("additionalProperties") == Some(&Value::Bool(false))
            && !outcome.has("bsic::unknown-property", "BsicUnknownKey")
        {
            failures.push(format!("{kind}: unknown key: {:?}", outcome.codes()));
        }
        for (key, property) in schema["properties"].as_object().into_iter().flatten() {
            if key.starts_with("Payload") {
                continue;
            }
            for (value, code) in mutations(property) {
                mutants += 1;
                let mut item = base();
                item.insert(key.clone(), to_plist(&value));
                let outcome = check(&schemas, "m.mobileconfig", profile(item));
                let key_tag = format!("<key>{key}</key>");
                let located = outcome.report.sources.iter().next().is_some_and(|(_, f)| {
                    let Some(start) = f.text.find(&key_tag) else {
                        return false;
                    };
                    let after = start + key_tag.len();
                    let value_at = after + f.text[after..].find('<').unwrap_or(0);
                    outcome
                        .report
                        .diagnostics
                        .sorted()
                        .iter()
                        .any(|d| d.code() == code && d.at.offset == value_at)
                });
                if !located {
                    failures.push(format!(
                        "{kind}.{key} = {value}: want {code}: {:?}",
                        outcome.codes()
                    ));
                }
            }
        }
    }
    assert!(mutants > 1000, "only {mutants} mutants");
    assert!(
        failures.is_empty(),
        "{} of {mutants} mutants not caught:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A minimal XML profile around `items` (already XML), with top-level `extra` keys
/// (`PayloadVersion` 1 unless `extra` gives it).
fn xml_profile(extra: &str, items: &str) -> Vec<u8> {
    let extra = if extra.contains("PayloadVersion") {
        extra.to_string()
    } else {
        format!("<key>PayloadVersion</key><integer>1</integer>{extra}")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\
         <key>PayloadType</key><string>Configuration</string>\n\
         <key>PayloadIdentifier</key><string>com.example.p</string>\n\
         <key>PayloadUUID</key><string>6F1D2C4A-0B5E-4C1D-9A8B-2E3F4A5B6C7D</string>\n\
         {extra}\n<key>PayloadContent</key><array>{items}</array>\n</dict>\n</plist>\n"
    )
    .into_bytes()
}

fn messages(outcome: &Outcome) -> Vec<String> {
    outcome
        .report
        .diagnostics
        .sorted()
        .iter()
        .map(|d| format!("{} {}", d.code(), d))
        .collect()
}

#[test]
fn a_type_mismatch_names_both_types_and_is_not_an_enum_error() {
    let schemas = Schemas::default();
    let outcome = check(
        &schemas,
        "p.mobileconfig",
        xml_profile("<key>PayloadVersion</key><string>1</string>", ""),
    );
    assert_eq!(
        messages(&outcome),
        ["bsic::wrong-type a string (`\"1\"`), expected an integer"]
    );
    assert!(outcome.has("bsic::wrong-type", "<string>1</string>"));
}

#[test]
fn empty_identifiers_are_errors_at_the_value() {
    let schemas = Schemas::default();
    let outcome = check(
        &schemas,
        "d.json",
        br#"{"Type": "com.apple.configuration.passcode.settings", "Identifier": "", "ServerToken": " ", "Payload": {}}"#.to_vec(),
    );
    assert!(
        outcome.has("bsic::empty-identifier", "\"\""),
        "{:?}",
        outcome.codes()
    );
    assert!(
        outcome.has("bsic::empty-identifier", "\" \""),
        "{:?}",
        outcome.codes()
    );
    let item = "<dict><key>PayloadType</key><string>com.apple.applicationaccess</string>\
                <key>PayloadIdentifier</key><string></string>\
                <key>PayloadUUID</key><string/>\
                <key>PayloadVersion</key><integer>1</integer></dict>";
    let outcome = check(&schemas, "p.mobileconfig", xml_profile("", item));
    assert!(
        outcome.has("bsic::empty-identifier", "<string></string>"),
        "{:?}",
        outcome.codes()
    );
    assert!(
        outcome.has("bsic::empty-identifier", "<string/>"),
        "{:?}",
        outcome.codes()
    );
    assert!(
        !outcome.codes().iter().any(|c| c.contains("invalid-format")),
        "{:?}",
        outcome.codes()
    );
}

#[test]
fn a_payload_uuid_used_twice_in_one_profile_is_an_error_at_the_second() {
    let item = |uuid: &str, id: &str| {
        format!(
            "<dict><key>PayloadType</key><string>com.apple.applicationaccess</string>\
             <key>PayloadIdentifier</key><string>{id}</string>\
             <key>PayloadUUID</key><string>{uuid}</string>\
             <key>PayloadVersion</key><integer>1</integer></dict>"
        )
    };
    let schemas = Schemas::default();
    let first = "AAAAAAAA-2222-3333-4444-555555555555";
    let items = item(first, "com.example.a") + &item(&first.to_lowercase(), "com.example.b");
    let outcome = check(&schemas, "p.mobileconfig", xml_profile("", &items));
    assert_eq!(outcome.codes().len(), 1, "{:?}", outcome.codes());
    assert!(
        outcome.has("bsic::duplicate-payload-id", "<string>aaaaaaaa"),
        "{:?}",
        outcome.codes()
    );
    // The profile's own UUID counts too.
    let items = item("6F1D2C4A-0B5E-4C1D-9A8B-2E3F4A5B6C7D", "com.example.a");
    let outcome = check(&schemas, "p.mobileconfig", xml_profile("", &items));
    assert_eq!(outcome.codes().len(), 1, "{:?}", outcome.codes());
    // Distinct UUIDs: nothing.
    let other = "BBBBBBBB-2222-3333-4444-555555555555";
    let items = item(first, "com.example.a") + &item(other, "com.example.b");
    let outcome = check(&schemas, "p.mobileconfig", xml_profile("", &items));
    assert!(outcome.codes().is_empty(), "{:?}", outcome.codes());
}

#[test]
fn a_plist_value_is_written_as_the_element_apple_types_it() {
    let written = |extra: &str| {
        let outcome = check(
            &Schemas::default(),
            "p.mobileconfig",
            xml_profile(extra, ""),
        );
        outcome.codes()
    };
    assert!(
        written("<key>PayloadExpirationDate</key><date>2027-01-01T00:00:00Z</date>").is_empty()
    );
    for extra in [
        "<key>PayloadExpirationDate</key><string>2027-01-01T00:00:00Z</string>",
        "<key>PayloadDescription</key><date>2027-01-01T00:00:00Z</date>",
        "<key>PayloadDescription</key><data>YWJj</data>",
    ] {
        let codes = written(extra);
        assert!(
            codes.len() == 1 && codes[0].starts_with("bsic::wrong-type p.mobileconfig:7:"),
            "{extra}: {codes:?}"
        );
    }
}

#[test]
fn with_a_platform_keys_it_ignores_are_reported_at_any_depth() {
    let text = br#"{"Type": "com.apple.configuration.softwareupdate.settings", "Identifier": "s",
 "ServerToken": "1", "Payload": {"Deferrals": {"MajorPeriodInDays": 30}}}"#;
    let mut report = Report::default();
    let options = ValidateOptions {
        platform: Some(Platform::Ios),
        ..ValidateOptions::default()
    };
    let mut file = FileCheck::new(FileId(0), Path::new("s.json"));
    check_bytes(
        Path::new("s.json"),
        text.len() as u64,
        text.to_vec(),
        true,
        &options,
        &Schemas::default(),
        &mut file,
    )
    .unwrap();
    report.absorb(file);
    let found: Vec<String> = report
        .diagnostics
        .sorted()
        .iter()
        .map(|d| format!("{} {}", d.code(), d))
        .collect();
    assert!(
        found.contains(
            &"bsic::unavailable-on-platform `Deferrals.MajorPeriodInDays` has no effect on iOS"
                .to_string()
        ),
        "{found:?}"
    );
}

#[test]
fn keys_no_platform_of_the_profile_honours_are_errors() {
    let restrictions = |uuid: &str| {
        format!(
            "<dict><key>PayloadType</key><string>com.apple.applicationaccess</string>\
             <key>PayloadIdentifier</key><string>com.example.r</string>\
             <key>PayloadUUID</key><string>{uuid}</string>\
             <key>PayloadVersion</key><integer>1</integer>\
             <key>allowAirPrint</key><true/></dict>"
        )
    };
    let software_update = "<dict><key>PayloadType</key><string>com.apple.SoftwareUpdate</string>\
         <key>PayloadIdentifier</key><string>com.example.u</string>\
         <key>PayloadUUID</key><string>CCCCCCCC-2222-3333-4444-555555555555</string>\
         <key>PayloadVersion</key><integer>1</integer></dict>";
    let item = restrictions("BBBBBBBB-2222-3333-4444-555555555555");
    // No scope of its own: `allowAirPrint` reaches iOS.
    let outcome = check(
        &Schemas::default(),
        "p.mobileconfig",
        xml_profile("", &item),
    );
    assert!(outcome.codes().is_empty(), "{:?}", outcome.codes());
    // A Mac profile, by `TargetDeviceType` or by a macOS-only payload beside it.
    for (extra, items) in [
        (
            "<key>TargetDeviceType</key><integer>5</integer>",
            item.clone(),
        ),
        ("", item.clone() + software_update),
    ] {
        let outcome = check(
            &Schemas::default(),
            "p.mobileconfig",
            xml_profile(extra, &items),
        );
        assert!(
            outcome.has("bsic::unavailable-on-platform", "allowAirPrint"),
            "{extra}: {:?}",
            outcome.codes()
        );
    }
    // A payload type the targeted platform lacks.
    let outcome = check(
        &Schemas::default(),
        "p.mobileconfig",
        xml_profile(
            "<key>TargetDeviceType</key><integer>1</integer>",
            software_update,
        ),
    );
    assert!(
        outcome
            .codes()
            .iter()
            .any(|c| c.starts_with("bsic::unavailable-on-platform")),
        "{:?}",
        outcome.codes()
    );
    assert!(outcome.report.diagnostics.has_errors());
}

#[test]
fn a_status_subscription_names_only_apples_status_items() {
    let document = br#"{"Type": "com.apple.configuration.management.status-subscriptions",
 "Identifier": "s", "ServerToken": "1", "Payload": {"StatusItems": [
 {"Name": "device.operating-system.version"}, {"Name": "softwareupdate.install-stat"}]}}"#;
    let outcome = check(&Schemas::default(), "s.json", document.to_vec());
    assert!(
        outcome.has(
            "bsic::unknown-status-item",
            "\"softwareupdate.install-stat\""
        ),
        "{:?}",
        outcome.codes()
    );
    assert_eq!(outcome.codes().len(), 1, "{:?}", outcome.codes());
    let help = outcome.report.diagnostics.sorted()[0].kind.help();
    assert_eq!(
        help.as_deref(),
        Some("did you mean `softwareupdate.install-state`?")
    );
}

/// The parallel walk finds what a sorted `walkdir` walk finds, in the same order: hidden
/// entries and `target` skipped, only declaration and profile candidates, through enough
/// subdirectories to be walked on all cores.
#[test]
fn walk_finds_the_candidates_in_path_order() {
    let root = tempfile::tempdir().unwrap();
    let write = |relative: &str| {
        let path = root.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "{}").unwrap();
    };
    for group in 0..40 {
        write(&format!("ddm/g{group:02}/a.json"));
        write(&format!("ddm/g{group:02}/b.mobileconfig"));
        write(&format!("ddm/g{group:02}/notes.txt"));
        write(&format!("ddm/g{group:02}.d/inner/c.plist"));
    }
    write("a.b/x.json");
    write("a/x.json");
    write(".hidden/x.json");
    write("ddm/.x.json");
    write("target/x.json");
    let expected: Vec<PathBuf> = walkdir::WalkDir::new(root.path())
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0 || !name.starts_with('.') && name != "target"
        })
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && is_candidate(e.path()))
        .map(walkdir::DirEntry::into_path)
        .collect();
    let found = walk(root.path());
    assert_eq!(found.len(), 40 * 3 + 2);
    assert_eq!(found, expected);
    let mut sorted = found.clone();
    sorted.sort();
    assert_eq!(found, sorted);
}

/// A file over the size limit is refused when named, and skipped (counted, no error) when
/// a directory walk finds it: a large build's own `manifest.json` is one.
#[test]
fn an_oversized_file_is_refused_when_named_and_skipped_when_found() {
    let schemas = Schemas::default();
    let size = Input::Apple.limit() + 1;
    for explicit in [true, false] {
        let mut file = FileCheck::new(FileId(0), Path::new("dist/manifest.json"));
        let doc = check_bytes(
            Path::new("dist/manifest.json"),
            size,
            Vec::new(),
            explicit,
            &ValidateOptions::default(),
            &schemas,
            &mut file,
        )
        .unwrap();
        assert!(doc.is_none());
        assert_eq!(file.diagnostics.has_errors(), explicit);
        assert_eq!(
            (file.checked, file.skipped),
            if explicit { (1, 0) } else { (0, 1) }
        );
    }
}
