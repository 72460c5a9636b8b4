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
    /// Globs of policy test files (default `tests/**/*.test.kdl`), run by `bsic test`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
    /// Where the signing identity comes from. Paths and variable names only, never secrets;
    /// command-line options override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<Signing>,
}

/// `signing { certificate "…"; key "…" }` or `signing { p12 "…"; p12-password-env "VAR" }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Signing {
    /// PEM certificate of the signer (optionally followed by its chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// PEM private key of the signer (PKCS#8, PKCS#1 or SEC1, unencrypted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// PEM bundle of intermediate certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// A PKCS#12 identity (key, certificate and chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p12: Option<String>,
    /// The environment variable holding the PKCS#12 password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p12_password_env: Option<String>,
    /// A file holding the PKCS#12 password (first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p12_password_file: Option<String>,
}
