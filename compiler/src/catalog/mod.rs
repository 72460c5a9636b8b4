//! The build catalog: Apple's releases as an offline, pinned snapshot.
//!
//! `bsic catalog import FEED.json` normalises a downloaded feed (Apple's public versions
//! JSON, which lists BSI builds separately, or a SOFA feed) into a snapshot committed in the
//! user's repository and pinned by sha256 in `bsic.kdl`. `check` then verifies enforcement
//! targets against it. bsic never fetches anything.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics, Kind, suggest};
use crate::model::{BuildVersion, CatalogPin, OsVersion, Platform};
use crate::source::Span;
use crate::validate::Model;

/// One release: a version, its build, and for BSIs the supplemental marker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Release {
    pub platform: String,
    pub version: String,
    pub build: String,
    /// `(a)` for a Background Security Improvement / Rapid Security Response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

impl Release {
    /// A Background Security Improvement (or Rapid Security Response): marked `(a)` by the
    /// feed, or a long build number with a letter suffix.
    pub(crate) fn is_supplemental(&self) -> bool {
        self.extra.is_some()
            || self
                .build
                .parse::<BuildVersion>()
                .is_ok_and(|b| b.is_supplemental())
    }
}

/// The normalised snapshot written to the user's repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// What the snapshot was made from.
    pub source: String,
    pub releases: Vec<Release>,
}

/// Problems reading or importing a feed (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CatalogError {
    #[error("cannot read `{}`", path.display())]
    #[diagnostic(code("bsic::catalog::read"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not JSON: {message}", path.display())]
    #[diagnostic(
        code("bsic::catalog::malformed"),
        help("pass the feed file as downloaded")
    )]
    Malformed { path: PathBuf, message: String },
    #[error("`{}` is neither Apple's public versions JSON nor a SOFA feed", path.display())]
    #[diagnostic(
        code("bsic::catalog::unknown-format"),
        help("expected `PublicAssetSets` (Apple) or `OSVersions` (SOFA) at the top level")
    )]
    UnknownFormat { path: PathBuf },
}

impl Catalog {
    /// Normalises a downloaded feed. `platform_hint` names the platform of a SOFA feed when
    /// the feed does not tell (a SOFA macOS feed carries XProtect data; an iOS one does not).
    pub fn from_feed(
        path: &Path,
        text: &str,
        platform_hint: Option<Platform>,
    ) -> Result<Catalog, CatalogError> {
        let value: Value = serde_json::from_str(text).map_err(|e| CatalogError::Malformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let mut releases = BTreeSet::new();
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if value.get("PublicAssetSets").is_some() || value.get("AssetSets").is_some() {
            for (set, supplemental) in [
                ("PublicAssetSets", false),
                ("AssetSets", false),
                ("PublicRapidSecurityResponses", true),
                ("PublicBackgroundSecurityImprovements", true),
            ] {
                let Some(platforms) = value.get(set).and_then(Value::as_object) else {
                    continue;
                };
                for (platform, entries) in platforms {
                    for entry in entries.as_array().map(Vec::as_slice).unwrap_or_default() {
                        if let Some(release) = apple_entry(platform, entry, supplemental) {
                            releases.insert(release);
                        }
                    }
                }
            }
            return Ok(Catalog {
                source: format!("Apple public versions feed ({name})"),
                releases: releases.into_iter().collect(),
            });
        }
        if let Some(versions) = value.get("OSVersions").and_then(Value::as_array) {
            let platform = platform_hint.map_or_else(
                || {
                    if value.get("XProtectPlistConfigData").is_some() {
                        "macOS"
                    } else {
                        "iOS"
                    }
                },
                Platform::apple_column,
            );
            for os in versions {
                let latest = os.get("Latest").into_iter();
                let security = os
                    .get("SecurityReleases")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten();
                for entry in latest.chain(security) {
                    if let Some(release) = sofa_entry(platform, entry) {
                        releases.insert(release);
                    }
                }
            }
            return Ok(Catalog {
                source: format!("SOFA feed ({name})"),
                releases: releases.into_iter().collect(),
            });
        }
        Err(CatalogError::UnknownFormat {
            path: path.to_path_buf(),
        })
    }

    /// The snapshot as committed: pretty JSON, sorted, with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// The releases of `platform`.
    pub(crate) fn on(&self, platform: Platform) -> impl Iterator<Item = &Release> {
        // Apple lists iPadOS (and tvOS, watchOS) under iOS.
        self.releases
            .iter()
            .filter(move |r| r.platform == platform.apple_column() || r.platform == platform.name())
    }
}

fn text(entry: &Value, key: &str) -> Option<String> {
    entry.get(key).and_then(|v| {
        v.as_str()
            .map(String::from)
            .or_else(|| v.as_f64().map(|f| f.to_string()))
    })
}

fn apple_entry(platform: &str, entry: &Value, supplemental: bool) -> Option<Release> {
    let version = text(entry, "ProductVersion")?;
    let build = text(entry, "Build")?;
    let extra = text(entry, "ProductVersionExtra").or_else(|| {
        supplemental
            .then(|| {
                build
                    .chars()
                    .last()
                    .filter(char::is_ascii_lowercase)
                    .map(|c| format!("({c})"))
            })
            .flatten()
    });
    let platform = if platform == "xrOS" {
        "visionOS".to_string()
    } else {
        platform.to_string()
    };
    Some(Release {
        platform,
        version,
        build,
        extra,
        date: text(entry, "PostingDate"),
    })
}

fn sofa_entry(platform: &str, entry: &Value) -> Option<Release> {
    let version = text(entry, "ProductVersion")?;
    let build = text(entry, "Build")?;
    let extra = build
        .parse::<BuildVersion>()
        .ok()
        .filter(BuildVersion::is_supplemental)
        .and_then(|b| b.suffix())
        .map(|c| format!("({c})"));
    Some(Release {
        platform: platform.to_string(),
        version,
        build,
        extra,
        date: text(entry, "ReleaseDate"),
    })
}

/// Why a pinned snapshot cannot be used: what to say, and the label on bsic.kdl's `catalog`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LoadError {
    pub(crate) message: String,
    pub(crate) label: &'static str,
}

/// Reads the snapshot `pin` names (relative to the project `root`), verifies its pinned
/// sha256 and parses it. `check` reports the error; the language server only needs the
/// releases and goes without them on an error.
pub(crate) fn load(root: &Path, pin: &CatalogPin) -> Result<Catalog, LoadError> {
    let path = root.join(&pin.path);
    let bytes = std::fs::read(&path).map_err(|e| LoadError {
        message: format!("cannot read the catalog `{}`: {e}", pin.path),
        label: "named here",
    })?;
    let actual = crate::emit::sha256_hex(&bytes);
    if actual != pin.sha256 {
        return Err(LoadError {
            message: format!(
                "the catalog `{}` has sha256 {actual}, not the pinned {}",
                pin.path, pin.sha256
            ),
            label: "pinned here",
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| LoadError {
        message: format!("the catalog `{}` is not a bsic snapshot: {e}", pin.path),
        label: "named here",
    })
}

/// Loads the pinned snapshot named in bsic.kdl and checks every enforcement target against it.
pub fn check(root: &Path, model: &Model, diagnostics: &mut Diagnostics) {
    let Some(pin) = &model.project.catalog else {
        return;
    };
    let catalog = match load(root, pin) {
        Ok(catalog) => catalog,
        Err(error) => {
            let at = model.value_span(
                &crate::validate::Location {
                    file: model.project_file,
                    pointer: "/catalog".into(),
                },
                "",
            );
            diagnostics.push(Diagnostic::error(
                Kind::Catalog {
                    message: error.message,
                },
                at,
                error.label,
            ));
            return;
        }
    };
    for placed in &model.policies {
        let policy = &placed.value;
        for (i, enforce) in policy.enforce.iter().enumerate() {
            let platforms: Vec<Platform> = match enforce.platform {
                Some(p) => vec![p],
                None => policy
                    .platforms
                    .clone()
                    .unwrap_or_else(|| vec![Platform::MacOs, Platform::Ios]),
            };
            let span = |field: &str| model.value_span(&placed.at, &format!("/enforce/{i}/{field}"));
            check_target(
                &catalog,
                model,
                &platforms,
                &enforce.version,
                enforce.build.as_ref(),
                span,
                diagnostics,
            );
        }
    }
}

fn check_target(
    catalog: &Catalog,
    model: &Model,
    platforms: &[Platform],
    version: &OsVersion,
    build: Option<&BuildVersion>,
    span: impl Fn(&str) -> Span,
    diagnostics: &mut Diagnostics,
) {
    let known: Vec<&Release> = platforms.iter().flat_map(|p| catalog.on(*p)).collect();
    if known.is_empty() {
        return;
    }
    if !known.iter().any(|r| r.version == version.as_str()) {
        let versions: BTreeSet<&str> = known.iter().map(|r| r.version.as_str()).collect();
        let hint = suggest(version.as_str(), versions.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        diagnostics.push(Diagnostic::error(
            Kind::Catalog {
                message: format!("the catalog has no release {version}{hint}"),
            },
            span("version"),
            "unknown release",
        ));
    }
    if let Some(build) = build {
        match known.iter().find(|r| r.build == build.as_str()) {
            None => {
                let builds: BTreeSet<&str> = known.iter().map(|r| r.build.as_str()).collect();
                let hint = suggest(build.as_str(), builds.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                diagnostics.push(Diagnostic::error(
                    Kind::Catalog {
                        message: format!("the catalog has no build {build}{hint}"),
                    },
                    span("build"),
                    "unknown build",
                ));
            }
            Some(release) if release.version != version.as_str() => {
                diagnostics.push(Diagnostic::error(
                    Kind::Catalog {
                        message: format!(
                            "build {build} is {}{}, not {version}",
                            release.version,
                            release
                                .extra
                                .as_ref()
                                .map(|e| format!(" {e}"))
                                .unwrap_or_default()
                        ),
                    },
                    span("build"),
                    "belongs to another version",
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(fleet) = &model.project.fleet {
        for platform in platforms {
            if let Some(minimum) = fleet.minimum(*platform)
                && version.components() < minimum.components()
            {
                diagnostics.push(Diagnostic::error(
                    Kind::Catalog {
                        message: format!(
                            "{} devices already run {minimum} or later; target {version} is older",
                            platform.name()
                        ),
                    },
                    span("version"),
                    "older than the fleet",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_feed_with_bsi_builds() {
        let feed = r#"{"PublicAssetSets": {"macOS": [{"ProductVersion": "26.3.1", "Build": "25D2128", "PostingDate": "2026-03-10"}]},
            "PublicBackgroundSecurityImprovements": {"macOS": [{"ProductVersion": "26.3.1", "Build": "25D771280a", "ProductVersionExtra": "(a)"}]}}"#;
        let catalog = Catalog::from_feed(Path::new("pmv.json"), feed, None).unwrap();
        assert_eq!(catalog.releases.len(), 2);
        assert!(
            catalog
                .releases
                .iter()
                .any(|r| r.build == "25D771280a" && r.extra.as_deref() == Some("(a)"))
        );
    }

    #[test]
    fn sofa_feed() {
        let feed = r#"{"OSVersions": [{"OSVersion": "Tahoe 26", "Latest": {"ProductVersion": "26.3.1", "Build": "25D2128"},
            "SecurityReleases": [{"ProductVersion": "26.3.1", "Build": "25D771280a"}, {"ProductVersion": "26.3", "Build": "25D125"}]}],
            "XProtectPlistConfigData": {}}"#;
        let catalog = Catalog::from_feed(Path::new("macos_data_feed.json"), feed, None).unwrap();
        assert_eq!(catalog.releases.len(), 3);
        assert!(catalog.releases.iter().all(|r| r.platform == "macOS"));
        assert!(Catalog::from_feed(Path::new("x.json"), "{}", None).is_err());
    }
}
