//! Policy files: groups and policies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{BuildVersion, DetailsUrl, LocalDateTime, ModelPattern, Name, OsVersion};

/// A policy file: any number of `group` and `policy` nodes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(title = "bsic policy file", extend("$id" = "https://bsic.dev/schemas/bsic-policy.schema.json"))]
pub struct PolicyFile {
    /// A named set of devices that policies apply to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub group: Vec<Group>,
    /// Software-update and Background Security Improvement settings for some groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy: Vec<Policy>,
}

/// `group "NAME" description="…" { includes "OTHER" … }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("x-kdl-argument" = "name"))]
pub struct Group {
    /// The group's name: the first argument.
    pub name: Name,
    /// What the group is for, shown in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other groups whose devices belong to this one too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<Name>,
    /// Only devices of these platforms belong to the group (checked on the device through the
    /// activation's predicate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub platforms: Option<Vec<Platform>>,
    /// Only devices whose OS version is in this range (checked on the device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<OsRange>,
    /// Only devices of these hardware models: model identifiers (`"iPhone17,1"`) or family
    /// prefixes ending in `*` (`"Mac17,*"`), checked on the device through the activation's
    /// predicate over `device.model.identifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub models: Option<Vec<ModelPattern>>,
}

/// `os min="26.1" max="26.4"`: an inclusive range of MAJOR.MINOR versions (patch releases
/// of the bounds included).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OsRange {
    /// The lowest version, e.g. "26.1" (or "26.3.2" from that patch on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<OsVersion>,
    /// The highest version, e.g. "26.4" (all its patches) or "26.4.1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<OsVersion>,
}

/// `policy "NAME" { applies-to …; background-security { … }; os-updates { … }; enforce … }`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("x-kdl-argument" = "name"))]
pub struct Policy {
    /// The policy's name: the first argument. Unique in the project.
    pub name: Name,
    /// What the policy is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The groups whose devices get this policy (`all` means every device).
    #[schemars(length(min = 1))]
    pub applies_to: Vec<Name>,
    /// The platforms the policy targets; all platforms when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub platforms: Option<Vec<Platform>>,
    /// Higher wins when two policies set the same key for one group (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = -1000, max = 1000))]
    pub priority: Option<i64>,
    /// Which channels carry the policy: DDM declarations, configuration profiles, or both
    /// (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub channels: Option<Vec<Channel>>,
    /// Background Security Improvement (Rapid Security Response) settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_security: Option<BackgroundSecurity>,
    /// OS update settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_updates: Option<OsUpdates>,
    /// Beta program settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beta: Option<Beta>,
    /// A target OS version (and build) devices must reach by a deadline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enforce: Vec<Enforce>,
}

/// `background-security { automatic-install "always-on"; offer #true; allow-rollback #false }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BackgroundSecurity {
    /// `AutomaticActions.InstallSecurityUpdate` (macOS): automatic install of BSIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_install: Option<AutomaticMode>,
    /// `RapidSecurityResponse.Enable`: offer BSIs to the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<bool>,
    /// `RapidSecurityResponse.EnableRollback`: let the user remove an installed BSI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_rollback: Option<bool>,
}

/// `os-updates { download "always-on"; install "allowed"; defer major=30; notifications #true }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OsUpdates {
    /// `AutomaticActions.Download`: automatic download of available updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<AutomaticMode>,
    /// `AutomaticActions.InstallOSUpdates`: automatic install of OS updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install: Option<AutomaticMode>,
    /// `Deferrals`: days an update stays hidden after its release. BSIs ignore deferrals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer: Option<Defer>,
    /// `Notifications`: show all enforcement notifications (otherwise only the last hour's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<bool>,
    /// `AllowStandardUserOSUpdates` (macOS): standard users may install major and minor updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_standard_user_updates: Option<bool>,
    /// `RecommendedCadence` (iOS): which of several available updates the user sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_cadence: Option<Cadence>,
}

/// `defer major=30 minor=7 system=3` (macOS) or `defer combined=14` (iOS): days, 1 to 90.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Defer {
    /// `Deferrals.CombinedPeriodInDays` (iOS): major and minor updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 90))]
    pub combined: Option<u8>,
    /// `Deferrals.MajorPeriodInDays` (macOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 90))]
    pub major: Option<u8>,
    /// `Deferrals.MinorPeriodInDays` (macOS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 90))]
    pub minor: Option<u8>,
    /// `Deferrals.SystemPeriodInDays` (macOS): system and non-OS updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 90))]
    pub system: Option<u8>,
}

/// `beta { enrollment "always-off" }`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Beta {
    /// `Beta.ProgramEnrollment`: whether the user may enroll in beta programs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<AutomaticMode>,
    /// `Beta.OfferPrograms`: beta programs offered to the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offer_program: Vec<BetaProgram>,
    /// `Beta.RequireProgram`: the beta program the device is enrolled in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_program: Option<BetaProgram>,
}

/// `offer-program description="…" token="…"`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct BetaProgram {
    /// A human-readable description of the program.
    #[schemars(length(min = 1))]
    pub description: String,
    /// The Apple Business or School Manager seeding service token.
    #[schemars(length(min = 1))]
    pub token: String,
}

/// `enforce version="26.3.1" build="25D771280a" by="2026-04-01T09:00:00" details="https://…"`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Enforce {
    /// `TargetOSVersion`: the OS version devices must reach.
    pub version: OsVersion,
    /// `TargetBuildVersion`: a specific build; a trailing lower-case letter on a long build
    /// number is a BSI (supplemental) build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildVersion>,
    /// `TargetLocalDateTime`: the local deadline, after which the device installs by force.
    pub by: LocalDateTime,
    /// `DetailsURL`: a page about the update, shown to the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<DetailsUrl>,
    /// The platform this target is for; required when a policy has several `enforce` nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// Apple's `Allowed` / `AlwaysOn` / `AlwaysOff`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum AutomaticMode {
    /// The user decides (`Allowed`).
    Allowed,
    /// Always on; the user cannot turn it off (`AlwaysOn`).
    AlwaysOn,
    /// Always off; the user cannot turn it on (`AlwaysOff`).
    AlwaysOff,
}

impl AutomaticMode {
    /// Apple's spelling in declarations.
    pub fn apple(self) -> &'static str {
        match self {
            AutomaticMode::Allowed => "Allowed",
            AutomaticMode::AlwaysOn => "AlwaysOn",
            AutomaticMode::AlwaysOff => "AlwaysOff",
        }
    }

    /// bsic's spelling in policies.
    pub fn kdl(self) -> &'static str {
        match self {
            AutomaticMode::Allowed => "allowed",
            AutomaticMode::AlwaysOn => "always-on",
            AutomaticMode::AlwaysOff => "always-off",
        }
    }
}

/// Apple's `RecommendedCadence` values.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Cadence {
    /// Show every available update (`All`).
    All,
    /// Show only the oldest, lowest-numbered update (`Oldest`).
    Oldest,
    /// Show only the newest, highest-numbered update (`Newest`).
    Newest,
}

impl Cadence {
    pub fn apple(self) -> &'static str {
        match self {
            Cadence::All => "All",
            Cadence::Oldest => "Oldest",
            Cadence::Newest => "Newest",
        }
    }
}

/// An Apple platform, as the device reports `device.operating-system.family`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Platform {
    #[serde(rename = "macOS")]
    MacOs,
    #[serde(rename = "iOS")]
    Ios,
    #[serde(rename = "iPadOS")]
    IpadOs,
    #[serde(rename = "tvOS")]
    TvOs,
    #[serde(rename = "visionOS")]
    VisionOs,
}

impl Platform {
    pub const ALL: [Platform; 5] = [
        Platform::MacOs,
        Platform::Ios,
        Platform::IpadOs,
        Platform::TvOs,
        Platform::VisionOs,
    ];

    /// The name devices report and policies use.
    pub fn name(self) -> &'static str {
        match self {
            Platform::MacOs => "macOS",
            Platform::Ios => "iOS",
            Platform::IpadOs => "iPadOS",
            Platform::TvOs => "tvOS",
            Platform::VisionOs => "visionOS",
        }
    }

    /// The platform column in Apple's definitions (iPadOS is listed under iOS).
    pub fn apple_column(self) -> &'static str {
        match self {
            Platform::IpadOs => "iOS",
            other => other.name(),
        }
    }
}

/// A delivery channel.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// Declarative Device Management declarations (OS 26, macOS 15+, iOS 18+).
    Ddm,
    /// Configuration profiles (older systems and MDMs without DDM).
    Profile,
}

impl OsRange {
    /// Whether `version` falls in the range, comparing numerically. A bound without a patch
    /// number takes in all of its minor version (`max="26.4"` admits 26.4.3); one with a
    /// patch number is exact (`min="26.3.2"` excludes 26.3.1).
    pub fn contains(&self, version: &OsVersion) -> bool {
        let above = self
            .min
            .as_ref()
            .is_none_or(|m| version.cmp_numeric(m).is_ge());
        let below = self.max.as_ref().is_none_or(|m| {
            if m.has_patch() {
                version.cmp_numeric(m).is_le()
            } else {
                version.cmp_minor(m).is_le()
            }
        });
        above && below
    }
}
