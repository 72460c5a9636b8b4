//! Drift tests: the committed JSON Schemas are exactly what `bsic schema` prints.

use crate::util::{self, Project};

fn assert_schema(args: &[&str], committed: &str) {
    let run = Project::empty().bsic().args(args).run();
    run.assert_code(0);
    let path = util::repo(committed);
    let on_disk = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    if run.stdout == on_disk {
        return;
    }
    let first_difference = run
        .stdout
        .lines()
        .zip(on_disk.lines())
        .position(|(a, b)| a != b)
        .map_or_else(
            || "one is a prefix of the other".to_string(),
            |i| format!("first difference at line {}", i + 1),
        );
    let command = format!("cargo run -- {} > {committed}", args.join(" "));
    panic!(
        "{committed} is out of date with the model ({first_difference}).\n\
         Regenerate it from the repository root with:\n\n    {command}\n\n\
         and commit the result.\n--- `bsic {}` printed ---\n{}",
        args.join(" "),
        run.stdout
    );
}

#[test]
fn policy_schema_is_up_to_date() {
    assert_schema(&["schema"], "schemas/bsic-policy.schema.json");
}

#[test]
fn project_schema_is_up_to_date() {
    assert_schema(&["schema", "--project"], "schemas/bsic-project.schema.json");
}

#[test]
fn schemas_are_draft_2020_12_documents() {
    for args in [&["schema"][..], &["schema", "--project"][..]] {
        let run = Project::empty().bsic().args(args).run();
        run.assert_code(0);
        let schema: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{args:?}"
        );
        assert!(schema["$id"].as_str().is_some(), "{args:?}");
    }
}
