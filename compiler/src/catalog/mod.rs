//! The build catalog: Apple's releases as an offline, pinned snapshot.
//!
//! `bsic catalog import FEED.json` normalises a downloaded feed (Apple's public versions
//! JSON, which lists BSI builds separately, or a SOFA feed) into a snapshot committed in the
//! user's repository and pinned by sha256 in `bsic.kdl`. `check` then verifies enforcement
//! targets against it. bsic never fetches anything.

pub mod diags;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::diags::CatalogKind;
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::model::path::{EnforceField, Field};
use crate::model::{BuildVersion, CatalogPin, OsVersion, Platform};
use crate::source::{FileId, Span};
use crate::validate::{Location, Model};

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
    #[error("`{}` has entries that are not releases: {message}", path.display())]
    #[diagnostic(
        code("bsic::catalog::invalid"),
        help("download the feed again; `bsic catalog import` says where each entry is wrong")
    )]
    Invalid { path: PathBuf, message: String },
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
    /// An entry that is not a release is an error; [`Catalog::import_feed`] says where.
    pub fn from_feed(
        path: &Path,
        text: &str,
        platform_hint: Option<Platform>,
    ) -> Result<Catalog, CatalogError> {
        let mut diagnostics = Diagnostics::default();
        let catalog = Self::import_feed(path, text, FileId(0), platform_hint, &mut diagnostics)?;
        match diagnostics.sorted().first() {
            Some(first) if diagnostics.has_errors() => Err(CatalogError::Invalid {
                path: path.to_path_buf(),
                message: first.to_string(),
            }),
            _ => Ok(catalog),
        }
    }

    /// Normalises a downloaded feed read into the sources as `file`. Every entry must be a
    /// release bsic can pin (a known platform, an OS version, a build, text where text
    /// belongs): each one that is not is an error located in the feed, and the caller writes
    /// nothing, so a snapshot never holds `../../x` as a version or markup as a build.
    pub fn import_feed(
        path: &Path,
        text: &str,
        file: FileId,
        platform_hint: Option<Platform>,
        diagnostics: &mut Diagnostics,
    ) -> Result<Catalog, CatalogError> {
        let projection = match crate::raw::json::parse(text, file) {
            Ok(projection) => projection,
            Err(error) => {
                diagnostics.push(*error);
                return Ok(Catalog::default());
            }
        };
        diagnostics.extend(projection.diagnostics.iter().cloned());
        let feed = Feed {
            projection: &projection,
            file,
        };
        let value = &projection.value;
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if value.get("PublicAssetSets").is_some() || value.get("AssetSets").is_some() {
            return Ok(Catalog {
                source: format!("Apple public versions feed ({name})"),
                releases: apple_feed_releases(&feed, diagnostics),
            });
        }
        if let Some(versions) = value.get("OSVersions") {
            let Value::Array(versions) = versions else {
                diagnostics.push(feed.wrong_type("/OSVersions", "an array", versions));
                return Ok(Catalog::default());
            };
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
            return Ok(Catalog {
                source: format!("SOFA feed ({name})"),
                releases: sofa_releases(&feed, versions, platform, diagnostics),
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

/// The releases of Apple's public versions feed (`gdmf.apple.com/v2/pmv`): OS releases and
/// (supplemental) BSIs, per platform.
fn apple_feed_releases(feed: &Feed<'_>, diagnostics: &mut Diagnostics) -> Vec<Release> {
    let value = &feed.projection.value;
    let mut releases = BTreeSet::new();
    for (set, supplemental) in [
        ("PublicAssetSets", false),
        ("AssetSets", false),
        ("PublicRapidSecurityResponses", true),
        ("PublicBackgroundSecurityImprovements", true),
    ] {
        let pointer = format!("/{set}");
        let platforms = match value.get(set) {
            None | Some(Value::Null) => continue,
            Some(Value::Object(platforms)) => platforms,
            Some(other) => {
                diagnostics.push(feed.wrong_type(&pointer, "an object of platforms", other));
                continue;
            }
        };
        for (platform, entries) in platforms {
            let pointer = crate::validate::push_pointer(&pointer, platform);
            let Some(platform) = feed_platform(platform) else {
                diagnostics.push(feed.error(
                    feed.key(&pointer),
                    format!("`{platform}` is not an Apple platform"),
                    "unknown platform",
                ));
                continue;
            };
            let Value::Array(entries) = entries else {
                diagnostics.push(feed.wrong_type(&pointer, "an array of releases", entries));
                continue;
            };
            for (i, entry) in entries.iter().enumerate() {
                let pointer = format!("{pointer}/{i}");
                let keys = ("ProductVersion", "Build", "PostingDate");
                match feed.release(platform, entry, &pointer, keys, Some(supplemental)) {
                    Ok(release) => {
                        releases.insert(release);
                    }
                    Err(error) => diagnostics.push(*error),
                }
            }
        }
    }
    releases.into_iter().collect()
}

/// The releases of a SOFA feed's `OSVersions` (each OS's latest and security releases), all
/// on `platform`.
fn sofa_releases(
    feed: &Feed<'_>,
    versions: &[Value],
    platform: &str,
    diagnostics: &mut Diagnostics,
) -> Vec<Release> {
    let mut releases = BTreeSet::new();
    for (i, os) in versions.iter().enumerate() {
        let pointer = format!("/OSVersions/{i}");
        let mut entries: Vec<(String, &Value)> = Vec::new();
        match os.get("Latest") {
            None | Some(Value::Null) => {}
            Some(latest) => entries.push((format!("{pointer}/Latest"), latest)),
        }
        match os.get("SecurityReleases") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => entries.extend(
                list.iter()
                    .enumerate()
                    .map(|(j, e)| (format!("{pointer}/SecurityReleases/{j}"), e)),
            ),
            Some(other) => diagnostics.push(feed.wrong_type(
                &format!("{pointer}/SecurityReleases"),
                "an array of releases",
                other,
            )),
        }
        if !os.is_object() {
            diagnostics.push(feed.wrong_type(&pointer, "an object", os));
        }
        for (pointer, entry) in entries {
            let keys = ("ProductVersion", "Build", "ReleaseDate");
            match feed.release(platform, entry, &pointer, keys, None) {
                Ok(release) => {
                    releases.insert(release);
                }
                Err(error) => diagnostics.push(*error),
            }
        }
    }
    releases.into_iter().collect()
}

/// The platforms an Apple feed may list, as bsic names them (`xrOS` is visionOS); watchOS is
/// Apple's even though bsic does not manage it.
fn feed_platform(name: &str) -> Option<&'static str> {
    match name {
        "xrOS" | "visionOS" => Some("visionOS"),
        "watchOS" => Some("watchOS"),
        _ => Platform::ALL
            .iter()
            .find(|p| p.name() == name)
            .map(|p| p.name()),
    }
}

/// One feed being read: its projection (values and their spans) and its file.
struct Feed<'a> {
    projection: &'a crate::validate::Projection,
    file: FileId,
}

impl Feed<'_> {
    fn value(&self, pointer: &str) -> Span {
        self.projection
            .spans
            .value(pointer)
            .unwrap_or(Span::start_of(self.file))
    }

    fn key(&self, pointer: &str) -> Span {
        self.projection
            .spans
            .key(pointer)
            .unwrap_or(Span::start_of(self.file))
    }

    fn error(&self, at: Span, message: String, label: &str) -> Diagnostic {
        Diagnostic::error(CatalogKind::FeedEntry { message }, at, label)
    }

    fn wrong_type(&self, pointer: &str, expected: &str, found: &Value) -> Diagnostic {
        let found = match found {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        };
        self.error(
            self.value(pointer),
            format!("expected {expected}, found {found}"),
            "wrong type",
        )
    }

    /// A required (`required`) or optional string field of an entry.
    fn text(
        &self,
        entry: &Value,
        pointer: &str,
        key: &str,
        required: bool,
    ) -> Result<Option<String>, Box<Diagnostic>> {
        let at = format!("{pointer}/{key}");
        match entry.get(key) {
            Some(Value::String(s)) => Ok(Some(s.clone())),
            None | Some(Value::Null) if !required => Ok(None),
            None | Some(Value::Null) => Err(Box::new(self.error(
                self.value(pointer),
                format!("the release has no `{key}`"),
                "incomplete release",
            ))),
            Some(other) => Err(Box::new(self.wrong_type(
                &at,
                &format!("`{key}` as a string"),
                other,
            ))),
        }
    }

    /// One release entry: (version, build, date) under `keys`, checked as bsic's own values.
    fn release(
        &self,
        platform: &str,
        entry: &Value,
        pointer: &str,
        keys: (&str, &str, &str),
        supplemental: Option<bool>,
    ) -> Result<Release, Box<Diagnostic>> {
        if !entry.is_object() {
            return Err(Box::new(self.wrong_type(
                pointer,
                "a release object",
                entry,
            )));
        }
        let (version_key, build_key, date_key) = keys;
        let version = self
            .text(entry, pointer, version_key, true)?
            .unwrap_or_default();
        if let Err(e) = version.parse::<OsVersion>() {
            return Err(Box::new(self.error(
                self.value(&format!("{pointer}/{version_key}")),
                format!("`{version}` is not an OS version: {e}"),
                "not a version",
            )));
        }
        let build = self
            .text(entry, pointer, build_key, true)?
            .unwrap_or_default();
        let parsed = build.parse::<BuildVersion>().map_err(|e| {
            Box::new(self.error(
                self.value(&format!("{pointer}/{build_key}")),
                format!("`{build}` is not a build: {e}"),
                "not a build",
            ))
        })?;
        let extra = match self.text(entry, pointer, "ProductVersionExtra", false)? {
            Some(extra) => {
                let b = extra.as_bytes();
                let ok = b.len() == 3 && b[0] == b'(' && b[1].is_ascii_lowercase() && b[2] == b')';
                if !ok {
                    return Err(Box::new(self.error(
                        self.value(&format!("{pointer}/ProductVersionExtra")),
                        format!("`{extra}` is not a supplemental marker such as `(a)`"),
                        "not a marker",
                    )));
                }
                Some(extra)
            }
            // Apple's feed says in which set a BSI is; a SOFA feed only by the build.
            None => supplemental
                .unwrap_or_else(|| parsed.is_supplemental())
                .then(|| parsed.suffix().map(|c| format!("({c})")))
                .flatten(),
        };
        let date = self.text(entry, pointer, date_key, false)?;
        if let Some(date) = &date {
            let ok = date.len() <= 40
                && date
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '+' | '.'));
            if !ok {
                return Err(Box::new(self.error(
                    self.value(&format!("{pointer}/{date_key}")),
                    format!("`{date}` is not a date"),
                    "not a date",
                )));
            }
        }
        Ok(Release {
            platform: platform.to_string(),
            version,
            build,
            extra,
            date,
        })
    }
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
            let at = model.value_span(&Location::root(model.project_file), Field::Catalog);
            diagnostics.push(Diagnostic::error(
                CatalogKind::Catalog {
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
            let span = |field| model.value_span(&placed.at, Field::EnforceField(i, field));
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
    span: impl Fn(EnforceField) -> Span,
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
            CatalogKind::Catalog {
                message: format!("the catalog has no release {version}{hint}"),
            },
            span(EnforceField::Version),
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
                    CatalogKind::Catalog {
                        message: format!("the catalog has no build {build}{hint}"),
                    },
                    span(EnforceField::Build),
                    "unknown build",
                ));
            }
            Some(release) if release.version != version.as_str() => {
                diagnostics.push(Diagnostic::error(
                    CatalogKind::Catalog {
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
                    span(EnforceField::Build),
                    "belongs to another version",
                ))
            }
            Some(_) => {}
        }
    }
    if let Some(fleet) = &model.project.fleet {
        for platform in platforms {
            if let Some(minimum) = fleet.minimum(*platform)
                && version < minimum
            {
                diagnostics.push(Diagnostic::error(
                    CatalogKind::Catalog {
                        message: format!(
                            "{} devices already run {minimum} or later; target {version} is older",
                            platform.name()
                        ),
                    },
                    span(EnforceField::Version),
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
    fn entries_that_are_not_releases_are_located_errors() {
        let feed = "{\"PublicAssetSets\": {\"macOS\": [\n{\"ProductVersion\": \"26.3.1\", \"Build\": \"25D2128\"},\n{\"ProductVersion\": \"../../x\", \"Build\": \"25D1\"},\n{\"ProductVersion\": \"26.3\", \"Build\": \"<script>\"},\n{\"ProductVersion\": 26.3, \"Build\": \"25D1\"},\n{\"ProductVersion\": \"26.3\", \"Build\": \"25D1\", \"ProductVersionExtra\": \"<b>\"},\n[]],\n\"Plan9\": []}}";
        let mut diagnostics = Diagnostics::default();
        let catalog =
            Catalog::import_feed(Path::new("f.json"), feed, FileId(0), None, &mut diagnostics)
                .unwrap();
        assert_eq!(catalog.releases.len(), 1, "the good entry is still read");
        let lines: Vec<usize> = diagnostics
            .sorted()
            .iter()
            .map(|d| {
                assert_eq!(d.code(), "bsic::feed-entry");
                crate::source::line_col(feed, d.at.offset).0
            })
            .collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7, 8]);
        assert!(Catalog::from_feed(Path::new("f.json"), feed, None).is_err());
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
