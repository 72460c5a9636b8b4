//! The typed policy model: the single source of truth for the language.
//!
//! The JSON Schema generated from these types (`bsic schema`) is what validates input, and
//! the validate stage deserializes the checked JSON projection of KDL into them. A node's KDL
//! shape follows from its schema: objects take properties and child nodes, arrays take
//! arguments or repeated nodes, and an object marked `x-kdl-argument` takes its first argument
//! as that field (`policy "name" { … }`).

pub mod knobs;
mod lint;
pub mod path;
mod policy;
mod policy_test;
mod project;
mod values;

pub use lint::{Lint, LintLevel, Lints};
pub use policy::*;
pub use policy_test::*;
pub use project::*;
pub use values::*;

/// The JSON Schema of a policy file, as published in `schemas/bsic-policy.schema.json` and
/// embedded at build time: parsing that text costs a start-up a fraction of what generating it
/// from the types does. The test `embedded_schemas_are_the_generated_ones` keeps them equal.
pub fn policy_schema() -> serde_json::Value {
    embedded(POLICY_SCHEMA_JSON)
}

/// The text of [`policy_schema`].
pub const POLICY_SCHEMA_JSON: &str = include_str!("../../data/bsic-policy.schema.json");

/// The text of [`project_schema`].
pub const PROJECT_SCHEMA_JSON: &str = include_str!("../../data/bsic-project.schema.json");

/// The JSON Schema of the project file `bsic.kdl` (`schemas/bsic-project.schema.json`),
/// embedded like [`policy_schema`].
pub fn project_schema() -> serde_json::Value {
    embedded(PROJECT_SCHEMA_JSON)
}

/// The policy schema generated from the types: what `bsic schema` prints and the published
/// file is regenerated from.
pub fn generate_policy_schema() -> serde_json::Value {
    schema_of::<PolicyFile>()
}

/// The project schema generated from the types (`bsic schema --project`).
pub fn generate_project_schema() -> serde_json::Value {
    schema_of::<ProjectFile>()
}

/// `null` if the embedded text were not JSON (a unit test parses it): compiling that fails
/// with bsic's internal-error diagnostic rather than a panic.
fn embedded(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_default()
}

/// The JSON Schema of any model document type, generated from the types.
pub fn schema_of<T: schemars::JsonSchema>() -> serde_json::Value {
    generator().into_root_schema_for::<T>().to_value()
}

/// Draft 2020-12, with optional values simply absent: KDL has no use for explicit nulls, and
/// `anyOf [T, null]` wrappers would bury every error one level deep.
fn generator() -> schemars::SchemaGenerator {
    schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(DropNull)
        .into_generator()
}

/// Removes the `null` alternative schemars adds for `Option<T>`.
#[derive(Debug, Clone)]
struct DropNull;

impl schemars::transform::Transform for DropNull {
    fn transform(&mut self, schema: &mut schemars::Schema) {
        if let Some(serde_json::Value::Array(types)) = schema.get_mut("type") {
            types.retain(|t| t != "null");
            if types.len() == 1 {
                let single = types[0].clone();
                schema.insert("type".into(), single);
            }
        }
        let only_branch = schema
            .get("anyOf")
            .and_then(serde_json::Value::as_array)
            .and_then(|branches| {
                let real: Vec<&serde_json::Value> = branches
                    .iter()
                    .filter(|b| b.get("type").and_then(|t| t.as_str()) != Some("null"))
                    .collect();
                (real.len() == 1 && branches.len() == 2).then(|| real[0].clone())
            });
        if let (Some(serde_json::Value::Object(inner)), Some(object)) =
            (only_branch, schema.as_object_mut())
        {
            object.remove("anyOf");
            object.extend(inner);
        }
        schemars::transform::transform_subschemas(self, schema);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded schemas are what validates input; the types are their source. After a
    /// model change: `cargo run -- schema > schemas/bsic-policy.schema.json`, `cargo run --
    /// schema --project > schemas/bsic-project.schema.json`, then `cargo xtask sync-crate`.
    #[test]
    fn embedded_schemas_are_the_generated_ones() {
        assert!(
            policy_schema() == generate_policy_schema(),
            "the embedded policy schema is stale: regenerate schemas/bsic-policy.schema.json \
             with `bsic schema` and run `cargo xtask sync-crate`"
        );
        assert!(
            project_schema() == generate_project_schema(),
            "the embedded project schema is stale: regenerate schemas/bsic-project.schema.json \
             with `bsic schema --project` and run `cargo xtask sync-crate`"
        );
    }
}
