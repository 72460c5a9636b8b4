//! SARIF 2.1.0: one run, one rule per diagnostic code that occurs, one result per diagnostic
//! with its region and the secondary spans as related locations.

use std::collections::BTreeMap;

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

/// The whole SARIF log for one run of bsic over `diagnostics` (already sorted).
pub(crate) fn sarif_log(
    diagnostics: &[&Diagnostic],
    sources: &Sources,
    repo_prefix: &str,
) -> Value {
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
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|diagnostic| {
            let code = diagnostic.code();
            let mut text = format!("{}: {}", diagnostic, diagnostic.label);
            if let Some(help) = diagnostic.help() {
                text.push_str("\nhelp: ");
                text.push_str(&help);
            }
            json!({
                "ruleId": code,
                "ruleIndex": index.get(code.as_str()).copied().unwrap_or(0),
                "level": level(diagnostic.severity),
                "message": { "text": text },
                "locations": [{ "physicalLocation": physical(sources, diagnostic.at, repo_prefix) }],
                "relatedLocations": diagnostic.related.iter().enumerate().map(|(i, r)| json!({
                    "id": i + 1,
                    "physicalLocation": physical(sources, r.at, repo_prefix),
                    "message": { "text": r.label },
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "bsic",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
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
