//! Rendering diagnostics for people (miette) and for tools (JSON lines).

use std::io::{IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};
use serde_json::json;

use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::source::{Sources, Span};

use super::args::ColorChoice;

/// One diagnostic with the text it points into, in the form miette renders.
struct Rendered {
    message: String,
    code: String,
    severity: Severity,
    help: Option<String>,
    source: CharColumns,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl Rendered {
    fn new(diagnostic: &Diagnostic, sources: &Sources) -> Self {
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(diagnostic.label.clone()),
            diagnostic.at.range(),
        )];
        let mut related = Vec::new();
        for other in &diagnostic.related {
            if other.at.file == diagnostic.at.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(other.label.clone()),
                    other.at.range(),
                ));
            } else {
                related.push(Rendered {
                    message: other.label.clone(),
                    code: String::new(),
                    severity: Severity::Warning,
                    help: None,
                    source: named(sources, other.at),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        Some(other.label.clone()),
                        other.at.range(),
                    )],
                    related: Vec::new(),
                });
            }
        }
        Rendered {
            message: diagnostic.to_string(),
            code: diagnostic.code(),
            severity: diagnostic.severity,
            help: diagnostic.help(),
            source: named(sources, diagnostic.at),
            labels,
            related,
        }
    }
}

fn named(sources: &Sources, span: Span) -> CharColumns {
    let text = sources
        .get(span.file)
        .map(|f| f.text.clone())
        .unwrap_or_default();
    CharColumns(NamedSource::new(sources.name(span.file), text))
}

/// A source whose `file:line:col` header counts columns in characters, as editors and our
/// JSON do. miette counts bytes, so a line with `é` or a byte-order mark before the error
/// would point past it.
struct CharColumns(NamedSource<String>);

impl SourceCode for CharColumns {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = self
            .0
            .read_span(span, context_lines_before, context_lines_after)?;
        // Only the header asks without context lines; with context, miette's column is 0.
        if context_lines_before != 0 || context_lines_after != 0 {
            return Ok(contents);
        }
        let (_, column) = crate::source::line_col(self.0.inner(), span.offset());
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.0.name().to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            column - 1,
            contents.line_count(),
        )))
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::fmt::Display for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn std::fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning if self.code.is_empty() => miette::Severity::Advice,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}

/// Whether to use colour and Unicode on stderr.
pub(super) fn fancy(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

fn handler(fancy: bool) -> GraphicalReportHandler {
    let theme = if fancy {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
}

/// Prints every diagnostic for people on stderr, with `file:line:col` on each.
pub(super) fn human(diagnostics: &Diagnostics, sources: &Sources, fancy: bool) {
    let handler = handler(fancy);
    let mut stderr = std::io::stderr().lock();
    for diagnostic in diagnostics.sorted() {
        let rendered = Rendered::new(diagnostic, sources);
        let mut out = String::new();
        if handler.render_report(&mut out, &rendered).is_ok() {
            let _ = writeln!(stderr, "{out}");
        } else {
            let _ = writeln!(stderr, "{}: {}", sources.locate(diagnostic.at), diagnostic);
        }
    }
}

/// Prints one JSON object per diagnostic on stdout.
pub(super) fn json_lines(diagnostics: &Diagnostics, sources: &Sources) {
    let mut stdout = std::io::stdout().lock();
    for diagnostic in diagnostics.sorted() {
        let _ = writeln!(stdout, "{}", to_json(diagnostic, sources));
    }
}

fn location(sources: &Sources, span: Span) -> serde_json::Value {
    let (line, column) = sources.line_col(span);
    json!({
        "file": sources.name(span.file),
        "line": line,
        "column": column,
        "offset": span.offset,
        "length": span.len,
        "text": sources.snippet(span),
    })
}

/// The JSON form of one diagnostic. Its shape is an interface for scripts.
pub fn to_json(diagnostic: &Diagnostic, sources: &Sources) -> serde_json::Value {
    json!({
        "severity": diagnostic.severity,
        "code": diagnostic.code(),
        "message": diagnostic.to_string(),
        "label": diagnostic.label,
        "help": diagnostic.help(),
        "location": location(sources, diagnostic.at),
        "related": diagnostic.related.iter().map(|r| json!({
            "label": r.label,
            "location": location(sources, r.at),
        })).collect::<Vec<_>>(),
    })
}
