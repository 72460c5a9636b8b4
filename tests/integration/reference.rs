//! The repository's own project (`bsic.kdl` + `policies/`): it checks clean, builds the same
//! bytes every time, and everything it emits is what Apple's definitions and tools accept.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::{self, Project};

/// Builds the reference project into `<temp>/dist` and returns the project and the files.
fn reference_build() -> (Project, BTreeMap<String, Vec<u8>>) {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let files = util::read_files(&out);
    (project, files)
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON")
}

#[test]
fn check_is_clean() {
    let project = Project::reference();
    let run = project.bsic().args(["check", "--format", "json"]).run();
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "",
        "the reference policies should have no diagnostics at all\n{}",
        run.describe()
    );
    let human = project.bsic().arg("check").run();
    human.assert_code(0);
    assert!(
        human.stderr.contains("0 errors, 0 warnings"),
        "{}",
        human.describe()
    );
}

#[test]
fn build_is_byte_identical_every_time() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let first = util::read_tree(&out);
    assert!(first.contains_key("manifest.json"));

    // Again over the previous output.
    project.build_ok(&out);
    util::assert_same_tree(&first, &util::read_tree(&out), "rebuild in place");

    // Into another directory, from another copy at another path.
    let elsewhere = Project::reference();
    let other_out = elsewhere.join("elsewhere/out");
    elsewhere.build_ok(&other_out);
    util::assert_same_tree(
        &first,
        &util::read_tree(&other_out),
        "build of a copy elsewhere",
    );
}

#[test]
fn manifest_lists_every_file_with_its_hash() {
    let (_project, files) = reference_build();
    let manifest = json(&files["manifest.json"]);
    let artifacts = manifest["artifacts"].as_array().expect("artifacts array");
    let mut listed = BTreeMap::new();
    for artifact in artifacts {
        let path = artifact["path"].as_str().expect("path").to_string();
        let sha = artifact["sha256"].as_str().expect("sha256").to_string();
        assert!(
            listed.insert(path.clone(), sha).is_none(),
            "{path} listed twice"
        );
    }
    let emitted: Vec<&String> = files.keys().filter(|p| *p != "manifest.json").collect();
    let listed_paths: Vec<&String> = listed.keys().collect();
    assert_eq!(
        listed_paths, emitted,
        "manifest.json must list exactly the emitted files"
    );
    for (path, sha) in &listed {
        let actual = hex(&Sha256::digest(&files[path]));
        assert_eq!(*sha, actual, "sha256 of {path}");
    }
    assert_eq!(manifest["organization"], "Example Corp");
    assert_eq!(manifest["identifier-prefix"], "com.example.it");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn declarations_have_the_envelope() {
    let (_project, files) = reference_build();
    let mut count = 0;
    for (path, bytes) in files.iter().filter(|(p, _)| p.starts_with("ddm/")) {
        assert!(path.ends_with(".json"), "{path}");
        let declaration = json(bytes);
        for key in ["Type", "Identifier", "ServerToken"] {
            assert!(
                declaration[key].as_str().is_some_and(|s| !s.is_empty()),
                "{path}: `{key}` must be a non-empty string"
            );
        }
        assert!(declaration["Payload"].is_object(), "{path}: `Payload`");
        let identifier = declaration["Identifier"].as_str().unwrap();
        assert!(
            path.ends_with(&format!("/{identifier}.json")),
            "{path} is not named after its Identifier {identifier}"
        );
        count += 1;
    }
    assert!(count > 0, "no declarations emitted");
}

/// Validates every artifact with Python: profiles through `plistlib`, everything through
/// `jsonschema`'s Draft 2020-12 validator and the schemas in `schemas/apple/`. Prints one line
/// per problem; the exit code is the number of problems (capped).
const VALIDATE_PY: &str = r#"
import base64, datetime, glob, json, os, plistlib, sys
from jsonschema import Draft202012Validator

out, schemas = sys.argv[1], sys.argv[2]
problems, checked = [], {"profiles": 0, "payloads": 0, "declarations": 0}

def to_json(v):
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [to_json(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, datetime.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    return v

def validate(path, name, doc):
    schema_path = os.path.join(schemas, name + ".schema.json")
    if not os.path.isfile(schema_path):
        problems.append(f"{path}: no schema {name}.schema.json")
        return
    with open(schema_path) as f:
        schema = json.load(f)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for error in validator.iter_errors(doc):
        problems.append(f"{path}: {name} at /{'/'.join(map(str, error.absolute_path))}: {error.message}")

for path in sorted(glob.glob(os.path.join(out, "**", "*.mobileconfig"), recursive=True)):
    rel = os.path.relpath(path, out)
    with open(path, "rb") as f:
        try:
            profile = plistlib.load(f)
        except Exception as e:
            problems.append(f"{rel}: plistlib cannot read it: {e}")
            continue
    checked["profiles"] += 1
    if profile.get("PayloadType") != "Configuration":
        problems.append(f"{rel}: PayloadType is {profile.get('PayloadType')!r}, not 'Configuration'")
    payloads = profile.get("PayloadContent")
    if not isinstance(payloads, list) or not payloads:
        problems.append(f"{rel}: PayloadContent is not a non-empty array")
        payloads = []
    validate(rel, "profile.TopLevel", to_json(profile))
    for i, payload in enumerate(payloads):
        checked["payloads"] += 1
        kind = payload.get("PayloadType") if isinstance(payload, dict) else None
        if not isinstance(kind, str):
            problems.append(f"{rel}: payload {i} has no PayloadType")
            continue
        validate(f"{rel} payload {i}", "profile." + kind, to_json(payload))

for path in sorted(glob.glob(os.path.join(out, "ddm", "**", "*.json"), recursive=True)):
    rel = os.path.relpath(path, out)
    with open(path, "rb") as f:
        declaration = json.load(f)
    checked["declarations"] += 1
    missing = [k for k in ("Type", "Identifier", "ServerToken", "Payload") if k not in declaration]
    if missing:
        problems.append(f"{rel}: missing {missing}")
        continue
    validate(rel, "declaration." + declaration["Type"], declaration)

print(json.dumps(checked))
for p in problems:
    print(p)
sys.exit(min(len(problems), 100))
"#;

fn validate_with_python(out: &Path) -> Value {
    let schemas = util::repo("schemas/apple");
    let run = util::python(VALIDATE_PY, &[out.as_os_str(), schemas.as_os_str()]);
    assert_eq!(
        run.code,
        Some(0),
        "Python validation of the reference build failed\n{}",
        run.describe()
    );
    let counts = run.stdout.lines().next().unwrap_or_default();
    serde_json::from_str(counts).unwrap_or_else(|_| panic!("{}", run.describe()))
}

#[test]
fn artifacts_validate_with_python_plistlib_and_jsonschema() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let files = util::read_files(&out);
    let counts = validate_with_python(&out);
    let profiles = files
        .keys()
        .filter(|p| p.ends_with(".mobileconfig"))
        .count();
    let declarations = files.keys().filter(|p| p.starts_with("ddm/")).count();
    assert!(profiles > 0 && declarations > 0, "{files:?}");
    assert_eq!(counts["profiles"], profiles, "{counts}");
    assert_eq!(counts["declarations"], declarations, "{counts}");
    assert!(counts["payloads"].as_u64().unwrap() >= profiles as u64);
}

/// The validation script itself catches what it should: a broken artifact fails it.
#[test]
fn python_validation_rejects_a_broken_artifact() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let path = out.join("ddm/kiosks/com.example.it.kiosks.enforce.bsi.json");
    let mut declaration = json(&std::fs::read(&path).unwrap());
    declaration["Payload"]["TargetOSVersion"] = Value::from(26);
    std::fs::write(&path, serde_json::to_vec(&declaration).unwrap()).unwrap();
    let schemas = util::repo("schemas/apple");
    let run = util::python(VALIDATE_PY, &[out.as_os_str(), schemas.as_os_str()]);
    assert_ne!(run.code, Some(0), "{}", run.describe());
    assert!(run.stdout.contains("TargetOSVersion"), "{}", run.describe());
}

/// Enforcement declarations of a group, in manifest order.
fn enforcements(files: &BTreeMap<String, Vec<u8>>, group: &str) -> Vec<(String, Value)> {
    let manifest = json(&files["manifest.json"]);
    manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "com.apple.configuration.softwareupdate.enforcement.specific")
        .filter(|a| a["groups"].as_array().unwrap().iter().any(|g| g == group))
        .map(|a| {
            let path = a["path"].as_str().unwrap().to_string();
            let declaration = json(&files[&path]);
            (path, declaration)
        })
        .collect()
}

/// The activation of a group lists its configurations in this order.
fn activated(files: &BTreeMap<String, Vec<u8>>, group: &str) -> Vec<String> {
    let path = format!("ddm/{group}/com.example.it.{group}.activation.json");
    let activation = json(files.get(&path).unwrap_or_else(|| panic!("no {path}")));
    activation["Payload"]["StandardConfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn bsi_target_is_staged_base_then_supplemental() {
    let (_project, files) = reference_build();
    let staged = enforcements(&files, "kiosks");
    assert_eq!(staged.len(), 2, "want base + bsi: {staged:#?}");
    let (base_path, base) = &staged[0];
    let (bsi_path, bsi) = &staged[1];
    assert!(base_path.ends_with(".enforce.base.json"), "{base_path}");
    assert!(bsi_path.ends_with(".enforce.bsi.json"), "{bsi_path}");

    assert_eq!(base["Payload"]["TargetOSVersion"], "26.3.1");
    assert!(
        base["Payload"].get("TargetBuildVersion").is_none(),
        "the base step must not pin the supplemental build: {base:#}"
    );
    assert_eq!(bsi["Payload"]["TargetOSVersion"], "26.3.1");
    assert_eq!(bsi["Payload"]["TargetBuildVersion"], "25D771280a");
    assert_eq!(
        base["Payload"]["TargetLocalDateTime"],
        bsi["Payload"]["TargetLocalDateTime"]
    );
    assert_eq!(base["Payload"]["DetailsURL"], "https://it.example.com/bsi");
    assert_ne!(base["Identifier"], bsi["Identifier"]);
    assert_ne!(base["ServerToken"], bsi["ServerToken"]);

    // Both are activated, the base step first.
    let order = activated(&files, "kiosks");
    let position = |d: &Value| {
        order
            .iter()
            .position(|i| d["Identifier"] == i.as_str())
            .unwrap_or_else(|| panic!("{} is not activated: {order:?}", d["Identifier"]))
    };
    assert!(position(base) < position(bsi), "{order:?}");
}

#[test]
fn plain_build_target_is_a_single_enforcement() {
    let project = Project::base().file(
        "policies/pin.kdl",
        "policy \"pin\" {\n    applies-to \"pilot\"\n    platforms \"macOS\"\n    \
         enforce version=\"26.3\" build=\"25D125\" by=\"2026-04-01T09:00:00\"\n}\n",
    );
    let out = project.join("dist");
    project.build_ok(&out);
    let files = util::read_files(&out);
    let staged = enforcements(&files, "pilot");
    assert_eq!(staged.len(), 1, "{staged:#?}");
    assert_eq!(staged[0].1["Payload"]["TargetBuildVersion"], "25D125");
    assert_eq!(staged[0].1["Payload"]["TargetOSVersion"], "26.3");
}

/// Snapshot name of an emitted file: its path with `/` spelled `__`.
fn snapshot_name(path: &str) -> String {
    path.replace('/', "__")
}

#[test]
fn snapshots_of_every_emitted_file() {
    let (_project, files) = reference_build();
    for (path, bytes) in &files {
        let text =
            String::from_utf8(bytes.clone()).unwrap_or_else(|_| panic!("{path} is not UTF-8 text"));
        insta::assert_snapshot!(snapshot_name(path), text);
    }
}
