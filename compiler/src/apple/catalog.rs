//! Apple's releases as bsic knows them from a pinned catalog snapshot: each release's
//! version, build, supplemental marker, dates and supported devices, and what follows from
//! them for every stage — whether a build is a BSI (the catalog decides; without one bsic
//! infers it from the build's letter and says so) and which hardware models a release
//! supports (Mac board IDs mapped to model identifiers from data only). Reading feeds and
//! checking policies against the catalog is the `catalog` feature's job.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::model::{BuildVersion, Enforce, Platform};

/// One release: a version, its build, and for BSIs the supplemental marker. Fields a feed
/// does not give are absent from the snapshot, so a snapshot of a feed without them keeps its
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Release {
    pub platform: String,
    pub version: String,
    /// Empty when the feed knows the version but not its build (SOFA, for some releases).
    pub build: String,
    /// `(a)` for a Background Security Improvement / Rapid Security Response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
    /// Apple's `PostingDate` (SOFA's `ReleaseDate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Apple's `ExpirationDate`: after it, Apple no longer offers the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// A BSI's `PrerequisiteBuild`: the base build it installs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerequisite: Option<String>,
    /// Apple's `SupportedDevices`: model identifiers (iPhone, iPad, …) or board IDs (Mac).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
}

impl Release {
    /// A Background Security Improvement (or Rapid Security Response): the feed lists it as
    /// one (`(a)`); the catalog decides, not the build's letter.
    pub(crate) fn is_supplemental(&self) -> bool {
        self.extra.is_some()
    }
}

/// The normalised snapshot written to the user's repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// What the snapshot was made from.
    pub source: String,
    pub releases: Vec<Release>,
    /// Board ID → model identifier (`J413AP` → `Mac14,2`), from a SOFA feed's `Devices`:
    /// Apple's lookup service names Macs by board ID, devices report model identifiers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub boards: BTreeMap<String, String>,
}

/// The reviewed board ID → model identifier table (`apple/mac-board-ids.json`, from SOFA's
/// macOS feed; see `apple/SOURCES.md`).
const MAC_BOARD_IDS: &str = include_str!("../../data/mac-board-ids.json");

fn builtin_boards() -> &'static BTreeMap<String, String> {
    static TABLE: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    TABLE.get_or_init(|| serde_json::from_str(MAC_BOARD_IDS).unwrap_or_default())
}

/// Whether a build is a BSI, and whether the catalog said so or bsic inferred it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub bsi: bool,
    /// No pinned catalog lists the build: the letter rule decided.
    pub inferred: bool,
}

impl Catalog {
    /// The releases of `platform`.
    pub(crate) fn on(&self, platform: Platform) -> impl Iterator<Item = &Release> {
        // Apple lists iPadOS (and tvOS, watchOS) under iOS.
        self.releases
            .iter()
            .filter(move |r| r.platform == platform.apple_column() || r.platform == platform.name())
    }

    /// The release of `build` on one of `platforms`, if the catalog lists it.
    pub(crate) fn release_of(&self, platforms: &[Platform], build: &str) -> Option<&Release> {
        platforms
            .iter()
            .find_map(|p| self.on(*p).find(|r| r.build == build))
    }

    /// The model identifier of a device the feed names: a Mac board ID through the snapshot's
    /// own table or bsic's reviewed one; anything else as it is.
    pub(crate) fn model_of<'a>(&'a self, device: &'a str) -> &'a str {
        self.boards
            .get(device)
            .or_else(|| builtin_boards().get(device))
            .map_or(device, String::as_str)
    }

    /// The model identifiers `release` supports.
    pub(crate) fn models_of<'a>(&'a self, release: &'a Release) -> BTreeSet<&'a str> {
        release.devices.iter().map(|d| self.model_of(d)).collect()
    }

    /// Every model identifier the catalog knows on `platforms`.
    pub(crate) fn known_models(&self, platforms: &[Platform]) -> BTreeSet<&str> {
        platforms
            .iter()
            .flat_map(|p| self.on(*p))
            .flat_map(|r| r.devices.iter().map(|d| self.model_of(d)))
            .collect()
    }

    /// Every model identifier any release supports, sorted: what `models` may name.
    pub(crate) fn all_models(&self) -> Vec<String> {
        self.known_models(&Platform::ALL)
            .into_iter()
            .map(String::from)
            .collect()
    }

    /// Whether the catalog lists any supported devices at all (older snapshots do not).
    pub(crate) fn has_devices(&self) -> bool {
        self.releases.iter().any(|r| !r.devices.is_empty())
    }
}

/// Whether `build` on `platforms` is a BSI: exactly when the pinned catalog lists it as one
/// (a supplemental release); when no catalog is pinned or it does not list the build, by its
/// letter suffix on a long build number, and said to be inferred.
pub(crate) fn verdict(
    catalog: Option<&Catalog>,
    platforms: &[Platform],
    build: &BuildVersion,
) -> Verdict {
    match catalog.and_then(|c| c.release_of(platforms, build.as_str())) {
        Some(release) => Verdict {
            bsi: release.extra.is_some(),
            inferred: false,
        },
        None => Verdict {
            bsi: build.is_supplemental(),
            inferred: true,
        },
    }
}

/// Whether the enforcement `enforce` on `platforms` is staged (base version first, then the
/// BSI build): when its build is a BSI by [`verdict`].
pub(crate) fn is_staged(
    catalog: Option<&Catalog>,
    platforms: &[Platform],
    enforce: &Enforce,
) -> bool {
    enforce
        .build
        .as_ref()
        .is_some_and(|b| verdict(catalog, platforms, b).bsi)
}
