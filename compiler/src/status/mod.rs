//! `bsic status`: did the fleet accept the declarations and reach its target OS, judged from
//! the devices' own DDM status reports.
//!
//! In: a checked project (the same resolver `explain` uses), status reports, an optional
//! device inventory and manifest, and the time to judge at. Out: a [`Status`] (a verdict per
//! device, a summary per group and per declaration) plus [`StatusWarnings`], located by file and line. Bad input
//! is a warning and the rest is still processed; only input that cannot be read at all is a
//! [`StatusError`]. This module never reads the clock (the caller passes `now`) and never
//! prints.

pub mod charts;
pub mod diags;
pub mod history;
pub mod html;
pub mod inventory;
pub mod judge;
pub mod render;
pub mod reports;
pub mod summary;
pub mod tokens;
pub mod vendor;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::rc::Rc;

use serde::Serialize;

use crate::emit::ArtifactKind;
use crate::model::{LocalDateTime, OsVersion, Platform};
use crate::output::Manifest;
use crate::pipeline::Checked;
use crate::resolve::{self, DeviceQuery};

pub use diags::{StatusKind, StatusWarnings};
pub use judge::{Cause, State, Target};
pub use reports::{DeviceState, Fleet};
pub use summary::Summary;
pub use tokens::{MAP_FILE, Tokens};

use tokens::TokenVerdict;

/// The group name devices without an inventory row are counted under.
pub const UNASSIGNED: &str = "(unassigned)";

/// What to read and when to judge.
#[derive(Debug, Clone)]
pub struct Options {
    /// Report files or directories, read in order.
    pub reports: Vec<PathBuf>,
    /// The inventory CSV.
    pub devices: Option<PathBuf>,
    /// MDM inventory exports (FileWave, Intune, Addigy), read after the reports.
    pub exports: Vec<PathBuf>,
    /// The manifest.json of the build the devices received.
    pub manifest: Option<PathBuf>,
    /// Server token maps (or declaration-items responses), read in order.
    pub server_tokens: Vec<PathBuf>,
    /// The local date-time to judge deadlines at.
    pub now: LocalDateTime,
}

/// Input that cannot be read at all (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StatusError {
    #[error("cannot read `{path}`: {source}")]
    #[diagnostic(
        code("bsic::status-unreadable"),
        help("check the path; --reports takes files (.json, JSON Lines) or directories")
    )]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    #[diagnostic(
        code("bsic::status-unwritable"),
        help("check that the directory of --html, --csv or --history is writable")
    )]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: the status report template does not render: {message}")]
    #[diagnostic(
        code("bsic::internal"),
        help("nothing was written; please report this")
    )]
    Template { message: String },
    #[error("`{path}` is not a bsic manifest: {message}")]
    #[diagnostic(
        code("bsic::status-bad-manifest"),
        help("point --dist at the output directory of `bsic build`")
    )]
    Manifest { path: String, message: String },
    #[error("`{path}` is not a server token map: {message}")]
    #[diagnostic(
        code("bsic::status-bad-server-tokens"),
        help(
            "--server-tokens takes the map an upload script writes (server-tokens.json) or a server's GET /declaration-items response"
        )
    )]
    ServerTokens { path: String, message: String },
    #[error("`{path}` is not an MDM export bsic reads: {message}")]
    #[diagnostic(
        code("bsic::status-unreadable-export"),
        help(
            "--export takes FileWave query results (JSON or CSV), Graph managedDevices JSON (Intune) or Addigy's device facts (CSV or JSON); see docs/status.md"
        )
    )]
    Export { path: String, message: String },
    #[error("`{value}` is not a local date-time: {reason}")]
    #[diagnostic(
        code("bsic::status-bad-now"),
        help(
            "--now takes the devices' local time as yyyy-mm-ddThh:mm:ss, e.g. 2027-01-01T09:00:00"
        )
    )]
    Now { value: String, reason: String },
}

/// The OS a device reports. The values repeat across a fleet and are shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ReportedOs {
    #[serde(serialize_with = "shared_text")]
    pub version: Option<Rc<str>>,
    #[serde(serialize_with = "shared_text")]
    pub build: Option<Rc<str>>,
    #[serde(serialize_with = "shared_text")]
    pub supplemental_build: Option<Rc<str>>,
    #[serde(serialize_with = "shared_text")]
    pub extra_version: Option<Rc<str>>,
    #[serde(serialize_with = "shared_text")]
    pub install_state: Option<Rc<str>>,
    #[serde(serialize_with = "shared_text")]
    pub pending_version: Option<Rc<str>>,
    #[serde(serialize_with = "shared_text")]
    pub failure_reason: Option<Rc<str>>,
}

fn shared_list<S: serde::Serializer, T: AsRef<str>>(value: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(value.iter().map(AsRef::as_ref))
}

fn shared_text<S: serde::Serializer>(value: &Option<Rc<str>>, s: S) -> Result<S::Ok, S::Error> {
    value.as_deref().serialize(s)
}

/// A target many devices share, serialized as the [`Target`] itself.
#[derive(Debug, Clone)]
pub struct SharedTarget(pub Rc<Target>);

impl Serialize for SharedTarget {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl std::ops::Deref for SharedTarget {
    type Target = Target;
    fn deref(&self) -> &Target {
        &self.0
    }
}

/// The verdict on one device.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceVerdict {
    pub serial: String,
    /// Shared by the devices of one inventory group list.
    #[serde(serialize_with = "shared_list")]
    pub groups: Rc<[String]>,
    pub platform: Option<Platform>,
    /// The hardware model the device reports (`device.model.identifier`), when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub state: State,
    /// Shared texts: devices alike have the same reasons.
    #[serde(serialize_with = "shared_list")]
    pub reasons: Vec<Rc<str>>,
    pub os: Option<ReportedOs>,
    pub target: Option<SharedTarget>,
    /// Declarations bsic emitted for the device that are not active and valid on it.
    pub declarations: Vec<String>,
    /// Why it is in its state, for the report's reason groups.
    #[serde(skip)]
    pub cause: Cause,
}

/// Counts for one group.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GroupSummary {
    pub group: String,
    #[serde(flatten)]
    pub counts: summary::Counts,
}

pub(crate) fn percent(part: usize, total: usize) -> f64 {
    if total == 0 {
        return 100.0;
    }
    // Round to one decimal through integers, so 1/3 prints as 33.3.
    let tenths = (part as u64 * 1000 + total as u64 / 2) / total as u64;
    tenths as f64 / 10.0
}

/// How the devices took one declaration bsic emitted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeclarationSummary {
    pub identifier: String,
    pub group: String,
    /// Devices that should hold it.
    pub devices: usize,
    pub active: usize,
    pub inactive: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Devices that report their declarations but not this one.
    pub missing: usize,
    /// Devices that hold an older version (a `ServerToken` that is not the current one).
    pub stale: usize,
    /// Devices whose `ServerToken` could not be checked: the MDM assigns its own and no
    /// server token map says which is current (see [`tokens`]).
    pub unverified: usize,
    /// The devices' reasons, each once, sorted.
    pub reasons: Vec<String>,
}

/// A warning as machine output.
#[derive(Debug, Clone, Serialize)]
pub struct WarningOut {
    pub code: String,
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl WarningOut {
    /// A warning of [`StatusWarnings::iter`] as scripts read it: the message keeps its
    /// `file:line:` prefix, as it always had.
    pub fn of((diagnostic, file, line): (&crate::diag::Diagnostic, &str, usize)) -> Self {
        WarningOut {
            code: diagnostic.code(),
            file: file.to_string(),
            line,
            message: format!("{file}:{line}: {diagnostic}"),
        }
    }
}

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub now: String,
    /// The headline: per enforced target and for the whole fleet, and the reasons counted.
    pub summary: Summary,
    /// Compliance over time and the change since the previous snapshot (`--history`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<history::History>,
    pub devices: Vec<DeviceVerdict>,
    pub groups: Vec<GroupSummary>,
    pub declarations: Vec<DeclarationSummary>,
    pub warnings: Vec<WarningOut>,
    /// Notes on how the input was judged, e.g. tokens that could not be checked.
    pub notes: Vec<String>,
}

impl Status {
    /// Groups whose compliance is below `percent`.
    pub fn below(&self, percent: f64) -> Vec<&GroupSummary> {
        self.groups
            .iter()
            .filter(|g| g.counts.percent < percent)
            .collect()
    }

    /// How many devices are compliant.
    pub fn compliant(&self) -> usize {
        self.devices
            .iter()
            .filter(|d| d.state == State::Compliant)
            .count()
    }
}

/// Turns Unix seconds into a UTC local date-time `yyyy-mm-ddThh:mm:ss`.
pub fn local_date_time(unix: i64) -> String {
    crate::model::utc_date_time_text(unix)
}

/// Parses `--now`.
pub fn parse_now(value: &str) -> Result<LocalDateTime, StatusError> {
    value
        .parse()
        .map_err(|e: crate::model::ParseError| StatusError::Now {
            value: value.to_string(),
            reason: e.0,
        })
}

/// A platform by the name devices report (`device.operating-system.family`).
pub fn platform(name: &str) -> Option<Platform> {
    Platform::ALL
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(name))
}

fn read_text(path: &std::path::Path) -> Result<String, StatusError> {
    let bytes = crate::source::read::read(path, crate::source::Input::Fleet).map_err(|source| {
        StatusError::Read {
            path: path.display().to_string(),
            source,
        }
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads the input and judges every device. `checked` must have no errors.
pub fn run(
    checked: &Checked,
    options: &Options,
    warnings: &mut StatusWarnings,
) -> Result<Status, StatusError> {
    let known: Vec<&str> = checked.resolution.graph.groups().collect();
    let inventory = match &options.devices {
        Some(path) => {
            let text = read_text(path)?;
            inventory::parse(&text, &path.display().to_string(), &known, warnings)
        }
        None => BTreeMap::new(),
    };
    let manifest = match &options.manifest {
        Some(path) => {
            let text = read_text(path)?;
            let manifest: Manifest =
                serde_json::from_str(&text).map_err(|e| StatusError::Manifest {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
            Some(manifest)
        }
        None => None,
    };
    let mut tokens = Tokens::new(manifest.as_ref().is_some_and(|m| {
        m.targets
            .iter()
            .any(|t| tokens::ASSIGNING_TARGETS.contains(&t.target.as_str()))
    }));
    for path in &options.server_tokens {
        tokens.read(path)?;
    }
    let mut fleet = Fleet::default();
    reports::read(&options.reports, &mut fleet, warnings)?;
    vendor::read(&options.exports, &mut fleet, warnings)?;
    let mut status = judge_fleet(
        checked,
        fleet,
        &inventory,
        manifest.as_ref(),
        &tokens,
        options.now.as_str(),
        warnings,
    );
    status.summary = summary::summarise(&status, checked);
    status.warnings = warnings.iter().map(WarningOut::of).collect();
    Ok(status)
}

/// What the resolver says a device in some groups, on a platform and OS, must run.
struct Resolved {
    target: Option<Rc<Target>>,
    receives_from: Vec<String>,
}

/// Where a device stands before it is judged: its groups, platform and OS.
struct Placement {
    groups: Vec<String>,
    platform: Option<Platform>,
    os: Option<OsVersion>,
    /// Placed by the group filters, not by an inventory row.
    by_filter: bool,
}

/// Judges every device in the inventory or the reports, consuming the fleet so each device's
/// reported values move into its verdict.
pub fn judge_fleet(
    checked: &Checked,
    mut fleet: Fleet,
    inventory: &BTreeMap<String, inventory::Row>,
    manifest: Option<&Manifest>,
    tokens: &Tokens,
    now: &str,
    warnings: &mut StatusWarnings,
) -> Status {
    let mut judging = Judging {
        checked,
        inventory,
        manifest,
        tokens,
        now,
        cache: HashMap::new(),
        group_lists: HashMap::new(),
        texts: reports::Interner::default(),
        groups: BTreeMap::new(),
        declarations: BTreeMap::new(),
        unknown_declarations: BTreeSet::new(),
        listed: manifest
            .map(|m| m.artifacts.iter().map(|a| a.identifier.as_str()).collect())
            .unwrap_or_default(),
        prefix: manifest.map(|m| format!("{}.", m.identifier_prefix)),
        unverified: 0,
    };
    let mut devices = Vec::with_capacity(union_len(inventory.keys(), fleet.devices.keys()));
    each_device(
        inventory,
        std::mem::take(&mut fleet.devices),
        |serial, state| devices.push(judging.device(serial, state, warnings)),
    );
    judging.into_status(devices)
}

/// Every device of the inventory and the reports once, in serial order: the two sorted key
/// lists merged, the reported states moved out as they go (their memory is reused for the
/// verdicts).
fn each_device(
    inventory: &BTreeMap<String, inventory::Row>,
    reported: BTreeMap<String, Box<DeviceState>>,
    mut each: impl FnMut(String, Option<DeviceState>),
) {
    let mut listed = inventory.keys().peekable();
    let mut reported = reported.into_iter().peekable();
    loop {
        let order = match (listed.peek(), reported.peek()) {
            (None, None) => break,
            (Some(a), Some((b, _))) => a.as_str().cmp(b.as_str()),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        let (serial, state) = match order {
            std::cmp::Ordering::Less => match listed.next() {
                Some(serial) => (serial.clone(), None),
                None => break,
            },
            std::cmp::Ordering::Equal => {
                listed.next();
                match reported.next() {
                    Some((serial, state)) => (serial, Some(*state)),
                    None => break,
                }
            }
            std::cmp::Ordering::Greater => match reported.next() {
                Some((serial, state)) => (serial, Some(*state)),
                None => break,
            },
        };
        each(serial, state);
    }
}

impl Judging<'_> {
    /// The answer, from the verdicts and what judging them gathered per group and
    /// declaration.
    fn into_status(self, devices: Vec<DeviceVerdict>) -> Status {
        let mut notes = Vec::new();
        if self.unverified > 0 {
            notes.push(format!(
                "{} declaration token(s) could not be checked: the build has a layout for an MDM that assigns its own ServerTokens ({}) and no server token map says which is current; run the layout's upload script (kmfddm/upload.sh writes {MAP_FILE}, BSIC_TOKENS_ONLY=1 only reads the tokens back) or pass --server-tokens with the map or the server's declaration items",
                self.unverified,
                tokens::ASSIGNING_TARGETS.join(", ")
            ));
        }
        Status {
            now: self.now.to_string(),
            summary: Summary::default(),
            history: None,
            devices,
            groups: self
                .groups
                .into_values()
                .map(|mut g| {
                    g.counts.finish();
                    g
                })
                .collect(),
            declarations: self
                .declarations
                .into_values()
                .map(|(mut summary, reasons)| {
                    summary.reasons = reasons.into_iter().collect();
                    summary
                })
                .collect(),
            warnings: Vec::new(),
            notes,
        }
    }
}

/// How many distinct keys two sorted key lists hold together.
fn union_len<'a>(
    a: impl Iterator<Item = &'a String>,
    b: impl Iterator<Item = &'a String>,
) -> usize {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let mut count = 0;
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => return count,
            (Some(x), Some(y)) => match x.cmp(y) {
                std::cmp::Ordering::Less => {
                    a.next();
                }
                std::cmp::Ordering::Greater => {
                    b.next();
                }
                std::cmp::Ordering::Equal => {
                    a.next();
                    b.next();
                }
            },
            (Some(_), None) => {
                a.next();
            }
            (None, Some(_)) => {
                b.next();
            }
        }
        count += 1;
    }
}

/// What judging the fleet needs and gathers, device by device.
struct Judging<'a> {
    checked: &'a Checked,
    inventory: &'a BTreeMap<String, inventory::Row>,
    manifest: Option<&'a Manifest>,
    tokens: &'a Tokens,
    now: &'a str,
    /// Resolutions by (groups, platform, OS, model): devices alike share one.
    cache: HashMap<ResolvedKey, Rc<Resolved>>,
    /// One copy of each group list and reason text the verdicts hold.
    group_lists: HashMap<Vec<String>, Rc<[String]>>,
    texts: reports::Interner,
    groups: BTreeMap<String, GroupSummary>,
    declarations: BTreeMap<String, (DeclarationSummary, BTreeSet<String>)>,
    /// Identifiers already warned about as unknown to the manifest.
    unknown_declarations: BTreeSet<String>,
    listed: BTreeSet<&'a str>,
    prefix: Option<String>,
    /// Reported tokens that could not be checked, over all devices.
    unverified: usize,
}

impl Judging<'_> {
    /// The verdict on one device, counted in its groups.
    fn device(
        &mut self,
        serial: String,
        state: Option<DeviceState>,
        warnings: &mut StatusWarnings,
    ) -> DeviceVerdict {
        let row = self.inventory.get(&serial);
        let place = self.place(row, state.as_ref(), warnings);
        let model = state.as_ref().and_then(|s| s.model.clone());
        let resolved = place
            .platform
            .map(|p| self.resolve(&place.groups, p, place.os.as_ref(), model.as_deref()));
        let target = resolved.as_ref().and_then(|r| r.target.clone());
        let (device_state, mut reasons, cause) = match (&resolved, &state) {
            (None, Some(s)) if s.version.is_some() => (
                State::Unknown,
                vec![
                    "the report lacks `device.operating-system.family` and the inventory gives no platform"
                        .to_string(),
                ],
                Cause::NoPlatform,
            ),
            _ => judge::judge(state.as_ref(), target.as_deref(), self.now),
        };
        let mut problems = Vec::new();
        if let (Some(manifest), Some(resolved), Some(s), Some(p)) =
            (self.manifest, &resolved, &state, place.platform)
        {
            let mut check = DeclarationCheck {
                summaries: &mut self.declarations,
                tokens: self.tokens,
                problems: &mut problems,
                unverified: &mut self.unverified,
            };
            check.device(manifest, resolved, p, s);
        }
        if let Some(s) = &state {
            self.warn_unknown_declarations(s, warnings);
        }
        if let Some(reason) = self.placement_reason(&place, row.is_some(), state.is_some()) {
            reasons.push(reason);
        }
        self.count(&place.groups, device_state);
        let groups = match self.group_lists.get(place.groups.as_slice()) {
            Some(shared) => Rc::clone(shared),
            None => {
                let shared: Rc<[String]> = place.groups.clone().into();
                self.group_lists.insert(place.groups, Rc::clone(&shared));
                shared
            }
        };
        DeviceVerdict {
            serial,
            groups,
            platform: place.platform,
            model: model.map(|m| m.to_string()),
            state: device_state,
            reasons: reasons.iter().map(|r| self.texts.get(r)).collect(),
            os: state.map(|s| ReportedOs {
                version: s.version,
                build: s.build,
                supplemental_build: s.supplemental_build,
                extra_version: s.extra_version,
                install_state: s.install_state,
                pending_version: s.pending_version,
                failure_reason: s.failure_reason,
            }),
            target: target.map(SharedTarget),
            declarations: problems,
            cause,
        }
    }

    /// The device's platform (reported first, the inventory second), OS and groups (its
    /// inventory row's, else those whose filters admit it).
    fn place(
        &self,
        row: Option<&inventory::Row>,
        state: Option<&DeviceState>,
        warnings: &mut StatusWarnings,
    ) -> Placement {
        let family = state.and_then(|s| s.family.as_deref());
        let reported = family.and_then(platform);
        if let (Some(family), None, Some(s)) = (family, reported, state) {
            let family = family.to_string();
            warnings.warn(&s.file, s.line, StatusKind::UnknownPlatform { family });
        }
        let platform = reported.or_else(|| row.and_then(|r| r.platform));
        let os = state
            .and_then(|s| s.version.as_deref())
            .and_then(|v| v.parse::<OsVersion>().ok());
        let (groups, by_filter) = match row {
            Some(r) => (r.groups.clone(), false),
            None => {
                let model = state.and_then(|s| s.model.as_deref());
                let matched = groups_by_filter(self.checked, platform, os.as_ref(), model);
                let by_filter = !matched.is_empty();
                (matched, by_filter)
            }
        };
        Placement {
            groups,
            platform,
            os,
            by_filter,
        }
    }

    /// What the resolver says a device in `groups` on `platform` and `os` must run, shared
    /// by every device alike.
    fn resolve(
        &mut self,
        groups: &[String],
        platform: Platform,
        os: Option<&OsVersion>,
        model: Option<&str>,
    ) -> Rc<Resolved> {
        let key = (
            groups.to_vec(),
            platform,
            os.map(ToString::to_string),
            model.map(String::from),
        );
        let checked = self.checked;
        Rc::clone(self.cache.entry(key).or_insert_with(|| {
            Rc::new(resolve_device(
                checked,
                groups,
                platform,
                os.cloned(),
                model.map(String::from),
            ))
        }))
    }

    /// Warns once per identifier about declarations under the project's prefix that the
    /// manifest does not list.
    fn warn_unknown_declarations(&mut self, state: &DeviceState, warnings: &mut StatusWarnings) {
        let Some(prefix) = &self.prefix else {
            return;
        };
        for d in &state.declarations {
            let id: &str = &d.identifier;
            if id.starts_with(prefix.as_str())
                && !self.listed.contains(id)
                && self.unknown_declarations.insert(id.to_string())
            {
                let identifier = id.to_string();
                warnings.warn(
                    &state.file,
                    state.line,
                    StatusKind::UnknownDeclaration { identifier },
                );
            }
        }
    }

    /// Why a device without an inventory row is in the groups it is in.
    fn placement_reason(
        &self,
        place: &Placement,
        in_inventory: bool,
        reported: bool,
    ) -> Option<String> {
        if place.by_filter {
            Some(format!(
                "not in the inventory: placed in {} by its reported platform and OS (the group filters)",
                quoted_list(&place.groups)
            ))
        } else if !in_inventory && reported && !self.inventory.is_empty() {
            Some(
                "not in the inventory and no group filter matches its reported platform and OS: judged as a member of `all` only"
                    .to_string(),
            )
        } else {
            None
        }
    }

    /// Counts the device in each of its groups (or as unassigned).
    fn count(&mut self, groups: &[String], state: State) {
        let counted = if groups.is_empty() {
            vec![UNASSIGNED.to_string()]
        } else {
            groups.to_vec()
        };
        for group in counted {
            self.groups
                .entry(group.clone())
                .or_insert_with(|| GroupSummary {
                    group,
                    ..GroupSummary::default()
                })
                .counts
                .add(state);
        }
    }
}

/// The groups a device outside the inventory belongs to by what it reports: every group with a
/// device filter (platforms, OS range, models) that admits the device's platform and OS version. A
/// group without a filter is an MDM assignment that only the inventory can tell; a group with
/// an OS range never admits a device whose version is unknown.
fn groups_by_filter(
    checked: &Checked,
    platform: Option<Platform>,
    os: Option<&OsVersion>,
    device_model: Option<&str>,
) -> Vec<String> {
    let (Some(model), Some(platform)) = (&checked.model, platform) else {
        return Vec::new();
    };
    model
        .groups
        .iter()
        .map(|placed| &placed.value)
        .filter(|group| group.platforms.is_some() || group.os.is_some() || group.models.is_some())
        .filter(|group| {
            group
                .platforms
                .as_ref()
                .is_none_or(|platforms| platforms.contains(&platform))
        })
        .filter(|group| match (&group.os, os) {
            (None, _) => true,
            (Some(range), Some(version)) => range.contains(version),
            (Some(_), None) => false,
        })
        .filter(|group| match (&group.models, device_model) {
            (None, _) => true,
            (Some(models), Some(reported)) => models.iter().any(|m| m.matches(reported)),
            (Some(_), None) => false,
        })
        .map(|group| group.name.to_string())
        .collect()
}

/// `` `a`, `b` `` for a reason line.
fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a resolution for a device depends on: its groups, platform, OS and model.
type ResolvedKey = (Vec<String>, Platform, Option<String>, Option<String>);

fn resolve_device(
    checked: &Checked,
    groups: &[String],
    platform: Platform,
    os: Option<OsVersion>,
    device_model: Option<String>,
) -> Resolved {
    let Some(model) = &checked.model else {
        return Resolved {
            target: None,
            receives_from: Vec::new(),
        };
    };
    let query = DeviceQuery {
        groups: groups.to_vec(),
        platforms: vec![platform],
        os,
        model: device_model,
    };
    let explanation =
        resolve::explain(model, &checked.resolution, &checked.project.sources, &query);
    let targets: Vec<_> = explanation
        .platforms
        .iter()
        .flat_map(|p| p.enforcement.iter().cloned())
        .collect();
    Resolved {
        target: judge::pick_target(&targets).map(Rc::new),
        receives_from: explanation.receives_from,
    }
}

/// Where matching a device's declarations records what it finds.
struct DeclarationCheck<'a> {
    summaries: &'a mut BTreeMap<String, (DeclarationSummary, BTreeSet<String>)>,
    tokens: &'a Tokens,
    problems: &'a mut Vec<String>,
    unverified: &'a mut usize,
}

impl DeclarationCheck<'_> {
    /// Matches the declarations bsic emitted for a device against what it reports.
    fn device(
        &mut self,
        manifest: &Manifest,
        resolved: &Resolved,
        platform: Platform,
        state: &DeviceState,
    ) {
        let reports_declarations = !state.declarations.is_empty();
        for artifact in &manifest.artifacts {
            if !matches!(artifact.kind, ArtifactKind::Declaration { .. }) {
                continue;
            }
            let for_device = artifact
                .groups
                .iter()
                .any(|g| resolved.receives_from.contains(g))
                && (artifact.platforms.is_empty() || artifact.platforms.contains(&platform));
            if for_device {
                self.declaration(artifact, state, reports_declarations);
            }
        }
    }

    /// One declaration bsic emitted for the device: held, active, valid, current?
    fn declaration(
        &mut self,
        artifact: &crate::output::ManifestArtifact,
        state: &DeviceState,
        reports_declarations: bool,
    ) {
        let (summary, reasons) = self
            .summaries
            .entry(artifact.identifier.clone())
            .or_insert_with(|| {
                (
                    DeclarationSummary {
                        identifier: artifact.identifier.clone(),
                        group: artifact.groups.join(", "),
                        ..DeclarationSummary::default()
                    },
                    BTreeSet::new(),
                )
            });
        summary.devices += 1;
        let id = &artifact.identifier;
        let problems = &mut *self.problems;
        let Some(held) = state.declaration(id) else {
            if reports_declarations {
                summary.missing += 1;
                problems.push(format!("`{id}` is not on the device"));
            }
            return;
        };
        match held.active {
            Some(true) => summary.active += 1,
            Some(false) => {
                summary.inactive += 1;
                problems.push(format!("`{id}` is inactive"));
            }
            None => {}
        }
        let device_reasons = held.reasons.join("; ");
        match held.valid.as_deref() {
            Some("valid") => summary.valid += 1,
            Some(other) => {
                summary.invalid += 1;
                let why = if device_reasons.is_empty() {
                    String::new()
                } else {
                    format!(": {device_reasons}")
                };
                problems.push(format!("`{id}` is {other}{why}"));
            }
            None => {}
        }
        reasons.extend(held.reasons.iter().cloned());
        let Some(reported) = held.server_token.as_deref() else {
            return;
        };
        match self.tokens.judge(id, &artifact.token, reported) {
            TokenVerdict::Current => {}
            TokenVerdict::Older => {
                summary.stale += 1;
                problems.push(format!(
                    "`{id}` is an older version (its server token is not the current one)"
                ));
            }
            TokenVerdict::Unverified => {
                summary.unverified += 1;
                *self.unverified += 1;
            }
        }
    }
}

#[cfg(test)]
impl crate::diag::Examples for StatusError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::Read {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Write {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Template {
                message: "x".into(),
            },
            Self::Manifest {
                path: "x".into(),
                message: "x".into(),
            },
            Self::ServerTokens {
                path: "x".into(),
                message: "x".into(),
            },
            Self::Export {
                path: "x".into(),
                message: "x".into(),
            },
            Self::Now {
                value: "x".into(),
                reason: "x".into(),
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::Read { .. }
                | Self::Write { .. }
                | Self::Template { .. }
                | Self::Manifest { .. }
                | Self::ServerTokens { .. }
                | Self::Export { .. }
                | Self::Now { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_become_local_date_times() {
        assert_eq!(local_date_time(0), "1970-01-01T00:00:00");
        assert_eq!(local_date_time(1_798_761_600), "2027-01-01T00:00:00");
        assert_eq!(local_date_time(951_782_400 + 3661), "2000-02-29T01:01:01");
    }

    #[test]
    fn the_union_of_two_sorted_key_lists_is_counted() {
        let a: Vec<String> = ["a", "c", "d"].map(String::from).to_vec();
        let b: Vec<String> = ["b", "c", "e", "f"].map(String::from).to_vec();
        assert_eq!(union_len(a.iter(), b.iter()), 6);
        assert_eq!(union_len(a.iter(), [].iter()), 3);
    }

    #[test]
    fn percentages_round_to_one_decimal() {
        assert!((percent(1, 3) - 33.3).abs() < 1e-9);
        assert!((percent(2, 3) - 66.7).abs() < 1e-9);
        assert!((percent(0, 0) - 100.0).abs() < 1e-9);
    }
}
