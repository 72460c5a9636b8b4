//! Reading MDM inventory exports (`bsic status --export`): FileWave's inventory query results,
//! Microsoft Intune's managed devices, Addigy's device facts — each device's OS version,
//! build, supplemental (BSI) version and build — into the same [`DeviceState`]s Apple's status
//! reports give, so they are judged alike.
//!
//! In: paths. Out: device states merged into the [`Fleet`], plus located warnings. Every
//! export is reduced to rows of named cells, each with its line in the file: a JSON query
//! result (FileWave's `fields` + `values`), a JSON collection of objects (Graph's `value`,
//! Addigy's device list, a bare array) or a CSV with a header row. The cells are matched to
//! what bsic judges by their names (`Column::of`): case, punctuation and the vendors' own
//! names are ignored, and a few other languages' names are known, so a German FileWave
//! console's "Seriennummer" is a serial number. A missing column, a row without a serial
//! number, a duplicate device or a cell that is no version is a located warning and the rest
//! is read; a file that is none of these shapes is a [`StatusError`] (exit 2).

mod addigy;
mod filewave;
mod intune;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde_json::Value;
use serde_json::value::RawValue;

use super::StatusError;
use super::diags::{StatusKind, StatusWarnings};
use super::reports::{DeviceState, Fleet};
use crate::model::{OsVersion, Platform};

/// What bsic reads from a cell, by the cell's column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Serial,
    Udid,
    Platform,
    /// The OS version; some MDMs add the build, the supplemental version or the OS name
    /// (`macOS 26.3.1 (a) (25D771280a)`), which [`OsCell`] takes apart.
    Version,
    Build,
    /// The supplemental version extra, `(a)`.
    SupplementalVersion,
    SupplementalBuild,
}

impl Column {
    /// The column a header names, if bsic reads it. The header is folded (lower case, ASCII
    /// letters and digits only, accents dropped) and matched against the vendors' names in
    /// English, German, French and Spanish.
    fn of(header: &str) -> Option<Column> {
        let h = fold(header);
        let any = |words: &[&str]| words.iter().any(|w| h.contains(w));
        if any(&[
            "supplemental",
            "zusatz",
            "supplementaire",
            "suplementari",
            "rapidsecurity",
        ]) {
            return Some(if h.contains("build") {
                Column::SupplementalBuild
            } else {
                Column::SupplementalVersion
            });
        }
        if any(&["serial", "seriennummer", "numerodeserie", "seriennr"]) {
            return Some(Column::Serial);
        }
        if h.contains("udid") {
            return Some(Column::Udid);
        }
        // Versions of something else than the OS: the MDM's agent, an app, a model.
        if any(&[
            "agent",
            "filewave",
            "clientversion",
            "app",
            "model",
            "firmware",
            "bios",
        ]) {
            return None;
        }
        if h.contains("build") {
            return Some(Column::Build);
        }
        const VERSIONS: &[&str] = &[
            "osversion",
            "operatingsystemversion",
            "systemversion",
            "betriebssystemversion",
            "versiondusysteme",
            "versionsysteme",
            "versiondelsistema",
            "versiondelso",
            "versionso",
            "versionos",
        ];
        if h == "version" || any(VERSIONS) {
            return Some(Column::Version);
        }
        const PLATFORMS: &[&str] = &[
            "operatingsystem",
            "betriebssystem",
            "systemedexploitation",
            "sistemaoperativo",
            "os",
            "osname",
            "ostype",
            "osfamily",
            "platform",
            "plattform",
            "plateforme",
            "plataforma",
            "devicetype",
        ];
        if PLATFORMS.contains(&h.as_str())
            || any(&["platform", "plattform", "osname", "ostype", "osfamily"])
            || h.starts_with("operatingsystem") && any(&["name", "type"])
        {
            return Some(Column::Platform);
        }
        None
    }

    /// How the column is called in warnings.
    fn describe(self) -> &'static str {
        match self {
            Column::Serial => "serial number",
            Column::Udid => "UDID",
            Column::Platform => "platform",
            Column::Version => "OS version",
            Column::Build => "OS build",
            Column::SupplementalVersion => "supplemental version",
            Column::SupplementalBuild => "supplemental build",
        }
    }
}

/// `header` in lower case, ASCII letters and digits only, accented Latin letters folded.
fn fold(header: &str) -> String {
    header
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            'ß' => 's',
            other => other,
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The MDM an export comes from, as far as its shape tells: which columns it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// FileWave's inventory query results (JSON) or a console CSV: the supplemental fields
    /// are columns of their own.
    FileWave,
    /// Graph `managedDevices`: `osVersion` is the only OS field.
    Intune,
    /// Addigy's device facts, JSON or CSV.
    Addigy,
    /// A CSV of an MDM the header does not name.
    Csv,
}

impl Source {
    /// The columns a device cannot be judged well without; each missing one is a warning.
    fn required(self) -> &'static [Column] {
        match self {
            Source::FileWave | Source::Csv => &[
                Column::Serial,
                Column::Platform,
                Column::Version,
                Column::SupplementalBuild,
            ],
            Source::Addigy => &[Column::Serial, Column::Platform, Column::Version],
            Source::Intune => &[Column::Serial, Column::Version],
        }
    }
}

/// One device's row: its cells by column, and where it is.
#[derive(Debug, Default)]
struct Row {
    line: usize,
    cells: BTreeMap<Column, String>,
}

/// An export reduced to rows, with the columns it names (by the line of its header).
#[derive(Debug)]
struct Table {
    source: Source,
    header_line: usize,
    columns: Vec<Column>,
    rows: Vec<Row>,
}

/// Reads every export under `paths` into `fleet`, in order.
pub fn read(
    paths: &[PathBuf],
    fleet: &mut Fleet,
    warnings: &mut StatusWarnings,
) -> Result<(), StatusError> {
    for path in paths {
        let bytes =
            crate::source::read::read(path, crate::source::Input::Fleet).map_err(|source| {
                StatusError::Read {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        read_bytes(&bytes, path, fleet, warnings)?;
    }
    Ok(())
}

/// Reads one export's `bytes`; `path` names it in warnings and errors.
fn read_bytes(
    bytes: &[u8],
    path: &Path,
    fleet: &mut Fleet,
    warnings: &mut StatusWarnings,
) -> Result<(), StatusError> {
    let name = path.display().to_string();
    let unreadable = |message: String| StatusError::Export {
        path: name.clone(),
        message,
    };
    let text = std::str::from_utf8(bytes)
        .map_err(|e| unreadable(format!("not UTF-8 text ({e})")))?
        .trim_start_matches('\u{feff}');
    let table = if text.trim_start().starts_with(['{', '[']) {
        json_table(text).map_err(unreadable)?
    } else {
        csv_table(text).map_err(unreadable)?
    };
    // An empty device list (a Graph page of no devices) is no devices, not an error.
    let empty_list =
        table.rows.is_empty() && matches!(table.source, Source::Intune | Source::Addigy);
    let identified = [Column::Version, Column::Serial, Column::Udid]
        .iter()
        .any(|c| table.columns.contains(c));
    if !identified && !empty_list {
        return Err(unreadable(
            "no serial number and no OS version in it: not an MDM inventory export bsic reads"
                .into(),
        ));
    }
    judge_table(&table, &name, fleet, warnings);
    Ok(())
}

/// The rows of a JSON export: FileWave's query result, or a collection of device objects.
fn json_table(text: &str) -> Result<Table, String> {
    let top: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if top.get("fields").is_some() && top.get("values").is_some() {
        return filewave::query_result(text);
    }
    let objects = objects(text, &top)?;
    let source = if intune::is_graph(&top, &objects) {
        Source::Intune
    } else {
        Source::Addigy
    };
    let mut columns = Vec::new();
    let rows = objects
        .into_iter()
        .map(|(line, object)| {
            let mut row = Row {
                line,
                ..Row::default()
            };
            let flat = match source {
                Source::Addigy => addigy::flatten(object),
                _ => object.into_iter().collect(),
            };
            for (key, value) in flat {
                if let Some(column) = Column::of(&key) {
                    if !columns.contains(&column) {
                        columns.push(column);
                    }
                    if let Some(text) = cell_text(&value) {
                        row.cells.entry(column).or_insert(text);
                    }
                }
            }
            row
        })
        .collect();
    Ok(Table {
        source,
        header_line: 1,
        columns,
        rows,
    })
}

/// A device object of a JSON collection, with its line.
type Located = (usize, serde_json::Map<String, Value>);

/// The device objects of a JSON collection — `value` (Graph), `items`, `devices` or `data`,
/// or the document itself when it is an array — each with its line.
fn objects(text: &str, top: &Value) -> Result<Vec<Located>, String> {
    let raw: Vec<&RawValue> = match top {
        Value::Array(_) => serde_json::from_str(text).map_err(|e| e.to_string())?,
        Value::Object(map) => {
            let key = ["value", "items", "devices", "data"]
                .into_iter()
                .find(|k| map.get(*k).is_some_and(Value::is_array))
                .ok_or("a JSON object without `fields`/`values` (FileWave) or a `value` array (Graph): not an export bsic reads")?;
            let fields: BTreeMap<String, &RawValue> =
                serde_json::from_str(text).map_err(|e| e.to_string())?;
            let list = fields.get(key).ok_or("no device list")?;
            serde_json::from_str(list.get()).map_err(|e| e.to_string())?
        }
        _ => return Err("a JSON value that is neither an object nor an array".into()),
    };
    Ok(raw
        .into_iter()
        .filter_map(|item| {
            let line = line_of(text, item.get());
            match serde_json::from_str::<Value>(item.get()) {
                Ok(Value::Object(map)) => Some((line, map)),
                _ => None,
            }
        })
        .collect())
}

/// The line of `text` where `part`, a slice of it, starts.
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// A cell's text: strings and numbers as written, nothing for null or blanks.
fn cell_text(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

/// The rows of a CSV export with a header row, delimited by `,`, `;` or tabs (whichever the
/// header has most of).
fn csv_table(text: &str) -> Result<Table, String> {
    let mut header = text
        .lines()
        .position(|l| !l.trim().is_empty())
        .ok_or("the file is empty")?;
    let mut first = text.lines().nth(header).unwrap_or_default();
    // Excel's `sep=;` line names the delimiter; the header is the line after it.
    let named = first
        .trim()
        .to_ascii_lowercase()
        .strip_prefix("sep=")
        .and_then(|d| d.bytes().next());
    if named.is_some() {
        header += 1;
        first = text.lines().nth(header).unwrap_or_default();
    }
    let delimiter = named.unwrap_or_else(|| {
        [b',', b';', b'\t']
            .into_iter()
            .max_by_key(|d| first.matches(char::from(*d)).count())
            .unwrap_or(b',')
    });
    // The header's byte offset: the reader starts there, and lines count from it.
    let start = text
        .split_inclusive('\n')
        .take(header)
        .map(str::len)
        .sum::<usize>();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.get(start..).unwrap_or_default().as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("no header row: {e}"))?
        .clone();
    let by_index: Vec<Option<Column>> = headers.iter().map(Column::of).collect();
    let mut columns: Vec<Column> = by_index.iter().flatten().copied().collect();
    columns.sort();
    columns.dedup();
    let source = if headers.iter().any(|h| fold(h).contains("filewave")) {
        Source::FileWave
    } else if headers.iter().any(|h| fold(h).contains("addigy")) {
        Source::Addigy
    } else {
        Source::Csv
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let Ok(record) = record else {
            continue;
        };
        let line = record.position().map_or(0, |p| {
            usize::try_from(p.line())
                .unwrap_or(usize::MAX)
                .saturating_add(header)
        });
        let mut row = Row {
            line,
            ..Row::default()
        };
        for (cell, column) in record.iter().zip(&by_index) {
            if let (Some(column), false) = (column, cell.is_empty()) {
                row.cells.entry(*column).or_insert_with(|| cell.to_string());
            }
        }
        if record.iter().any(|c| !c.is_empty()) {
            rows.push(row);
        }
    }
    Ok(Table {
        source,
        header_line: header + 1,
        columns,
        rows,
    })
}

/// Warns about the table's missing columns, then turns each row into a device state in
/// `fleet`: rows without a device and repeated devices are warnings, not devices.
fn judge_table(table: &Table, file: &str, fleet: &mut Fleet, warnings: &mut StatusWarnings) {
    for column in table.source.required() {
        let present = table.columns.contains(column)
            || (*column == Column::Serial && table.columns.contains(&Column::Udid));
        let missing = !present;
        if missing {
            let consequence = match column {
                Column::Serial => "rows cannot be matched to devices and are skipped",
                Column::Version => "every device is judged unknown",
                Column::Platform => "each device's platform comes from the --devices inventory",
                _ => "a device on the target base OS cannot be shown to run its BSI",
            };
            let message = format!("no {} column; {consequence}", column.describe());
            warnings.warn(
                file,
                table.header_line,
                StatusKind::ExportColumn { message },
            );
        }
    }
    let shared: Rc<str> = Rc::from(file);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for row in &table.rows {
        let Some(state) = device_state(row, &shared, warnings) else {
            continue;
        };
        let Some(key) = state.key().map(str::to_string) else {
            let message = "the row has no serial number (nor UDID); it is skipped".into();
            warnings.warn(file, row.line, StatusKind::ExportRow { message });
            continue;
        };
        if let Some(first) = seen.get(&key) {
            let kind = StatusKind::DuplicateDevice {
                device: key,
                first: *first,
            };
            warnings.warn(file, row.line, kind);
            continue;
        }
        seen.insert(key, row.line);
        fleet.merge_export(state, warnings);
    }
}

/// A row as a device state, or nothing for a device bsic does not manage (Windows, Android:
/// Intune lists them beside the Apple devices).
fn device_state(row: &Row, file: &Rc<str>, warnings: &mut StatusWarnings) -> Option<DeviceState> {
    let cell = |column| row.cells.get(&column).map(String::as_str);
    // An export with one "OS" column (`macOS 26.3.1`) and no version column.
    let version = cell(Column::Version)
        .or_else(|| cell(Column::Platform).filter(|p| OsCell::parse(p).platform_name.is_some()));
    let mut os = version.map(OsCell::parse).unwrap_or_default();
    if let Some(build) = cell(Column::Build) {
        os.add_build(build);
    }
    if let Some(build) = cell(Column::SupplementalBuild) {
        os.supplemental_build = Some(build.to_string());
    }
    if let Some(extra) = cell(Column::SupplementalVersion) {
        let letter = extra.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace());
        if !letter.is_empty() {
            os.extra_version = Some(format!("({letter})"));
        }
    }
    let named = cell(Column::Platform).or(os.platform_name.as_deref());
    let family = match named {
        Some(name) => match platform_of(name) {
            Some(platform) => Some(platform.name().to_string()),
            None if is_foreign(name) => return None,
            None => Some(name.to_string()),
        },
        None => None,
    };
    if let Some(version) = &os.version
        && version.parse::<OsVersion>().is_err()
    {
        let version = version.clone();
        warnings.warn(file, row.line, StatusKind::BadVersion { version });
    }
    let text = |value: Option<String>| value.map(|v| Rc::from(v.as_str()));
    Some(DeviceState {
        serial: cell(Column::Serial).map(str::to_string),
        udid: cell(Column::Udid).map(str::to_string),
        family: text(family),
        version: text(os.version),
        build: text(os.build),
        supplemental_build: text(os.supplemental_build),
        extra_version: text(os.extra_version),
        file: Rc::clone(file),
        line: row.line,
        ..DeviceState::default()
    })
}

/// The Apple platform a name stands for: Apple's own names, and the ones MDMs use (`Mac OS
/// X`, FileWave's `MacOSClient`, `iPhone`, `iPad`).
fn platform_of(name: &str) -> Option<Platform> {
    let folded = fold(name);
    if folded.contains("ipad") {
        Some(Platform::IpadOs)
    } else if folded.contains("ios") || folded.contains("iphone") {
        Some(Platform::Ios)
    } else if folded.contains("mac") || folded.contains("osx") {
        Some(Platform::MacOs)
    } else if folded.contains("tvos") || folded.contains("appletv") {
        Some(Platform::TvOs)
    } else if folded.contains("vision") {
        Some(Platform::VisionOs)
    } else {
        None
    }
}

/// Whether a platform name is one of another vendor's (an MDM's other devices).
fn is_foreign(name: &str) -> bool {
    let folded = fold(name);
    ["windows", "android", "linux", "chrome"]
        .iter()
        .any(|os| folded.contains(os))
}

/// An OS version cell taken apart: `macOS 26.3.1 (a) (25D771280a)` is the platform `macOS`,
/// the version `26.3.1`, the extra version `(a)` and the build `25D771280a` — a supplemental
/// build, by its trailing lower-case letter.
#[derive(Debug, Default, PartialEq, Eq)]
struct OsCell {
    platform_name: Option<String>,
    version: Option<String>,
    build: Option<String>,
    supplemental_build: Option<String>,
    extra_version: Option<String>,
}

impl OsCell {
    fn parse(cell: &str) -> OsCell {
        let mut os = OsCell::default();
        let mut words = Vec::new();
        for token in cell.split_whitespace() {
            let bare = token.trim_matches(|c: char| c == '(' || c == ')' || c == ',');
            if os.version.is_none() && bare.parse::<OsVersion>().is_ok() {
                os.version = Some(bare.to_string());
            } else if bare.len() == 1 && bare.chars().all(|c| c.is_ascii_lowercase()) {
                os.extra_version = Some(format!("({bare})"));
            } else if is_build(bare) {
                os.add_build(bare);
            } else if os.version.is_none() && !bare.eq_ignore_ascii_case("version") {
                words.push(bare);
            }
        }
        if os.version.is_none() {
            // No version in it: the cell as it is, judged unknown with a warning.
            os.version = Some(cell.trim().to_string()).filter(|v| !v.is_empty());
        } else if !words.is_empty() {
            os.platform_name = Some(words.join(" "));
        }
        os
    }

    /// Records a build: a supplemental one (trailing lower-case letter) as such.
    fn add_build(&mut self, build: &str) {
        if build.ends_with(|c: char| c.is_ascii_lowercase()) {
            self.supplemental_build = Some(build.to_string());
        } else {
            self.build = Some(build.to_string());
        }
    }
}

/// Whether a token looks like an Apple build: digits, an upper-case letter, digits, an
/// optional lower-case letter (`25D2128`, `25D771280a`).
fn is_build(token: &str) -> bool {
    let digits = token.chars().take_while(char::is_ascii_digit).count();
    let rest = &token[digits..];
    let mut chars = rest.chars();
    digits > 0 && chars.next().is_some_and(|c| c.is_ascii_uppercase()) && {
        let tail: String = chars.collect();
        let number = tail.chars().take_while(char::is_ascii_digit).count();
        number > 0
            && tail[number..].chars().all(|c| c.is_ascii_lowercase())
            && tail.len() - number <= 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_in_any_case_language_or_vendor_spelling_name_their_column() {
        for (header, column) in [
            ("Serial Number", Column::Serial),
            ("serialNumber", Column::Serial),
            ("Client_serial_number", Column::Serial),
            ("Seriennummer", Column::Serial),
            ("Numéro de série", Column::Serial),
            ("OS Version", Column::Version),
            ("osVersion", Column::Version),
            ("OperatingSystem_version", Column::Version),
            ("Betriebssystemversion", Column::Version),
            ("Versión del sistema operativo", Column::Version),
            ("OS Build", Column::Build),
            ("OperatingSystem_build", Column::Build),
            ("Supplemental Build Version", Column::SupplementalBuild),
            ("OS Supplemental Build", Column::SupplementalBuild),
            ("Supplemental OS Version Extra", Column::SupplementalVersion),
            ("operatingSystem", Column::Platform),
            ("OS Name", Column::Platform),
            ("Plattform", Column::Platform),
        ] {
            assert_eq!(Column::of(header), Some(column), "{header}");
        }
        for ignored in [
            "FileWave Client Version",
            "Agent Version",
            "Model",
            "Device Name",
        ] {
            assert_eq!(Column::of(ignored), None, "{ignored}");
        }
    }

    #[test]
    fn an_os_cell_gives_its_version_build_supplemental_parts_and_platform() {
        let os = OsCell::parse("macOS 26.3.1 (a) (25D771280a)");
        assert_eq!(os.platform_name.as_deref(), Some("macOS"));
        assert_eq!(os.version.as_deref(), Some("26.3.1"));
        assert_eq!(os.extra_version.as_deref(), Some("(a)"));
        assert_eq!(os.supplemental_build.as_deref(), Some("25D771280a"));
        assert_eq!(os.build, None);
        let os = OsCell::parse("15.3.1 (24D70)");
        assert_eq!(
            (os.version.as_deref(), os.build.as_deref()),
            (Some("15.3.1"), Some("24D70"))
        );
        assert_eq!(OsCell::parse("abc").version.as_deref(), Some("abc"));
        assert!(
            is_build("25D2128") && is_build("25D771280a") && !is_build("26.3") && !is_build("25D")
        );
    }

    /// Odd input is a warning or an error, never a panic, and an empty device list is fine.
    #[test]
    fn odd_input_never_panics() {
        let cases: &[(&[u8], bool)] = &[
            (b"", false),
            (b"[]", true),
            (b"{}", false),
            (b"[1, 2]", true),
            (b"{\"value\": [1, \"x\", null, {}]}", false),
            (b"{\"value\": []}", true),
            (b"{\"fields\": [], \"values\": []}", false),
            (
                b"{\"fields\": [\"Serial\"], \"values\": [[], [1, 2, 3], \"x\"]}",
                true,
            ),
            (b"Serial Number\n", true),
            (b"Serial Number,OS Version\n\"open,26\n", true),
            (b"\xff\xfe", false),
            (b"{\"value\": [", false),
            (b"\xc3\xa9\xc3\xa9 26.1 (25B\xc3\xa9) (a)", false),
        ];
        for (bytes, readable) in cases {
            let mut fleet = Fleet::default();
            let mut warnings = StatusWarnings::default();
            let result = read_bytes(bytes, Path::new("x"), &mut fleet, &mut warnings);
            assert_eq!(
                result.is_ok(),
                *readable,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        assert!(!is_build("25\u{e9}1") && !is_build("1A1ab"));
        assert_eq!(
            OsCell::parse("26.1 (25B\u{e9})").version.as_deref(),
            Some("26.1")
        );
    }

    #[test]
    fn an_excel_separator_line_names_the_delimiter_and_lines_still_count() {
        let table = csv_table("\nsep=;\nSerial Number;OS Version\nC02;26.3.1\n").unwrap();
        assert_eq!(table.header_line, 3);
        assert_eq!(table.rows[0].line, 4);
        assert_eq!(table.rows[0].cells[&Column::Version], "26.3.1");
        let table = csv_table("Serial Number,OS Version\nC02,26.3.1\n").unwrap();
        assert_eq!((table.header_line, table.rows[0].line), (1, 2));
    }

    #[test]
    fn json_rows_know_their_lines() {
        let text = "{\n  \"value\": [\n    {\"serialNumber\": \"A\"},\n    {\"serialNumber\": \"B\"}\n  ]\n}\n";
        let table = json_table(text).unwrap();
        let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4]);
        assert_eq!(table.source, Source::Intune);
    }
}
