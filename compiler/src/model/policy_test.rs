//! Policy tests (`*.test.kdl`): a device and the settings it must end up with.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    BackgroundSecurity, Beta, BuildVersion, LocalDateTime, Name, OsUpdates, OsVersion, Platform,
};

/// A policy test file: any number of `test` nodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "bsic policy test file")]
pub struct PolicyTestFile {
    /// One expectation about one kind of device.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<PolicyTest>,
}

/// `test "NAME" { groups "kiosks"; platform "macOS"; os "26.2"; expect { … } }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("x-kdl-argument" = "name"))]
pub struct PolicyTest {
    /// What the test proves, e.g. "kiosks never get rollback".
    pub name: String,
    /// The groups the device is in.
    #[schemars(length(min = 1))]
    pub groups: Vec<Name>,
    /// The device's platform.
    pub platform: Platform,
    /// The device's OS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsVersion>,
    /// The device's hardware model identifier, e.g. "iPhone17,1": groups limited to other
    /// `models` send it nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "model-identifier"))]
    pub model: Option<String>,
    /// The effective settings the device must get; keys not listed are not checked.
    pub expect: Expectation,
}

/// The same blocks a policy uses, read as expectations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Expectation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_security: Option<BackgroundSecurity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_updates: Option<OsUpdates>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<Beta>,
    /// The enforcement target the device must get.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce: Option<ExpectedTarget>,
    /// `#true` when the device must get no enforcement target at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_enforce: Option<bool>,
}

/// `enforce version="26.3.1" build="25D771280a"` in an expectation; `by` is optional here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExpectedTarget {
    pub version: OsVersion,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildVersion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<LocalDateTime>,
}
