//! The device inventory: a CSV of `serial,groups[,platform]` mapping each device (serial number
//! or UDID) to its groups, `;`-separated.
//!
//! In: the file's bytes and the project's group names. Out: rows by device, plus located
//! warnings. Tolerates a UTF-8 BOM, `;`-delimited files (spreadsheets in many locales write
//! them), a header row or none, and rows of any width; a bad row is a warning, never the end.

use std::collections::BTreeMap;

use crate::model::Platform;

use super::StatusWarning;

/// One device's inventory row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub groups: Vec<String>,
    pub platform: Option<Platform>,
    pub line: usize,
}

/// Parses the inventory `text` read from `file`; `known` are the project's groups.
pub fn parse(
    text: &str,
    file: &str,
    known: &[&str],
    warnings: &mut Vec<StatusWarning>,
) -> BTreeMap<String, Row> {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.contains(';') && !first.contains(',') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut columns = (0usize, 1usize, Some(2usize));
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(index + 1, |p| p.line() as usize);
                warnings.push(StatusWarning::BadRow {
                    file: file.to_string(),
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(index + 1, |p| p.line() as usize);
        if index == 0 {
            let names: Vec<String> = record.iter().map(str::to_ascii_lowercase).collect();
            let find = |options: &[&str]| names.iter().position(|n| options.contains(&n.as_str()));
            if let Some(serial) =
                find(&["serial", "serial-number", "serial number", "udid", "device"])
            {
                columns = (
                    serial,
                    find(&["groups", "group"]).unwrap_or(1),
                    find(&["platform", "family"]),
                );
                continue;
            }
        }
        let field = |i: usize| record.get(i).map(str::trim).unwrap_or_default();
        let serial = field(columns.0);
        if serial.is_empty() {
            if record.iter().any(|f| !f.trim().is_empty()) {
                warnings.push(StatusWarning::BadRow {
                    file: file.to_string(),
                    line,
                    message: "the row names no device".into(),
                });
            }
            continue;
        }
        let separators: &[char] = if delimiter == b';' {
            &[',', '|']
        } else {
            &[';', '|']
        };
        let mut groups = Vec::new();
        for group in field(columns.1)
            .split(separators)
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            if known.contains(&group) {
                if !groups.iter().any(|g| g == group) {
                    groups.push(group.to_string());
                }
            } else {
                warnings.push(StatusWarning::UnknownGroup {
                    file: file.to_string(),
                    line,
                    group: group.to_string(),
                    suggestion: crate::diag::suggest(group, known.iter().copied()),
                });
            }
        }
        let platform = match columns.2.map(field).filter(|p| !p.is_empty()) {
            None => None,
            Some(name) => {
                let found = super::platform(name);
                if found.is_none() {
                    warnings.push(StatusWarning::BadRow {
                        file: file.to_string(),
                        line,
                        message: format!(
                            "`{name}` is not one of macOS, iOS, iPadOS, tvOS, visionOS"
                        ),
                    });
                }
                found
            }
        };
        if let Some(first) = rows.get(serial) {
            warnings.push(StatusWarning::DuplicateDevice {
                file: file.to_string(),
                line,
                device: serial.to_string(),
                first: first.line,
            });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_semicolons_unknown_groups_and_duplicates() {
        let text = "\u{feff}serial;groups;platform\nA;kiosks,lab;macOS\nB;kiosk\nA;lab\n;\nC;lab;Windows\n";
        let mut warnings = Vec::new();
        let rows = parse(text, "d.csv", &["kiosks", "lab"], &mut warnings);
        assert_eq!(rows["A"].groups, vec!["kiosks", "lab"]);
        assert_eq!(rows["A"].platform, Some(Platform::MacOs));
        assert!(rows["B"].groups.is_empty());
        let got: Vec<(usize, &str)> = warnings.iter().map(|w| (w.line(), w.code())).collect();
        assert_eq!(
            got,
            vec![
                (3, "bsic::status-unknown-group"),
                (4, "bsic::status-duplicate-device"),
                (6, "bsic::status-bad-inventory-row"),
            ]
        );
    }

    #[test]
    fn plain_csv_without_header() {
        let mut warnings = Vec::new();
        let rows = parse("X,a;b\n", "d.csv", &["a", "b"], &mut warnings);
        assert_eq!(rows["X"].groups, vec!["a", "b"]);
        assert!(warnings.is_empty());
    }
}
