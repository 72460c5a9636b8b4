//! bsic diagnostics → LSP diagnostics, grouped by file.
//!
//! In: a checked project (or the error that stopped the check). Out: for every file read, the
//! LSP diagnostics to publish, with UTF-16 ranges, severity, code, help and related spans.
//! The text is the same `bsic check` prints: message, then help on its own line.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use lsp_types::{
    Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Range, Uri,
};

use crate::diag::{Diagnostic, Limit, Omitted, Severity};
use crate::pipeline::Checked;
use crate::source::{FileId, Sources, Span};

use super::documents::uri_of;
use super::position::range_of;

/// The name editors show as the diagnostics' source.
pub(crate) const SOURCE: &str = "bsic";

/// At most this many diagnostics are published per file (errors first): a file with
/// thousands of errors would otherwise flood the editor with every keystroke.
pub(crate) const MAX_PER_FILE: usize = 200;

/// The diagnostics of one file, converted to the protocol's form only when they are sent:
/// the file being typed in goes first, and converting the rest of the project's before it
/// held up its answer.
pub(crate) enum Batch<'a> {
    /// What a check found in the file, at most [`MAX_PER_FILE`] of it.
    Found {
        shown: Vec<&'a Diagnostic>,
        omitted: Option<Omitted>,
        sources: &'a Sources,
    },
    /// Already in the protocol's form.
    Ready(Vec<LspDiagnostic>),
}

impl Batch<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Batch::Found { shown, omitted, .. } => shown.is_empty() && omitted.is_none(),
            Batch::Ready(list) => list.is_empty(),
        }
    }

    /// The diagnostics to publish; a file with more than [`MAX_PER_FILE`] gets that many
    /// and one more saying how many were left out.
    pub(crate) fn into_lsp(self) -> Vec<LspDiagnostic> {
        let (shown, omitted, sources) = match self {
            Batch::Ready(list) => return list,
            Batch::Found {
                shown,
                omitted,
                sources,
            } => (shown, omitted, sources),
        };
        let mut list: Vec<LspDiagnostic> = shown.iter().map(|d| convert(d, sources)).collect();
        if let Some(omitted) = omitted {
            list.push(LspDiagnostic {
                range: Range::default(),
                severity: Some(DiagnosticSeverity::INFORMATION),
                source: Some(SOURCE.to_string()),
                message: format!(
                    "{} more errors and {} more warnings in this file are not shown; run `bsic check` for all",
                    omitted.errors, omitted.warnings
                ),
                ..LspDiagnostic::default()
            });
        }
        list
    }
}

/// Diagnostics per file URI; every file of the project has an entry, clean ones an empty
/// batch.
pub(crate) fn by_file(checked: &Checked) -> BTreeMap<String, (Uri, Batch<'_>)> {
    let sources = &checked.project.sources;
    let capped = checked.diagnostics.capped(Limit {
        per_file: MAX_PER_FILE,
        per_run: usize::MAX,
    });
    let mut found: BTreeMap<FileId, (Vec<&Diagnostic>, Option<Omitted>)> = BTreeMap::new();
    for diagnostic in capped.shown {
        found
            .entry(diagnostic.at.file)
            .or_default()
            .0
            .push(diagnostic);
    }
    for omitted in capped.omitted {
        found.entry(omitted.file).or_default().1 = Some(omitted);
    }
    let mut files = BTreeMap::new();
    for (id, file) in sources.iter() {
        let Some(uri) = uri_of(&file.path) else {
            continue;
        };
        let (shown, omitted) = found.remove(&id).unwrap_or_default();
        match files.entry(uri.as_str().to_string()) {
            Entry::Vacant(entry) => {
                let batch = Batch::Found {
                    shown,
                    omitted,
                    sources,
                };
                entry.insert((uri, batch));
            }
            // Two sources read from one file: one batch with both's diagnostics.
            Entry::Occupied(mut entry) => {
                if let (
                    _,
                    Batch::Found {
                        shown: first,
                        omitted: left_out,
                        ..
                    },
                ) = entry.get_mut()
                {
                    first.extend(shown);
                    *left_out = left_out.or(omitted);
                }
            }
        }
    }
    files
}

/// The LSP range of a span in its file.
pub(crate) fn span_range(sources: &Sources, span: Span) -> Range {
    let text = sources.get(span.file).map_or("", |f| f.text.as_str());
    range_of(text, span.offset, span.len)
}

/// One diagnostic, with its related locations.
pub(crate) fn convert(diagnostic: &Diagnostic, sources: &Sources) -> LspDiagnostic {
    let mut message = diagnostic.to_string();
    if !diagnostic.label.is_empty() && !message.contains(&diagnostic.label) {
        message = format!("{message}: {}", diagnostic.label);
    }
    if let Some(help) = diagnostic.help() {
        message = format!("{message}\nhelp: {help}");
    }
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .related
        .iter()
        .filter_map(|r| {
            let file = sources.get(r.at.file)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri_of(&file.path)?, span_range(sources, r.at)),
                message: r.label.clone(),
            })
        })
        .collect();
    LspDiagnostic {
        range: span_range(sources, diagnostic.at),
        severity: Some(match diagnostic.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code())),
        source: Some(SOURCE.to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        data: suggestion(diagnostic).map(|s| serde_json::json!({ "replace": s })),
        ..LspDiagnostic::default()
    }
}

/// The did-you-mean replacement of a diagnostic, if its help offers one.
fn suggestion(diagnostic: &Diagnostic) -> Option<String> {
    let help = diagnostic.help()?;
    let rest = help.split("did you mean `").nth(1)?;
    let name = rest.split('`').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
mod cap_tests {
    use super::*;

    /// A file with hundreds of errors publishes the cap and one note counting the rest.
    #[test]
    fn a_flood_of_errors_is_capped_with_a_count() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::write(
            root.join("bsic.kdl"),
            "organization \"T\"\nidentifier-prefix \"com.example.t\"\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("policies")).unwrap();
        let policies: String = (0..300)
            .map(|n| format!("policy \"p{n}\" {{ applies-to \"all\"; nonsense{n} 1 }}\n"))
            .collect();
        std::fs::write(root.join("policies/flood.kdl"), policies).unwrap();
        let checked = crate::pipeline::check(&root).unwrap();
        let files = by_file(&checked);
        let (_, batch) = files
            .into_iter()
            .find(|(uri, _)| uri.ends_with("flood.kdl"))
            .map(|(_, v)| v)
            .unwrap();
        let list = batch.into_lsp();
        assert_eq!(list.len(), MAX_PER_FILE + 1);
        let note = list.last().unwrap();
        assert_eq!(note.severity, Some(DiagnosticSeverity::INFORMATION));
        assert!(note.message.contains("more errors"), "{}", note.message);
    }
}
