//! The build catalog: Apple's releases as an offline, pinned snapshot.
//!
//! `bsic catalog import FEED.json` normalises a downloaded feed (Apple's public versions
//! JSON, which lists BSI builds separately, or a SOFA feed) into a snapshot committed in the
//! user's repository and pinned by sha256 in `bsic.kdl`. `check` then verifies enforcement
//! targets against it. bsic never fetches anything.

pub(crate) mod diags;
mod truth;

pub(crate) use crate::apple::catalog::{Catalog, Release};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::catalog::diags::CatalogKind;
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::model::path::{EnforceField, Field};
use crate::model::{BuildVersion, CatalogPin, OsVersion, Platform};
use crate::resolve::Resolution;
use crate::source::{FileId, Span};
use crate::validate::{Location, Model};

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
                boards: BTreeMap::new(),
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
                boards: sofa_boards(&feed, diagnostics),
            });
        }
        Err(CatalogError::UnknownFormat {
            path: path.to_path_buf(),
        })
    }

    /// Adds the releases and board IDs of another feed.
    pub fn merge(&mut self, other: Catalog) {
        self.releases.extend(other.releases);
        self.boards.extend(other.boards);
    }

    /// Sorts the releases and folds the entries of one build into one: Apple lists a build
    /// once per asset set and once per group of devices with its own expiration. The merged
    /// release supports every device any entry lists, was posted on the earliest date and
    /// expires on the latest.
    pub fn normalise(&mut self) {
        let mut merged: BTreeMap<(String, String, String, Option<String>), Release> =
            BTreeMap::new();
        for release in std::mem::take(&mut self.releases) {
            let key = (
                release.platform.clone(),
                release.version.clone(),
                release.build.clone(),
                release.extra.clone(),
            );
            match merged.get_mut(&key) {
                None => {
                    merged.insert(key, release);
                }
                Some(kept) => {
                    kept.date = min_present(kept.date.take(), release.date);
                    kept.expires = match (kept.expires.take(), release.expires) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    kept.prerequisite = kept.prerequisite.take().or(release.prerequisite);
                    kept.devices.extend(release.devices);
                    kept.devices.sort();
                    kept.devices.dedup();
                }
            }
        }
        self.releases = merged.into_values().collect();
    }

    /// The snapshot as committed: pretty JSON, sorted, with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// The earlier of two optional dates (ISO 8601 text sorts by time).
fn min_present(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The keys one kind of feed entry names its fields with.
struct Keys {
    version: &'static str,
    build: &'static str,
    date: &'static str,
    extra: &'static str,
}

/// Apple's Software Lookup Service (`gdmf.apple.com/v2/pmv`).
static APPLE_KEYS: Keys = Keys {
    version: "ProductVersion",
    build: "Build",
    date: "PostingDate",
    extra: "ProductVersionExtra",
};

/// A SOFA feed's `OSVersions` releases.
static SOFA_KEYS: Keys = Keys {
    version: "ProductVersion",
    build: "Build",
    date: "ReleaseDate",
    extra: "ProductVersionExtra",
};

/// A SOFA feed's `BackgroundSecurityImprovements` entries.
static SOFA_BSI_KEYS: Keys = Keys {
    version: "Version",
    build: "Build",
    date: "PostingDate",
    extra: "VersionExtra",
};

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
                match feed.release(platform, entry, &pointer, &APPLE_KEYS, Some(supplemental)) {
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

/// The releases of a SOFA feed: `OSVersions` (each OS's latest and security releases) and,
/// in its second version, `BackgroundSecurityImprovements` (per major version), all on
/// `platform`.
fn sofa_releases(
    feed: &Feed<'_>,
    versions: &[Value],
    platform: &'static str,
    diagnostics: &mut Diagnostics,
) -> Vec<Release> {
    let mut releases = BTreeSet::new();
    let mut entries: Vec<(String, &Value, &Keys)> = Vec::new();
    for (i, os) in versions.iter().enumerate() {
        let pointer = format!("/OSVersions/{i}");
        match os.get("Latest") {
            None | Some(Value::Null) => {}
            Some(latest) => entries.push((format!("{pointer}/Latest"), latest, &SOFA_KEYS)),
        }
        match os.get("SecurityReleases") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => entries.extend(
                list.iter()
                    .enumerate()
                    .map(|(j, e)| (format!("{pointer}/SecurityReleases/{j}"), e, &SOFA_KEYS)),
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
    }
    match feed.projection.value.get("BackgroundSecurityImprovements") {
        None | Some(Value::Null) => {}
        Some(Value::Object(majors)) => {
            for (major, list) in majors {
                let pointer =
                    crate::validate::push_pointer("/BackgroundSecurityImprovements", major);
                match list {
                    Value::Array(list) => entries.extend(
                        list.iter()
                            .enumerate()
                            .map(|(j, e)| (format!("{pointer}/{j}"), e, &SOFA_BSI_KEYS)),
                    ),
                    other => {
                        diagnostics.push(feed.wrong_type(&pointer, "an array of releases", other))
                    }
                }
            }
        }
        Some(other) => diagnostics.push(feed.wrong_type(
            "/BackgroundSecurityImprovements",
            "an object of major versions",
            other,
        )),
    }
    for (pointer, entry, keys) in entries {
        let supplemental = std::ptr::eq(keys, &SOFA_BSI_KEYS).then_some(true);
        match feed.release(platform, entry, &pointer, keys, supplemental) {
            Ok(release) => {
                releases.insert(release);
            }
            Err(error) => diagnostics.push(*error),
        }
    }
    releases.into_iter().collect()
}

/// A SOFA feed's `Devices`: board ID → `DeviceID` (the model identifier) for Macs. Entries
/// without a `DeviceID` (an iOS feed keys its devices by model identifier already) add nothing.
fn sofa_boards(feed: &Feed<'_>, diagnostics: &mut Diagnostics) -> BTreeMap<String, String> {
    let mut boards = BTreeMap::new();
    let devices = match feed.projection.value.get("Devices") {
        None | Some(Value::Null) => return boards,
        Some(Value::Object(devices)) => devices,
        Some(other) => {
            diagnostics.push(feed.wrong_type("/Devices", "an object of devices", other));
            return boards;
        }
    };
    for (board, device) in devices {
        let pointer = crate::validate::push_pointer("/Devices", board);
        if !is_device_name(board) {
            diagnostics.push(feed.error(
                feed.key(&pointer),
                format!("`{board}` is not a board ID or model identifier"),
                "not a device",
            ));
            continue;
        }
        match device.get("DeviceID") {
            None | Some(Value::Null) => {}
            Some(Value::String(model)) if is_device_name(model) => {
                boards.insert(board.clone(), model.clone());
            }
            Some(other) => diagnostics.push(feed.error(
                feed.value(&format!("{pointer}/DeviceID")),
                format!("`{other}` is not a model identifier"),
                "not a model identifier",
            )),
        }
    }
    boards
}

/// Whether `name` looks like what Apple's feeds list as a device: a model identifier
/// (`iPhone17,1`, `MacPro7,1-Rack`) or a board ID (`J413AP`, `Mac-827FAC58A8FDFA22`,
/// `VMM-x86_64`): ASCII letters, digits, `,`, `-` and `_`, starting with a letter.
pub(crate) fn is_device_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ',' | '-' | '_'))
}

/// The platform of a release Apple lists under `iOS`: its lookup service puts watchOS, tvOS
/// and visionOS releases there too, told apart only by the model families they support.
fn platform_of_devices(column: &'static str, devices: &[String]) -> &'static str {
    if column != "iOS" || devices.is_empty() {
        return column;
    }
    for (family, platform) in [
        ("Watch", "watchOS"),
        ("AppleTV", "tvOS"),
        ("RealityDevice", "visionOS"),
    ] {
        if devices.iter().all(|d| d.starts_with(family)) {
            return platform;
        }
    }
    column
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

    /// An optional date field: digits and the separators of an ISO 8601 date or date-time.
    fn date(
        &self,
        entry: &Value,
        pointer: &str,
        key: &str,
    ) -> Result<Option<String>, Box<Diagnostic>> {
        let date = self.text(entry, pointer, key, false)?;
        if let Some(date) = &date {
            let ok = date.len() <= 40
                && date
                    .chars()
                    .all(|c| c.is_ascii_digit() || matches!(c, '-' | ':' | 'T' | 'Z' | '+' | '.'));
            if !ok {
                return Err(Box::new(self.error(
                    self.value(&format!("{pointer}/{key}")),
                    format!("`{date}` is not a date"),
                    "not a date",
                )));
            }
        }
        Ok(date)
    }

    /// `SupportedDevices`: an array of model identifiers or board IDs, sorted.
    fn devices(&self, entry: &Value, pointer: &str) -> Result<Vec<String>, Box<Diagnostic>> {
        let at = format!("{pointer}/SupportedDevices");
        let list = match entry.get("SupportedDevices") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(list)) => list,
            Some(other) => {
                return Err(Box::new(self.wrong_type(
                    &at,
                    "`SupportedDevices` as an array of strings",
                    other,
                )));
            }
        };
        let mut devices = Vec::with_capacity(list.len());
        for (i, device) in list.iter().enumerate() {
            match device {
                Value::String(name) if is_device_name(name) => devices.push(name.clone()),
                Value::String(name) => {
                    return Err(Box::new(self.error(
                        self.value(&format!("{at}/{i}")),
                        format!("`{name}` is not a model identifier or board ID"),
                        "not a device",
                    )));
                }
                other => {
                    return Err(Box::new(self.wrong_type(
                        &format!("{at}/{i}"),
                        "a device as a string",
                        other,
                    )));
                }
            }
        }
        devices.sort();
        devices.dedup();
        Ok(devices)
    }

    /// One release entry, its fields under `keys`, checked as bsic's own values.
    fn release(
        &self,
        platform: &'static str,
        entry: &Value,
        pointer: &str,
        keys: &Keys,
        supplemental: Option<bool>,
    ) -> Result<Release, Box<Diagnostic>> {
        if !entry.is_object() {
            return Err(Box::new(self.wrong_type(
                pointer,
                "a release object",
                entry,
            )));
        }
        let version = self
            .text(entry, pointer, keys.version, true)?
            .unwrap_or_default();
        if let Err(e) = version.parse::<OsVersion>() {
            return Err(Box::new(self.error(
                self.value(&format!("{pointer}/{}", keys.version)),
                format!("`{version}` is not an OS version: {e}"),
                "not a version",
            )));
        }
        // SOFA lists security releases whose build it does not know with no or an empty
        // `Build`: the version is still a release, kept with an empty build.
        let sofa = std::ptr::eq(keys, &SOFA_KEYS);
        let build = match entry.get(keys.build) {
            None | Some(Value::Null) if sofa => String::new(),
            Some(Value::String(b)) if sofa && b.is_empty() => String::new(),
            _ => self
                .build(entry, pointer, keys.build, true)?
                .unwrap_or_default(),
        };
        let parsed = build.parse::<BuildVersion>().ok();
        let extra = match self.text(entry, pointer, keys.extra, false)? {
            Some(extra) => {
                let b = extra.as_bytes();
                let ok = b.len() == 3 && b[0] == b'(' && b[1].is_ascii_lowercase() && b[2] == b')';
                if !ok {
                    return Err(Box::new(self.error(
                        self.value(&format!("{pointer}/{}", keys.extra)),
                        format!("`{extra}` is not a supplemental marker such as `(a)`"),
                        "not a marker",
                    )));
                }
                Some(extra)
            }
            // Apple's feed says in which set a BSI is; a SOFA feed only by the build.
            None => parsed.and_then(|parsed| {
                supplemental
                    .unwrap_or_else(|| parsed.is_supplemental())
                    .then(|| parsed.suffix().map(|c| format!("({c})")))
                    .flatten()
            }),
        };
        let date = self.date(entry, pointer, keys.date)?;
        let expires = self.date(entry, pointer, "ExpirationDate")?;
        let prerequisite = self.build(entry, pointer, "PrerequisiteBuild", false)?;
        let devices = self.devices(entry, pointer)?;
        Ok(Release {
            platform: platform_of_devices(platform, &devices).to_string(),
            version,
            build,
            extra,
            date,
            expires,
            prerequisite,
            devices,
        })
    }

    /// A build field, checked as a build when present.
    fn build(
        &self,
        entry: &Value,
        pointer: &str,
        key: &str,
        required: bool,
    ) -> Result<Option<String>, Box<Diagnostic>> {
        let build = self.text(entry, pointer, key, required)?;
        if let Some(build) = &build
            && let Err(e) = build.parse::<BuildVersion>()
        {
            return Err(Box::new(self.error(
                self.value(&format!("{pointer}/{key}")),
                format!("`{build}` is not a build: {e}"),
                "not a build",
            )));
        }
        Ok(build)
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
    let bytes =
        crate::source::read::read(&path, crate::source::Input::Catalog).map_err(|e| LoadError {
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

/// Loads the snapshot bsic.kdl pins, verified against its sha256; an error located at the
/// `catalog` line when it cannot be used. The pipeline keeps it on the model
/// ([`Model::catalog`]) for every later stage.
pub(crate) fn load_pinned(
    root: &Path,
    model: &Model,
    diagnostics: &mut Diagnostics,
) -> Option<std::sync::Arc<Catalog>> {
    let pin = model.project.catalog.as_ref()?;
    match load(root, pin) {
        Ok(catalog) => Some(std::sync::Arc::new(catalog)),
        Err(error) => {
            let at = model.value_span(&Location::root(model.project_file), Field::Catalog);
            diagnostics.push(Diagnostic::error(
                CatalogKind::Catalog {
                    message: error.message,
                },
                at,
                error.label,
            ));
            None
        }
    }
}

/// Checks every enforcement target against the pinned catalog (when [`load_pinned`] loaded
/// one): the release and build exist, a BSI has not expired (`now`, Unix seconds) and is for
/// the models of the groups it reaches, and the groups' `models` are models the catalog knows.
pub(crate) fn check(
    model: &Model,
    resolution: &Resolution,
    now: i64,
    diagnostics: &mut Diagnostics,
) {
    let Some(catalog) = model.catalog.as_deref() else {
        return;
    };
    truth::unknown_models(catalog, model, diagnostics);
    truth::model_targets(catalog, model, resolution, diagnostics);
    // `yyyy-mm-dd`, to compare with the catalog's dates as text.
    let today: String = crate::model::utc_date_time_text(now)
        .chars()
        .take(10)
        .collect();
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
            if let Some(build) = &enforce.build {
                expired(
                    catalog,
                    &platforms,
                    build,
                    &today,
                    span(EnforceField::Build),
                    diagnostics,
                );
                truth::superseded(
                    catalog,
                    &platforms,
                    build,
                    span(EnforceField::Build),
                    diagnostics,
                );
            }
            check_target(
                catalog,
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

/// A BSI build the catalog says Apple no longer offers (its `ExpirationDate` is before today,
/// `YYYY-MM-DD`).
fn expired(
    catalog: &Catalog,
    platforms: &[Platform],
    build: &BuildVersion,
    today: &str,
    at: Span,
    diagnostics: &mut Diagnostics,
) {
    let Some(release) = catalog.release_of(platforms, build.as_str()) else {
        return;
    };
    let Some(expires) = release
        .expires
        .as_deref()
        .filter(|_| release.extra.is_some())
    else {
        return;
    };
    if expires.get(..10).is_some_and(|day| day < today) {
        diagnostics.push(Diagnostic::error(
            CatalogKind::ExpiredBsi {
                message: format!(
                    "BSI build {build} ({} {}) expired on {}: Apple no longer offers it",
                    release.version,
                    release.extra.as_deref().unwrap_or_default(),
                    &expires[..10]
                ),
            },
            at,
            "expired",
        ));
    }
}

/// An `enforce` against the catalog: its version and build must be releases Apple lists for
/// its platforms, the build must belong to the version, and the fleet must not already be past
/// it.
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
        diagnostics.extend(check_build(
            &known,
            version,
            build,
            span(EnforceField::Build),
        ));
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

/// An enforced build the `known` releases do not list, or list under another version.
fn check_build(
    known: &[&Release],
    version: &OsVersion,
    build: &BuildVersion,
    at: Span,
) -> Option<Diagnostic> {
    let Some(release) = known.iter().find(|r| r.build == build.as_str()) else {
        let builds: BTreeSet<&str> = known
            .iter()
            .map(|r| r.build.as_str())
            .filter(|b| !b.is_empty())
            .collect();
        // Apple's lookup service lists no betas: say so rather than guess a release.
        let hint = if build.looks_like_beta() {
            ": it is a beta build, and Apple's lookup service lists released builds only"
                .to_string()
        } else {
            suggest(build.as_str(), builds.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default()
        };
        return Some(Diagnostic::error(
            CatalogKind::Catalog {
                message: format!("the catalog has no build {build}{hint}"),
            },
            at,
            "unknown build",
        ));
    };
    (release.version != version.as_str()).then(|| {
        let extra = release
            .extra
            .as_ref()
            .map(|e| format!(" {e}"))
            .unwrap_or_default();
        Diagnostic::error(
            CatalogKind::Catalog {
                message: format!("build {build} is {}{extra}, not {version}", release.version),
            },
            at,
            "belongs to another version",
        )
    })
}

#[cfg(test)]
impl crate::diag::Examples for CatalogError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::Read {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Invalid {
                path: "x".into(),
                message: "x".into(),
            },
            Self::UnknownFormat { path: "x".into() },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::Read { .. } | Self::Invalid { .. } | Self::UnknownFormat { .. } => {}
            }
        }
        all
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

    /// The lookup service's shape: dates, prerequisite and supported devices kept; one build
    /// listed in two sets (and for two device groups) folded into one release; watchOS
    /// releases Apple lists under `iOS` told apart by their devices.
    #[test]
    fn lookup_service_releases_keep_their_devices() {
        let feed = r#"{"PublicAssetSets": {"iOS": [
              {"ProductVersion": "26.3.1", "Build": "23D127", "PostingDate": "2026-03-03", "ExpirationDate": "2026-12-31", "SupportedDevices": ["iPhone15,2", "iPhone15,3"]},
              {"ProductVersion": "26.6", "Build": "23U67", "SupportedDevices": ["Watch6,1"]}]},
            "AssetSets": {"iOS": [
              {"ProductVersion": "26.3.1", "Build": "23D127", "PostingDate": "2026-03-01", "ExpirationDate": "2027-01-31", "SupportedDevices": ["iPhone18,1"]}]},
            "PublicBackgroundSecurityImprovements": {"iOS": [
              {"ProductVersion": "26.3.1", "Build": "23D771290a", "ProductVersionExtra": "(a)", "PrerequisiteBuild": "23D127", "SupportedDevices": ["iPhone15,3", "iPhone15,2"]}]}}"#;
        let mut catalog = Catalog::from_feed(Path::new("pmv.json"), feed, None).unwrap();
        catalog.normalise();
        let base = catalog
            .releases
            .iter()
            .find(|r| r.build == "23D127")
            .unwrap();
        assert_eq!(base.devices, ["iPhone15,2", "iPhone15,3", "iPhone18,1"]);
        assert_eq!(base.date.as_deref(), Some("2026-03-01"));
        assert_eq!(base.expires.as_deref(), Some("2027-01-31"));
        let bsi = catalog
            .releases
            .iter()
            .find(|r| r.build == "23D771290a")
            .unwrap();
        assert_eq!(bsi.prerequisite.as_deref(), Some("23D127"));
        assert_eq!(bsi.devices, ["iPhone15,2", "iPhone15,3"]);
        let watch = catalog
            .releases
            .iter()
            .find(|r| r.build == "23U67")
            .unwrap();
        assert_eq!(watch.platform, "watchOS");
        assert_eq!(catalog.releases.len(), 3);
        let bad = r#"{"PublicAssetSets": {"iOS": [{"ProductVersion": "26.3", "Build": "23D1", "SupportedDevices": ["iPhone 15"]}]}}"#;
        assert!(Catalog::from_feed(Path::new("pmv.json"), bad, None).is_err());
    }

    /// SOFA's second feed version: BSIs per major version, Mac board IDs → model identifiers,
    /// and security releases whose build SOFA does not know kept as versions.
    #[test]
    fn sofa_v2_feed_with_bsis_and_board_ids() {
        let feed = r#"{"OSVersions": [{"OSVersion": "Tahoe 26", "Latest": {"ProductVersion": "26.3.1", "Build": "25D2128", "SupportedDevices": ["J413AP"]},
              "SecurityReleases": [{"ProductVersion": "26.3", "Build": ""}]}],
            "BackgroundSecurityImprovements": {"26": [{"Version": "26.3.1", "VersionExtra": "(a)", "Build": "25D771280a", "PrerequisiteBuild": "25D2128", "SupportedDevices": ["J413AP", "VMA2MACOSAP"]}]},
            "Devices": {"J413AP": {"DeviceID": "Mac14,2", "MarketingName": "MacBook Air (M2, 2022)"}},
            "XProtectPlistConfigData": {}}"#;
        let catalog = Catalog::from_feed(Path::new("macos_data_feed.json"), feed, None).unwrap();
        assert_eq!(
            catalog.boards.get("J413AP").map(String::as_str),
            Some("Mac14,2")
        );
        let bsi = catalog
            .releases
            .iter()
            .find(|r| r.build == "25D771280a")
            .unwrap();
        assert_eq!(bsi.extra.as_deref(), Some("(a)"));
        assert_eq!(bsi.platform, "macOS");
        assert!(
            catalog
                .releases
                .iter()
                .any(|r| r.version == "26.3" && r.build.is_empty())
        );
    }
}
