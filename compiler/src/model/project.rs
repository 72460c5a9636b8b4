//! The project file `bsic.kdl`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IdentifierPrefix;

/// `bsic.kdl`: who the policies belong to and where they live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "bsic project file", extend("$id" = "https://bsic.dev/schemas/bsic-project.schema.json"))]
pub struct ProjectFile {
    /// The organization, shown in profiles (`PayloadOrganization`).
    pub organization: String,
    /// The reverse-DNS prefix of every identifier bsic emits.
    pub identifier_prefix: IdentifierPrefix,
    /// Globs of policy files, relative to `bsic.kdl` (default `policies/**/*.kdl`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}
