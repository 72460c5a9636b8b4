//! SARIF 2.1.0: one run, one rule per diagnostic code that occurs, one result per diagnostic
//! with its region and the secondary spans as related locations.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};

use crate::diag::{Diagnostic, Severity};
use crate::source::{Sources, Span};

use super::rules::rule_text;
use super::{Region, repo_path};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// Percent-encodes what a relative URI reference cannot hold, keeping `/`.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn physical(sources: &Sources, span: Span, repo_prefix: &str) -> Value {
    let region = Region::of(sources, span);
    json!({
        "artifactLocation": {
            "uri": uri(&repo_path(sources, span, repo_prefix)),
            "uriBaseId": "%SRCROOT%",
        },
        "region": {
            "startLine": region.start_line,
            "startColumn": region.start_column,
            "endLine": region.end_line,
            "endColumn": region.end_column,
            "snippet": { "text": sources.snippet(span) },
        },
    })
}

/// Writes the whole SARIF log for one run of bsic over `diagnostics` (already sorted) to
/// `out`. Each result is built as it is written: the log of 100,000 warnings as one JSON
/// tree took 2.4 GB.
pub(crate) fn write_sarif(
    out: &mut dyn Write,
    diagnostics: &[&Diagnostic],
    sources: &Sources,
    repo_prefix: &str,
) -> io::Result<()> {
    // One rule per code, in code order; the first occurrence describes it.
    let mut first: BTreeMap<String, &Diagnostic> = BTreeMap::new();
    for diagnostic in diagnostics {
        first.entry(diagnostic.code()).or_insert(diagnostic);
    }
    let index: BTreeMap<&str, usize> = first
        .keys()
        .enumerate()
        .map(|(i, code)| (code.as_str(), i))
        .collect();
    // A rule describes its code in general (from the diagnostics reference), never one
    // result's message or did-you-mean.
    let rules: Vec<Value> = first
        .iter()
        .map(|(code, diagnostic)| {
            let mut rule = json!({
                "id": code,
                "name": diagnostic.kind.code(),
                "defaultConfiguration": { "level": level(diagnostic.severity) },
            });
            match rule_text(code) {
                Some(text) => {
                    rule["shortDescription"] = json!({ "text": text.short() });
                    rule["fullDescription"] = json!({ "text": text.description });
                    let help = text.fix.as_deref().unwrap_or(&text.description);
                    rule["help"] = json!({ "text": help, "markdown": help });
                }
                None => rule["shortDescription"] = json!({ "text": code }),
            }
            rule
        })
        .collect();
    let log = Log {
        driver: json!({
            "name": "bsic",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }),
        results: Results {
            diagnostics,
            sources,
            repo_prefix,
            index: &index,
        },
    };
    let mut out = io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, &log).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()
}

/// The log's frame, with its keys in the order a JSON tree would sort them (`$schema`,
/// `runs`, `version`), around the results written one at a time.
struct Log<'a> {
    driver: Value,
    results: Results<'a>,
}

impl Serialize for Log<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut log = serializer.serialize_map(Some(3))?;
        log.serialize_entry("$schema", SCHEMA)?;
        log.serialize_entry("runs", &[Run(self)])?;
        log.serialize_entry("version", "2.1.0")?;
        log.end()
    }
}

/// The one run: `columnKind`, `results`, `tool`.
struct Run<'a, 'b>(&'b Log<'a>);

impl Serialize for Run<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut run = serializer.serialize_map(Some(3))?;
        run.serialize_entry("columnKind", "unicodeCodePoints")?;
        run.serialize_entry("results", &self.0.results)?;
        run.serialize_entry("tool", &json!({ "driver": &self.0.driver }))?;
        run.end()
    }
}

/// One result per diagnostic, each built when it is written and dropped after.
struct Results<'a> {
    diagnostics: &'a [&'a Diagnostic],
    sources: &'a Sources,
    repo_prefix: &'a str,
    index: &'a BTreeMap<&'a str, usize>,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut results = serializer.serialize_seq(Some(self.diagnostics.len()))?;
        for diagnostic in self.diagnostics {
            results.serialize_element(&self.result(diagnostic))?;
        }
        results.end()
    }
}

impl Results<'_> {
    fn result(&self, diagnostic: &Diagnostic) -> Value {
        let (sources, repo_prefix) = (self.sources, self.repo_prefix);
        let code = diagnostic.code();
        let mut text = format!("{}: {}", diagnostic, diagnostic.label);
        if let Some(help) = diagnostic.help() {
            text.push_str("\nhelp: ");
            text.push_str(&help);
        }
        json!({
            "ruleId": code,
            "ruleIndex": self.index.get(code.as_str()).copied().unwrap_or(0),
            "level": level(diagnostic.severity),
            "message": { "text": text },
            "locations": [{ "physicalLocation": physical(sources, diagnostic.at, repo_prefix) }],
            "relatedLocations": diagnostic.related.iter().enumerate().map(|(i, r)| json!({
                "id": i + 1,
                "physicalLocation": physical(sources, r.at, repo_prefix),
                "message": { "text": r.label },
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_uris() {
        assert_eq!(uri("policies/my rings.kdl"), "policies/my%20rings.kdl");
        assert_eq!(uri("a/b-c_d.kdl"), "a/b-c_d.kdl");
    }
}
