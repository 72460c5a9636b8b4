//! The project file `bsic.kdl`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{IdentifierPrefix, Lints, OsVersion, Platform};

/// `bsic.kdl`: who the policies belong to and where they live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "bsic project file", extend("$id" = "https://bsic.dev/schemas/bsic-project.schema.json"))]
pub struct ProjectFile {
    /// The organization, shown in profiles (`PayloadOrganization`).
    #[schemars(length(min = 1))]
    pub organization: String,
    /// The reverse-DNS prefix of every identifier bsic emits.
    pub identifier_prefix: IdentifierPrefix,
    /// Globs of policy files, relative to `bsic.kdl` (default `policies/**/*.kdl`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Globs of policy test files (default `tests/**/*.test.kdl`), run by `bsic test`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<String>,
    /// The oldest OS each platform of the fleet runs: `fleet macOS="14.0" iOS="17.0"`. bsic
    /// then warns about settings part of the fleet ignores and sends configuration profiles
    /// only to platforms that still have devices too old for the DDM declarations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<Fleet>,
    /// A pinned build catalog: `catalog "catalog/apple-releases.json" sha256="…"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogPin>,
    /// Lint levels: `lints { past-deadline "deny"; staged-base "allow" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lints: Option<Lints>,
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

/// `fleet macOS="14.0" iOS="17.0"`: the oldest OS version in use per platform.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    #[serde(default, rename = "macOS", skip_serializing_if = "Option::is_none")]
    pub macos: Option<OsVersion>,
    #[serde(default, rename = "iOS", skip_serializing_if = "Option::is_none")]
    pub ios: Option<OsVersion>,
    #[serde(default, rename = "iPadOS", skip_serializing_if = "Option::is_none")]
    pub ipados: Option<OsVersion>,
    #[serde(default, rename = "tvOS", skip_serializing_if = "Option::is_none")]
    pub tvos: Option<OsVersion>,
    #[serde(default, rename = "visionOS", skip_serializing_if = "Option::is_none")]
    pub visionos: Option<OsVersion>,
    /// `#true` when some devices are not supervised: supervised-only keys miss them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupervised: Option<bool>,
    /// `#true` when some devices are enrolled through User Enrollment.
    #[serde(
        default,
        rename = "user-enrollment",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_enrollment: Option<bool>,
}

impl Fleet {
    /// The oldest version in use on `platform`, if stated.
    pub fn minimum(&self, platform: Platform) -> Option<&OsVersion> {
        match platform {
            Platform::MacOs => self.macos.as_ref(),
            Platform::Ios => self.ios.as_ref(),
            Platform::IpadOs => self.ipados.as_ref().or(self.ios.as_ref()),
            Platform::TvOs => self.tvos.as_ref(),
            Platform::VisionOs => self.visionos.as_ref(),
        }
    }
}

/// `catalog "PATH" sha256="HEX"`: the release snapshot and the hash it must have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("x-kdl-argument" = "path"))]
pub struct CatalogPin {
    /// The snapshot written by `bsic catalog import`, relative to bsic.kdl.
    pub path: String,
    /// Its SHA-256, as `bsic catalog import` prints it.
    pub sha256: String,
}
