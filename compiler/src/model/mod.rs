//! The typed policy model: the single source of truth for the language.
//!
//! The JSON Schema generated from these types (`bsic schema`) is what validates input, and
//! the validate stage deserializes the checked JSON projection of KDL into them. A node's KDL
//! shape follows from its schema: objects take properties and child nodes, arrays take
//! arguments or repeated nodes, and an object marked `x-kdl-argument` takes its first argument
//! as that field (`policy "name" { … }`).

mod policy;
mod project;
mod values;

pub use policy::*;
pub use project::*;
pub use values::*;

/// The JSON Schema of a policy file (`schemas/bsic-policy.schema.json`).
pub fn policy_schema() -> serde_json::Value {
    schemars::schema_for!(PolicyFile).to_value()
}

/// The JSON Schema of the project file `bsic.kdl` (`schemas/bsic-project.schema.json`).
pub fn project_schema() -> serde_json::Value {
    schemars::schema_for!(ProjectFile).to_value()
}
