//! Reading DDM status reports (Apple's `StatusReport`: `StatusItems`, `Errors`, `FullReport`)
//! from `.json` files, JSON Lines and directories of them, and merging each device's reports in
//! order into one compact [`DeviceState`].
//!
//! In: paths. Out: device states keyed by serial number (or UDID), plus located warnings. A
//! report is parsed, reduced to the few items bsic judges and dropped, so memory grows with the
//! number of devices, not of reports. Never judges anything and never panics on bad input: a
//! malformed or truncated report becomes a warning and the next one is read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::{Map, Value};

use super::StatusError;
use super::diags::{StatusKind, StatusWarnings};

/// What one device last said about one declaration. Identifiers, tokens and validity repeat
/// across a fleet, so they are shared ([`Interner`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeclarationState {
    pub identifier: Rc<str>,
    pub server_token: Option<Rc<str>>,
    pub active: Option<bool>,
    /// Apple's `valid`: `valid`, `invalid` or `unknown`.
    pub valid: Option<Rc<str>>,
    pub reasons: Vec<String>,
}

/// One shared copy of each repeated string (declaration identifiers, tokens, file names), so
/// memory grows with the number of devices, not with what each of them repeats.
#[derive(Debug, Default)]
pub struct Interner(HashSet<Rc<str>>);

impl Interner {
    pub fn get(&mut self, text: &str) -> Rc<str> {
        if let Some(shared) = self.0.get(text) {
            return Rc::clone(shared);
        }
        let shared: Rc<str> = Rc::from(text);
        self.0.insert(Rc::clone(&shared));
        shared
    }
}

/// Everything bsic judges about one device, after merging its reports in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceState {
    pub serial: Option<String>,
    pub udid: Option<String>,
    pub family: Option<Rc<str>>,
    /// `device.model.identifier` (`iPhone17,1`), for groups limited to `models`.
    pub model: Option<Rc<str>>,
    pub version: Option<Rc<str>>,
    pub build: Option<Rc<str>>,
    pub supplemental_build: Option<Rc<str>>,
    pub extra_version: Option<Rc<str>>,
    pub install_state: Option<Rc<str>>,
    pub pending_version: Option<Rc<str>>,
    pub pending_build: Option<Rc<str>>,
    pub failure_reason: Option<Rc<str>>,
    pub failure_count: Option<i64>,
    pub install_reason: Option<Rc<str>>,
    /// Declarations from `management.declarations`, one per identifier. Devices of a fleet
    /// mostly report the same few states, so each distinct one is shared ([`Fleet`]).
    pub declarations: Vec<Rc<DeclarationState>>,
    /// Status items the device could not return (`Errors`), with their reasons.
    pub errors: BTreeMap<String, String>,
    /// Where the last report came from, for warnings about the device.
    pub file: Rc<str>,
    pub line: usize,
}

impl DeviceState {
    /// The declaration the device reports under `identifier`.
    pub fn declaration(&self, identifier: &str) -> Option<&DeclarationState> {
        self.declarations
            .iter()
            .find(|d| &*d.identifier == identifier)
            .map(|d| &**d)
    }

    /// The key devices are matched by: serial number, else UDID.
    pub fn key(&self) -> Option<&str> {
        self.serial.as_deref().or(self.udid.as_deref())
    }

    /// Applies a later report: a full report replaces everything, an incremental one updates
    /// what it carries (declarations by identifier, `_removed` removing one).
    fn merge(&mut self, later: Parsed) {
        let Parsed {
            state,
            full,
            removed,
        } = later;
        if full {
            *self = state;
            return;
        }
        macro_rules! take {
            ($($field:ident),*) => {$(
                if state.$field.is_some() {
                    self.$field = state.$field;
                }
            )*};
        }
        take!(
            serial,
            udid,
            family,
            model,
            version,
            build,
            supplemental_build,
            extra_version,
            install_state,
            pending_version,
            pending_build,
            failure_reason,
            failure_count,
            install_reason
        );
        let removed: HashSet<&Rc<str>> = removed.iter().collect();
        self.declarations
            .retain(|d| !removed.contains(&d.identifier));
        upsert(&mut self.declarations, state.declarations);
        self.errors.extend(state.errors);
        self.file = state.file;
        self.line = state.line;
    }
}

/// One report, reduced.
struct Parsed {
    state: DeviceState,
    full: bool,
    /// Declarations an incremental report marks `_removed`.
    removed: Vec<Rc<str>>,
}

/// Every device's merged state, keyed by serial number (or UDID), and reports that named no
/// device.
#[derive(Debug, Default)]
pub struct Fleet {
    /// Boxed: the map's nodes, half full when serials arrive in order, then hold pointers
    /// instead of whole states (a third less memory per device at a million devices).
    pub devices: BTreeMap<String, Box<DeviceState>>,
    /// UDID → key, so a later report naming only the UDID finds its device.
    aliases: BTreeMap<String, String>,
    pub reports: usize,
    strings: Interner,
    /// One shared copy of each distinct declaration state.
    declarations: HashSet<Rc<DeclarationState>>,
}

impl Fleet {
    fn add(&mut self, mut parsed: Parsed, warnings: &mut StatusWarnings) {
        self.reports += 1;
        for held in &mut parsed.state.declarations {
            match self.declarations.get(held) {
                Some(shared) => *held = Rc::clone(shared),
                None => {
                    self.declarations.insert(Rc::clone(held));
                }
            }
        }
        let serial = parsed.state.serial.clone();
        let udid = parsed.state.udid.clone();
        let key = serial
            .clone()
            .or_else(|| udid.as_ref().and_then(|u| self.aliases.get(u).cloned()))
            .or(udid.clone());
        let Some(key) = key else {
            warnings.warn(
                &parsed.state.file,
                parsed.state.line,
                StatusKind::Unidentified,
            );
            return;
        };
        if let (Some(serial), Some(udid)) = (&serial, &udid) {
            self.aliases.insert(udid.clone(), serial.clone());
            // A device first seen by UDID only, now with its serial number.
            if let Some(earlier) = self.devices.remove(udid) {
                self.devices.insert(serial.clone(), earlier);
            }
        }
        match self.devices.get_mut(&key) {
            Some(state) => state.merge(parsed),
            None => {
                let mut state = DeviceState::default();
                state.merge(Parsed {
                    full: true,
                    ..parsed
                });
                self.devices.insert(key, Box::new(state));
            }
        }
    }
}

impl Fleet {
    /// Merges what an MDM's inventory export says of one device into what is known of it: a
    /// device the reports also describe keeps their declarations, and takes the export's OS.
    pub fn merge_export(&mut self, state: DeviceState, warnings: &mut StatusWarnings) {
        self.add(
            Parsed {
                state,
                full: false,
                removed: Vec::new(),
            },
            warnings,
        );
    }
}

/// The files under `paths`, in order: each path as given, directories walked in sorted order
/// for `.json`, `.jsonl` and `.ndjson` files.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, StatusError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                let entry = entry.map_err(|e| StatusError::Read {
                    path: path.display().to_string(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                let p = entry.path();
                let is_report = p
                    .extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "json" | "jsonl" | "ndjson"));
                if entry.file_type().is_file() && is_report {
                    found.push(p.to_path_buf());
                }
            }
            files.extend(found);
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(StatusError::Read {
                path: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
    }
    Ok(files)
}

/// Reads every report under `paths` into `fleet`, in order.
pub fn read(
    paths: &[PathBuf],
    fleet: &mut Fleet,
    warnings: &mut StatusWarnings,
) -> Result<(), StatusError> {
    for file in collect(paths)? {
        read_file(&file, fleet, warnings)?;
    }
    Ok(())
}

/// Reads one report file ([`read_from`]).
fn read_file(
    path: &Path,
    fleet: &mut Fleet,
    warnings: &mut StatusWarnings,
) -> Result<(), StatusError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| StatusError::Read {
        path: name.clone(),
        source,
    })?;
    let bounded = std::io::Read::take(file, crate::source::Input::Fleet.limit());
    read_from(BufReader::new(bounded), &name, fleet, warnings)
}

/// Reads one file of concatenated reports (one pretty JSON document, or JSON Lines), streaming
/// it line by line: a report ends where its JSON value is complete. `name` is the file's name
/// in warnings. Public so a fuzzer can feed it bytes without a file.
///
/// A JSON Lines report is parsed once, on its own line. A report spread over many lines is
/// parsed again only when the text held has doubled since it was last found incomplete, so
/// the work stays linear in the file's size however the reports are laid out.
pub fn read_from(
    mut reader: impl BufRead,
    name: &str,
    fleet: &mut Fleet,
    warnings: &mut StatusWarnings,
) -> Result<(), StatusError> {
    let unreadable = |source| StatusError::Read {
        path: name.to_string(),
        source,
    };
    let mut pending = Pending::default();
    let mut line_no = 0usize;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line).map_err(unreadable)?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let text = String::from_utf8_lossy(&line);
        let text = if line_no == 1 {
            text.trim_start_matches('\u{feff}')
        } else {
            &text
        };
        if pending.text.trim().is_empty() {
            pending = Pending {
                first_line: line_no,
                ..Pending::default()
            };
        }
        pending.text.push_str(text);
        if !pending.text.trim().is_empty() && pending.text.len() >= 2 * pending.incomplete_at {
            pending.drain(name, fleet, warnings);
        }
    }
    pending.drain(name, fleet, warnings);
    if !pending.text.trim().is_empty() {
        let message = "the report is truncated: the file ends inside it".into();
        warnings.warn(name, pending.first_line, StatusKind::Malformed { message });
    }
    Ok(())
}

/// Text read but not yet parsed into reports.
#[derive(Default)]
struct Pending {
    text: String,
    /// The file's line number of the text's first line.
    first_line: usize,
    /// The text's length when it last held only the beginning of a report (0: never).
    incomplete_at: usize,
}

impl Pending {
    /// Parses every complete report at the start of the text and drops it, warning about
    /// text that is not JSON; keeps an incomplete last report for more lines.
    fn drain(&mut self, name: &str, fleet: &mut Fleet, warnings: &mut StatusWarnings) {
        loop {
            self.skip_to(self.text.len() - self.text.trim_start().len());
            if self.text.is_empty() {
                self.incomplete_at = 0;
                return;
            }
            let mut stream = serde_json::Deserializer::from_str(&self.text).into_iter::<Value>();
            match stream.next() {
                Some(Ok(value)) => {
                    let used = stream.byte_offset();
                    let shared = fleet.strings.get(name);
                    let reduced = reduce(
                        &value,
                        &shared,
                        self.first_line,
                        &mut fleet.strings,
                        warnings,
                    );
                    if let Some(parsed) = reduced {
                        fleet.add(parsed, warnings);
                    }
                    self.skip_to(used);
                    self.incomplete_at = 0;
                }
                Some(Err(error)) if error.is_eof() => {
                    self.incomplete_at = self.text.len();
                    return;
                }
                Some(Err(error)) => {
                    let line = error.line().max(1);
                    let message = error.to_string();
                    warnings.warn(
                        name,
                        self.first_line + line - 1,
                        StatusKind::Malformed { message },
                    );
                    // Read on from the line after a report that breaks on its first line,
                    // else from the line where it broke: often the next report's start.
                    let lines = if line == 1 { 1 } else { line - 1 };
                    let cut = self
                        .text
                        .match_indices('\n')
                        .nth(lines - 1)
                        .map_or(self.text.len(), |(at, _)| at + 1);
                    self.skip_to(cut);
                    self.incomplete_at = 0;
                }
                None => {
                    self.text.clear();
                    return;
                }
            }
        }
    }

    /// Drops the first `bytes` of the text, counting the lines they held.
    fn skip_to(&mut self, bytes: usize) {
        self.first_line += self.text[..bytes].matches('\n').count();
        self.text.drain(..bytes);
    }
}

/// Looks up a status item by its dotted name, in either nested (`{"device": {"identifier":
/// …}}`) or flat (`{"device.identifier.serial-number": …}`) form.
fn item<'a>(items: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = items.get(name) {
        return Some(v);
    }
    let (head, rest) = name.split_once('.')?;
    match items.get(head)? {
        Value::Object(inner) => item(inner, rest),
        _ => None,
    }
}

/// Reduces one report to a device state, warning about its shape and item types. The jobs:
/// check the envelope, then read the device's identity and OS, its software-update items, its
/// declarations and the errors it reports.
fn reduce(
    value: &Value,
    shared_file: &Rc<str>,
    line: usize,
    strings: &mut Interner,
    warnings: &mut StatusWarnings,
) -> Option<Parsed> {
    let mut at = At {
        file: shared_file,
        line,
        strings,
        warnings,
    };
    let Value::Object(report) = value else {
        at.malformed("a status report is a JSON object");
        return None;
    };
    let Some(items) = report.get("StatusItems") else {
        at.malformed("the report has no `StatusItems`");
        return None;
    };
    let Value::Object(items) = items else {
        at.malformed("`StatusItems` is not a dictionary");
        return None;
    };
    let full = match report.get("FullReport") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            at.wrong_type("FullReport", "a boolean");
            false
        }
    };
    let mut state = DeviceState {
        file: Rc::clone(shared_file),
        line,
        ..DeviceState::default()
    };
    device(items, &mut state, &mut at);
    software_update(items, &mut state, &mut at);
    let removed = declarations(items, &mut state, &mut at);
    report_errors(report, &mut state, &mut at);
    let listed = std::mem::take(&mut state.declarations);
    upsert(&mut state.declarations, listed);
    Some(Parsed {
        state,
        full,
        removed,
    })
}

/// Where a report is being read, and the run's string table and warnings.
struct At<'a> {
    file: &'a str,
    line: usize,
    strings: &'a mut Interner,
    warnings: &'a mut StatusWarnings,
}

impl At<'_> {
    fn wrong_type(&mut self, item: &str, expected: &str) {
        self.warnings
            .warn(self.file, self.line, wrong_type(item, expected));
    }

    fn malformed(&mut self, message: &str) {
        let message = message.to_string();
        self.warnings
            .warn(self.file, self.line, StatusKind::Malformed { message });
    }

    /// A string item, `None` when absent or null (and warned about when not a string).
    fn text<'v>(&mut self, items: &'v Map<String, Value>, name: &str) -> Option<&'v str> {
        match item(items, name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                self.wrong_type(name, "a string");
                None
            }
        }
    }

    /// A string item shared through the run's string table (most devices report the same
    /// few families, models and versions).
    fn shared(&mut self, items: &Map<String, Value>, name: &str) -> Option<Rc<str>> {
        let text = self.text(items, name)?;
        Some(self.strings.get(text))
    }
}

/// The device's identity, model and OS.
fn device(items: &Map<String, Value>, state: &mut DeviceState, at: &mut At<'_>) {
    state.serial = at
        .text(items, "device.identifier.serial-number")
        .map(str::to_string);
    state.udid = at.text(items, "device.identifier.udid").map(str::to_string);
    state.family = at.shared(items, "device.operating-system.family");
    state.model = at.shared(items, "device.model.identifier");
    state.version = at.shared(items, "device.operating-system.version");
    // Kept as reported (the verdict quotes it), but judged `unknown`: say where it came from.
    if let Some(version) = &state.version
        && version.parse::<crate::model::OsVersion>().is_err()
    {
        let version = version.to_string();
        at.warnings
            .warn(at.file, at.line, StatusKind::BadVersion { version });
    }
    state.build = at.shared(items, "device.operating-system.build-version");
    state.supplemental_build =
        at.shared(items, "device.operating-system.supplemental.build-version");
    state.extra_version = at.shared(items, "device.operating-system.supplemental.extra-version");
}

/// The software-update items: install state and reason, the pending update, the last failure.
fn software_update(items: &Map<String, Value>, state: &mut DeviceState, at: &mut At<'_>) {
    state.install_state = at.shared(items, "softwareupdate.install-state");
    state.install_reason = match item(items, "softwareupdate.install-reason") {
        None | Some(Value::Null) => None,
        Some(Value::Object(o)) => {
            let reasons: Vec<String> = match o.get("reason") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect(),
                Some(Value::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            };
            (!reasons.is_empty()).then(|| at.strings.get(&reasons.join(", ")))
        }
        Some(_) => {
            at.wrong_type("softwareupdate.install-reason", "a dictionary");
            None
        }
    };
    match item(items, "softwareupdate.pending-version") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            state.pending_version = o
                .get("os-version")
                .and_then(Value::as_str)
                .map(|s| at.strings.get(s));
            state.pending_build = o
                .get("build-version")
                .and_then(Value::as_str)
                .map(|s| at.strings.get(s));
        }
        Some(_) => at.wrong_type("softwareupdate.pending-version", "a dictionary"),
    }
    match item(items, "softwareupdate.failure-reason") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            state.failure_count = o.get("count").and_then(Value::as_i64);
            // Apple's key is `reason`; some MDMs relay it as `last-failure-reason`.
            state.failure_reason = ["reason", "last-failure-reason"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .map(|s| at.strings.get(s));
        }
        Some(Value::String(s)) => state.failure_reason = Some(at.strings.get(s)),
        Some(_) => at.wrong_type("softwareupdate.failure-reason", "a dictionary"),
    }
}

/// The declarations the device reports, by class; returns the identifiers it reports as
/// removed.
fn declarations(
    items: &Map<String, Value>,
    state: &mut DeviceState,
    at: &mut At<'_>,
) -> Vec<Rc<str>> {
    let mut removed = Vec::new();
    match item(items, "management.declarations") {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            for class in ["activations", "configurations", "assets", "management"] {
                match o.get(class) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(list)) => {
                        for entry in list {
                            declaration(
                                entry,
                                at.file,
                                at.line,
                                state,
                                &mut removed,
                                at.strings,
                                at.warnings,
                            );
                        }
                    }
                    Some(_) => {
                        at.wrong_type(&format!("management.declarations.{class}"), "an array");
                    }
                }
            }
        }
        Some(_) => at.wrong_type("management.declarations", "a dictionary"),
    }
    removed
}

/// The status items the device could not report (`Errors`), with their reasons.
fn report_errors(report: &Map<String, Value>, state: &mut DeviceState, at: &mut At<'_>) {
    match report.get("Errors") {
        None | Some(Value::Null) => {}
        Some(Value::Array(errors)) => {
            for error in errors {
                let Some(name) = error.get("StatusItem").and_then(Value::as_str) else {
                    continue;
                };
                let reasons: Vec<String> = error
                    .get("Reasons")
                    .and_then(Value::as_array)
                    .map(|rs| rs.iter().map(reason_text).collect())
                    .unwrap_or_default();
                state.errors.insert(name.to_string(), reasons.join("; "));
            }
        }
        Some(_) => at.wrong_type("Errors", "an array"),
    }
}

fn declaration(
    entry: &Value,
    file: &str,
    line: usize,
    state: &mut DeviceState,
    removed: &mut Vec<Rc<str>>,
    strings: &mut Interner,
    warnings: &mut StatusWarnings,
) {
    let Some(o) = entry.as_object() else {
        warnings.warn(
            file,
            line,
            wrong_type("management.declarations entry", "a dictionary"),
        );
        return;
    };
    let Some(identifier) = o.get("identifier").and_then(Value::as_str) else {
        warnings.warn(
            file,
            line,
            wrong_type("management.declarations identifier", "a string"),
        );
        return;
    };
    if o.get("_removed").and_then(Value::as_bool) == Some(true) {
        removed.push(strings.get(identifier));
        return;
    }
    let active = match o.get("active") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            warnings.warn(
                file,
                line,
                wrong_type(&format!("`{identifier}` active"), "a boolean"),
            );
            None
        }
    };
    let valid = match o.get("valid") {
        None => None,
        Some(Value::String(s)) => Some(strings.get(s)),
        Some(Value::Bool(b)) => Some(strings.get(if *b { "valid" } else { "invalid" })),
        Some(_) => {
            warnings.warn(
                file,
                line,
                wrong_type(&format!("`{identifier}` valid"), "a string"),
            );
            None
        }
    };
    let reasons = o
        .get("reasons")
        .and_then(Value::as_array)
        .map(|rs| rs.iter().map(reason_text).collect())
        .unwrap_or_default();
    let declaration = DeclarationState {
        identifier: strings.get(identifier),
        server_token: o
            .get("server-token")
            .and_then(Value::as_str)
            .map(|t| strings.get(t)),
        active,
        valid,
        reasons,
    };
    // Duplicates are resolved once per report, by `upsert`.
    state.declarations.push(Rc::new(declaration));
}

/// Puts each of `later` into `declarations`, replacing the one with the same identifier or
/// appended in order; the last of several with one identifier wins. One pass with an index:
/// a report of 160,000 declarations searched the list once per declaration (112 s).
fn upsert(declarations: &mut Vec<Rc<DeclarationState>>, later: Vec<Rc<DeclarationState>>) {
    let mut slots: HashMap<Rc<str>, usize> = declarations
        .iter()
        .enumerate()
        .map(|(i, d)| (Rc::clone(&d.identifier), i))
        .collect();
    for declaration in later {
        match slots.get(&declaration.identifier) {
            Some(&i) => declarations[i] = declaration,
            None => {
                slots.insert(Rc::clone(&declaration.identifier), declarations.len());
                declarations.push(declaration);
            }
        }
    }
}

/// A `StatusReason` as text: `code: description`.
fn reason_text(reason: &Value) -> String {
    let get = |k: &str| {
        reason
            .get(k)
            .or_else(|| reason.get(k.to_ascii_lowercase()))
            .and_then(Value::as_str)
    };
    match (get("Code"), get("Description")) {
        (Some(c), Some(d)) => format!("{c}: {d}"),
        (Some(c), None) => c.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => reason.to_string(),
    }
}

fn wrong_type(item: &str, expected: &str) -> StatusKind {
    StatusKind::WrongType {
        item: item.to_string(),
        expected: expected.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> (Fleet, StatusWarnings) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        std::fs::write(&path, text).unwrap();
        let mut fleet = Fleet::default();
        let mut warnings = StatusWarnings::default();
        read(&[path], &mut fleet, &mut warnings).unwrap();
        (fleet, warnings)
    }

    /// Reports spread over many lines are read as they are, and reading them is linear: a
    /// pretty-printed report of 10,000 declarations is parsed a handful of times, not once
    /// per line (that took minutes for 160,000 declarations).
    #[test]
    fn pretty_reports_are_read_in_linear_time() {
        let declarations: Vec<String> = (0..10_000)
            .map(|n| {
                format!(
                    "{{\n  \"identifier\": \"com.example.d{n}\",\n  \"active\": true,\n  \"valid\": \"valid\",\n  \"server-token\": \"t{n}\"\n}}"
                )
            })
            .collect();
        let report = format!(
            "{{\n\"StatusItems\": {{\"device\": {{\"identifier\": {{\"serial-number\": \"P1\"}}}},\n\"management\": {{\"declarations\": {{\"configurations\": [\n{}\n]}}}}}},\n\"Errors\": [], \"FullReport\": true\n}}\n",
            declarations.join(",\n")
        );
        let lines = report.lines().count();
        // Count the parses by the bytes handed to the parser.
        let mut pending = Pending::default();
        let mut parsed_bytes = 0usize;
        let mut fleet = Fleet::default();
        let mut warnings = StatusWarnings::default();
        for (n, line) in report.split_inclusive('\n').enumerate() {
            if pending.text.trim().is_empty() {
                pending = Pending {
                    first_line: n + 1,
                    ..Pending::default()
                };
            }
            pending.text.push_str(line);
            if pending.text.len() >= 2 * pending.incomplete_at {
                parsed_bytes += pending.text.len();
                pending.drain("r.json", &mut fleet, &mut warnings);
            }
        }
        // The end of the file, as `read_from` does it.
        parsed_bytes += pending.text.len();
        pending.drain("r.json", &mut fleet, &mut warnings);
        assert!(lines > 50_000, "{lines}");
        assert!(
            parsed_bytes < 4 * report.len(),
            "parsed {parsed_bytes} bytes for a report of {}",
            report.len()
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(fleet.devices.contains_key("P1"));
        // And through the public reader, with a second report after it.
        let (fleet, warnings) = read_text(&format!("{report}{report}"));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(fleet.devices.contains_key("P1"));
    }

    /// A report cut short is reported, and the reports after it are still read.
    #[test]
    fn a_truncated_pretty_report_does_not_swallow_the_next_ones() {
        let text = "{\n  \"StatusItems\": {\n    \"device.identifier.serial-number\": \"A\"\n\
                    {\"StatusItems\": {\"device.identifier.serial-number\": \"B\"}, \"Errors\": []}\n\
                    {\"StatusItems\": {\"device.identifier.serial-number\": \"C\"}, \"Errors\": []}\n";
        let (fleet, warnings) = read_text(text);
        assert_eq!(
            fleet.devices.keys().collect::<Vec<_>>(),
            vec!["B", "C"],
            "{warnings:?}"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings.lines_and_codes()[0].0, 4);
    }

    #[test]
    fn incremental_reports_merge_and_full_reports_replace() {
        let text = r#"{"StatusItems":{"device":{"identifier":{"serial-number":"S1"},"operating-system":{"version":"26.3","build-version":"25D1"}},"softwareupdate":{"install-state":"downloading"}},"Errors":[],"FullReport":true}
{"StatusItems":{"device":{"identifier":{"serial-number":"S1"},"operating-system":{"version":"26.3.1"}}},"Errors":[]}
"#;
        let (fleet, warnings) = read_text(text);
        assert!(warnings.is_empty(), "{warnings:?}");
        let s = &fleet.devices["S1"];
        assert_eq!(s.version.as_deref(), Some("26.3.1"));
        assert_eq!(s.build.as_deref(), Some("25D1"));
        assert_eq!(s.install_state.as_deref(), Some("downloading"));
        let full = format!(
            "{text}{}\n",
            r#"{"StatusItems":{"device":{"identifier":{"serial-number":"S1"}}},"Errors":[],"FullReport":true}"#
        );
        let (fleet, _) = read_text(&full);
        assert_eq!(fleet.devices["S1"].version, None);
    }

    #[test]
    fn bad_lines_warn_with_their_line_and_the_rest_is_read() {
        let text = "{\"StatusItems\": {\"device.identifier.serial-number\": \"A\"}, \"Errors\": []}\n\
                    {\"StatusItems\": [1], \"Errors\": []}\n\
                    {not json}\n\
                    {\"StatusItems\": {\"device.identifier.serial-number\": 7}, \"Errors\": []}\n\
                    {\"StatusItems\": {\"device.identifier.serial-number\": \"B\"}, \"Errors\": []}\n\
                    {\"StatusItems\": {";
        let (fleet, warnings) = read_text(text);
        assert_eq!(
            fleet.devices.keys().collect::<Vec<_>>(),
            vec!["A", "B"],
            "{warnings:?}"
        );
        let lines = warnings.lines_and_codes();
        assert_eq!(
            lines,
            vec![
                (2, "status-malformed-report"),
                (3, "status-malformed-report"),
                (4, "status-wrong-type"),
                (4, "status-unidentified-report"),
                (6, "status-malformed-report"),
            ]
        );
    }

    #[test]
    fn a_malformed_version_warns_at_its_report() {
        let text = "{\"StatusItems\":{\"device\":{\"identifier\":{\"serial-number\":\"S1\"},\"operating-system\":{\"version\":\"26.3\"}}}}\n{\"StatusItems\":{\"device\":{\"identifier\":{\"serial-number\":\"S2\"},\"operating-system\":{\"version\":\"abc\"}}}}\n{\"StatusItems\":{\"device\":{\"identifier\":{\"serial-number\":\"S3\"},\"operating-system\":{\"version\":\"\"}}}}\n";
        let (fleet, warnings) = read_text(text);
        assert_eq!(fleet.devices["S2"].version.as_deref(), Some("abc"));
        let got = warnings.lines_and_codes();
        assert_eq!(
            got,
            vec![(2, "status-bad-version"), (3, "status-bad-version")]
        );
    }

    #[test]
    fn removed_declarations_leave_the_device() {
        let text = r#"{"StatusItems":{"device.identifier.serial-number":"S","management":{"declarations":{"configurations":[{"identifier":"a","active":true,"valid":"valid","server-token":"t"},{"identifier":"b","active":true,"valid":"valid","server-token":"t"}]}}},"Errors":[],"FullReport":true}
{"StatusItems":{"device.identifier.serial-number":"S","management":{"declarations":{"configurations":[{"identifier":"a","_removed":true}]}}},"Errors":[]}
"#;
        let (fleet, _) = read_text(text);
        assert_eq!(
            fleet.devices["S"]
                .declarations
                .iter()
                .map(|d| &*d.identifier)
                .collect::<Vec<_>>(),
            vec!["b"]
        );
    }

    #[test]
    fn repeated_identifiers_keep_the_last_in_first_order() {
        let entries: Vec<String> = (0..20_000)
            .map(|i| {
                format!(
                    r#"{{"identifier":"d{}","active":{},"valid":"valid"}}"#,
                    i % 10_000,
                    i >= 10_000
                )
            })
            .collect();
        let text = format!(
            r#"{{"StatusItems":{{"device.identifier.serial-number":"S","management":{{"declarations":{{"configurations":[{}]}}}}}},"Errors":[],"FullReport":true}}"#,
            entries.join(",")
        );
        let (fleet, _) = read_text(&format!("{text}\n"));
        let declarations = &fleet.devices["S"].declarations;
        assert_eq!(declarations.len(), 10_000);
        assert_eq!(&*declarations[7].identifier, "d7");
        assert!(declarations.iter().all(|d| d.active == Some(true)));
    }
}
