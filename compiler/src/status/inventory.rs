//! The device inventory: a CSV of `serial,groups[,platform]` mapping each device (serial number
//! or UDID) to its groups, `;`-separated.
//!
//! In: the file's bytes and the project's group names. Out: rows by device, plus located
//! warnings. Tolerates a UTF-8 BOM, `;`-delimited files (spreadsheets in many locales write
//! them), a header row or none, and rows of any width; a bad row is a warning, never the end.

use std::collections::BTreeMap;

use crate::model::Platform;

use super::diags::{StatusKind, StatusWarnings};

/// One device's inventory row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub groups: Vec<String>,
    pub platform: Option<Platform>,
    pub line: usize,
}

/// Parses the inventory `text` read from `file`; `known` are the project's groups.
///
/// Each physical line is one row, read on its own: no inventory cell holds a line break, so a
/// quote left open cannot swallow the rows after it (a CSV reader would read on to the end of
/// the file). A row with an open quote, or a cell holding a control character or a stray
/// quote (a NUL in a serial, say), is a located warning and is left out; it is never matched
/// to a device by accident.
pub fn parse(
    text: &str,
    file: &str,
    known: &[&str],
    warnings: &mut StatusWarnings,
) -> BTreeMap<String, Row> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.contains(';') && !first.contains(',') {
        b';'
    } else {
        b','
    };
    let mut splitter = LineSplitter::new(delimiter);
    let mut columns = Columns::default();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut first_row = true;
    for (index, raw) in text.split('\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let bad_row = |message: String| StatusKind::BadRow { message };
        let record = match read_record(raw, &mut splitter) {
            Ok(record) => record,
            Err(why) => {
                warnings.warn(file, line, bad_row(why));
                first_row = false;
                continue;
            }
        };
        if std::mem::take(&mut first_row)
            && let Some(header) = Columns::from_header(&record)
        {
            columns = header;
            continue;
        }
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or_default();
        let serial = field(columns.serial);
        if serial.is_empty() {
            if record.iter().any(|f| !f.trim().is_empty()) {
                warnings.warn(file, line, bad_row("the row names no device".into()));
            }
            continue;
        }
        let at = Line { file, line };
        let groups = groups(field(columns.groups), delimiter, known, at, warnings);
        let platform = columns
            .platform
            .map(field)
            .and_then(|name| row_platform(name, at, warnings));
        if let Some(first) = rows.get(serial) {
            let kind = StatusKind::DuplicateDevice {
                device: serial.to_string(),
                first: first.line,
            };
            warnings.warn(file, line, kind);
            continue;
        }
        rows.insert(
            serial.to_string(),
            Row {
                groups,
                platform,
                line,
            },
        );
    }
    rows
}

/// The cells of one line, or why the line cannot be read as a row.
fn read_record(raw: &str, splitter: &mut LineSplitter) -> Result<csv::StringRecord, String> {
    if let Some(why) = unreadable(raw) {
        return Err(why);
    }
    let record = splitter.split(raw);
    match bad_cell(&record) {
        Some(why) => Err(why),
        None => Ok(record),
    }
}

/// The platform a row names, warned about when it is not one bsic manages; an empty cell
/// names none.
fn row_platform(name: &str, at: Line<'_>, warnings: &mut StatusWarnings) -> Option<Platform> {
    if name.is_empty() {
        return None;
    }
    let found = super::platform(name);
    if found.is_none() {
        let message = format!("`{name}` is not one of macOS, iOS, iPadOS, tvOS, visionOS");
        warnings.warn(at.file, at.line, StatusKind::BadRow { message });
    }
    found
}

/// Which column holds what: serial, groups, platform (by position without a header row).
struct Columns {
    serial: usize,
    groups: usize,
    platform: Option<usize>,
}

impl Default for Columns {
    fn default() -> Self {
        Self {
            serial: 0,
            groups: 1,
            platform: Some(2),
        }
    }
}

impl Columns {
    /// The columns a header row names; `None` when the row is no header (it names no serial).
    fn from_header(record: &csv::StringRecord) -> Option<Self> {
        let names: Vec<String> = record.iter().map(|n| n.to_ascii_lowercase()).collect();
        let find = |options: &[&str]| names.iter().position(|n| options.contains(&n.as_str()));
        let serial = find(&["serial", "serial-number", "serial number", "udid", "device"])?;
        Some(Self {
            serial,
            groups: find(&["groups", "group"]).unwrap_or(1),
            platform: find(&["platform", "family"]),
        })
    }
}

/// Why a raw line cannot be split into cells at all: a quoted cell left open.
fn unreadable(raw: &str) -> Option<String> {
    (raw.matches('"').count() % 2 == 1)
        .then(|| "a quoted cell is not closed on this line; the row is ignored".into())
}

/// Why a split row is refused: a cell holding a control character or a stray quote.
fn bad_cell(record: &csv::StringRecord) -> Option<String> {
    let (cell, problem) = record.iter().enumerate().find_map(|(i, cell)| {
        cell.chars()
            .find(|c| c.is_control() || *c == '"')
            .map(|c| (i + 1, c))
    })?;
    let what = if problem == '"' {
        "a stray quote".to_string()
    } else {
        format!("the control character U+{:04X}", u32::from(problem))
    };
    Some(format!("cell {cell} holds {what}; the row is ignored"))
}

/// A line of the inventory, for warnings.
#[derive(Clone, Copy)]
struct Line<'a> {
    file: &'a str,
    line: usize,
}

/// The known groups a row's groups cell names, each once, in order; unknown ones are warned
/// about (with a did-you-mean). Groups are separated by what is not the cell delimiter.
fn groups(
    cell: &str,
    delimiter: u8,
    known: &[&str],
    at: Line<'_>,
    warnings: &mut StatusWarnings,
) -> Vec<String> {
    let separators: &[char] = if delimiter == b';' {
        &[',', '|']
    } else {
        &[';', '|']
    };
    let mut groups: Vec<String> = Vec::new();
    for group in cell
        .split(separators)
        .map(str::trim)
        .filter(|g| !g.is_empty())
    {
        if known.contains(&group) {
            if !groups.iter().any(|g| g == group) {
                groups.push(group.to_string());
            }
        } else {
            let kind = StatusKind::UnknownGroup {
                group: group.to_string(),
                suggestion: crate::diag::suggest(group, known.iter().copied()),
            };
            warnings.warn(at.file, at.line, kind);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_semicolons_unknown_groups_and_duplicates() {
        let text = "\u{feff}serial;groups;platform\nA;kiosks,lab;macOS\nB;kiosk\nA;lab\n;\nC;lab;Windows\n";
        let mut warnings = StatusWarnings::default();
        let rows = parse(text, "d.csv", &["kiosks", "lab"], &mut warnings);
        assert_eq!(rows["A"].groups, vec!["kiosks", "lab"]);
        assert_eq!(rows["A"].platform, Some(Platform::MacOs));
        assert!(rows["B"].groups.is_empty());
        let got = warnings.lines_and_codes();
        assert_eq!(
            got,
            vec![
                (3, "status-unknown-group"),
                (4, "status-duplicate-device"),
                (6, "status-bad-inventory-row"),
            ]
        );
    }

    #[test]
    fn broken_quoting_and_control_characters_warn_per_row() {
        let text = "serial,groups\nA,lab\nB\0X,lab\n\"C,lab\nD,lab\nE\"F\",lab\nG,\"lab\"\n\u{1b}[2J,lab\n";
        let mut warnings = StatusWarnings::default();
        let rows = parse(text, "d.csv", &["lab"], &mut warnings);
        // The open quote on line 4 does not swallow D and G.
        let names: Vec<&str> = rows.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["A", "D", "G"]);
        let got = warnings.lines_and_codes();
        assert_eq!(
            got,
            vec![
                (3, "status-bad-inventory-row"),
                (4, "status-bad-inventory-row"),
                (6, "status-bad-inventory-row"),
                (8, "status-bad-inventory-row"),
            ]
        );
        let messages = warnings.messages();
        assert!(messages[0].contains("U+0000"), "{}", messages[0]);
        assert!(messages[1].contains("not closed"), "{}", messages[1]);
    }

    #[test]
    fn plain_csv_without_header() {
        let mut warnings = StatusWarnings::default();
        let rows = parse("X,a;b\n", "d.csv", &["a", "b"], &mut warnings);
        assert_eq!(rows["X"].groups, vec!["a", "b"]);
        assert!(warnings.is_empty());
    }
}

/// Splits one line into its cells with one CSV reader built once: building a reader per line
/// took half of `bsic status`'s time at 100,000 devices. Cells are trimmed.
struct LineSplitter {
    reader: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
}

impl LineSplitter {
    fn new(delimiter: u8) -> Self {
        Self {
            reader: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            out: vec![0; 256],
            ends: vec![0; 16],
        }
    }

    fn split(&mut self, line: &str) -> csv::StringRecord {
        use csv_core::ReadRecordResult;
        self.reader.reset();
        let mut input = line.as_bytes();
        let (mut written, mut fields) = (0, 0);
        loop {
            let (result, read, out, ends) =
                self.reader
                    .read_record(input, &mut self.out[written..], &mut self.ends[fields..]);
            input = &input[read..];
            written += out;
            fields += ends;
            match result {
                // Then called again with no input: the end of the line.
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.out.resize(self.out.len() * 2, 0),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record | ReadRecordResult::End => break,
            }
        }
        let mut record = csv::StringRecord::with_capacity(written, fields);
        let mut start = 0;
        for &end in &self.ends[..fields] {
            let cell = String::from_utf8_lossy(&self.out[start..end]);
            record.push_field(cell.trim());
            start = end;
        }
        record
    }
}

#[cfg(test)]
mod splitter_tests {
    use super::*;

    #[test]
    fn one_reader_splits_every_line() {
        let mut s = LineSplitter::new(b',');
        let r = s.split("C02,\"kiosks;lab\" , macOS");
        assert_eq!(r.iter().collect::<Vec<_>>(), ["C02", "kiosks;lab", "macOS"]);
        let long = "x".repeat(1000);
        let r = s.split(&format!("{long},a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"));
        assert_eq!(r.len(), 18);
        assert_eq!(&r[0], long.as_str());
        assert_eq!(s.split("").len(), 0);
        let mut s = LineSplitter::new(b';');
        assert_eq!(s.split("a;b,c").iter().collect::<Vec<_>>(), ["a", "b,c"]);
    }
}
