//! FileWave's inventory query results, as its Command Line API answers
//! `GET /inv/api/v1/query_result/{id}` (and `POST /inv/api/v1/query_result/` for an ad-hoc
//! query; FileWave Anywhere serves the same under `/api/inv/api/v1/`): a JSON object whose
//! `fields` names each column (`Component_column`, e.g. `Client_serial_number`,
//! `OperatingSystem_version`) and whose `values` holds one array of cells per row, in that
//! order. The console's CSV export of the same query has the fields' display names as its
//! header and is read by the shared CSV reader.
//!
//! The supplemental fields — supplemental version (`(a)`) and supplemental build
//! (`25D771280a`) — are blank on a device that runs no BSI, which is also every device that
//! moved on to a newer base OS: the judgement then rests on the OS version, and a newer base
//! is compliant.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Column, Row, Source, Table, cell_text, line_of};

/// The parts of a query result bsic reads, the rows kept raw so each knows its line.
#[derive(Deserialize)]
struct QueryResult<'a> {
    fields: Vec<String>,
    #[serde(borrow)]
    values: Vec<&'a RawValue>,
}

/// The rows of a query result in `text`.
pub(super) fn query_result(text: &str) -> Result<Table, String> {
    let result: QueryResult<'_> = serde_json::from_str(text).map_err(|e| {
        format!("a FileWave query result whose `fields` or `values` is malformed: {e}")
    })?;
    let by_index: Vec<Option<Column>> = result.fields.iter().map(|f| Column::of(f)).collect();
    let mut columns: Vec<Column> = by_index.iter().flatten().copied().collect();
    columns.sort();
    columns.dedup();
    let rows = result
        .values
        .iter()
        .map(|raw| {
            let mut row = Row {
                line: line_of(text, raw.get()),
                ..Row::default()
            };
            if let Ok(cells) = serde_json::from_str::<Vec<serde_json::Value>>(raw.get()) {
                for (value, column) in cells.iter().zip(&by_index) {
                    if let (Some(column), Some(text)) = (column, cell_text(value)) {
                        row.cells.entry(*column).or_insert(text);
                    }
                }
            }
            row
        })
        .collect();
    Ok(Table {
        source: Source::FileWave,
        header_line: line_of(text, fields_start(text)),
        columns,
        rows,
    })
}

/// The text from the `"fields"` key on, for the line of the header.
fn fields_start(text: &str) -> &str {
    text.find("\"fields\"")
        .and_then(|i| text.get(i..))
        .unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_name_the_columns_and_each_row_has_its_line() {
        let text = r#"{
  "offset": 0,
  "fields": ["Client_device_name", "Client_serial_number", "OperatingSystem_version",
             "OperatingSystem_build", "OperatingSystem_supplemental_version_extra",
             "OperatingSystem_supplemental_build_version"],
  "values": [
    ["mac-1", "C02AAA", "26.3.1", "25D2128", "(a)", "25D771280a"],
    ["mac-2", "C02BBB", "26.4", "25E100", null, ""]
  ],
  "filter_results": 2,
  "total_results": 2
}"#;
        let table = query_result(text).unwrap();
        assert_eq!(table.header_line, 3);
        assert_eq!(
            table.rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [7, 8]
        );
        assert_eq!(
            table.rows[0].cells[&Column::SupplementalBuild],
            "25D771280a"
        );
        assert!(!table.rows[1].cells.contains_key(&Column::SupplementalBuild));
        assert!(table.columns.contains(&Column::SupplementalVersion));
    }
}
