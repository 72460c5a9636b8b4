//! Rendering diagnostics for people (miette) and for tools (JSON lines).
//!
//! Every format reports the same diagnostics: at most [`Limit`]'s number per file and per
//! run, then one line per file saying how many were left out. The human form escapes control
//! characters in everything it echoes (messages, labels, snippets, file names) and shows
//! only an [`Excerpt`] of each file, so no input can make it slow, huge or a terminal
//! escape sequence.

use std::io::{self, IsTerminal, Write};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use serde_json::json;

use crate::diag::{Capped, Diagnostic, Diagnostics, Limit, Severity, printable};
use crate::source::{Sources, Span};

use super::args::ColorChoice;
use super::excerpt::Excerpt;

/// Characters of a message, label or help line shown before it is cut: a name copied from
/// the input can be as long as the file.
const MAX_TEXT: usize = 1_000;
/// Labels shown per diagnostic in one file; further related places are left out.
const MAX_LABELS: usize = 16;
/// Reports drawn before they are written: enough to keep every core busy, few enough that
/// their text stays small.
const RENDER_BATCH: usize = 512;

/// One diagnostic with the text it points into, in the form miette renders.
struct Rendered {
    message: String,
    code: String,
    severity: Severity,
    help: Option<String>,
    source: Option<Excerpt>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl Rendered {
    fn new(diagnostic: &Diagnostic, sources: &Sources) -> Self {
        let mut here = vec![(diagnostic.at, diagnostic.label.as_str(), true)];
        let mut related = Vec::new();
        for other in &diagnostic.related {
            if other.at.file == diagnostic.at.file {
                if here.len() < MAX_LABELS {
                    here.push((other.at, other.label.as_str(), false));
                }
            } else if related.len() < MAX_LABELS {
                related.push(Rendered::place(
                    sources,
                    &[(other.at, other.label.as_str(), true)],
                    clean(&other.label),
                    String::new(),
                    Severity::Warning,
                    None,
                ));
            }
        }
        let mut rendered = Rendered::place(
            sources,
            &here,
            clean(&diagnostic.to_string()),
            diagnostic.code(),
            diagnostic.severity,
            diagnostic.help().map(|h| clean(&h)),
        );
        rendered.related = related;
        rendered
    }

    /// A diagnostic whose labels all point into one file.
    fn place(
        sources: &Sources,
        labels: &[(Span, &str, bool)],
        message: String,
        code: String,
        severity: Severity,
        help: Option<String>,
    ) -> Self {
        let file = labels.first().and_then(|(at, _, _)| sources.get(at.file));
        // A streamed file's text was not kept: its place leads the message instead.
        if let (Some(file), Some((at, _, _))) = (file, labels.first())
            && file.streamed
        {
            return Rendered {
                message: format!("{}: {message}", clean(&sources.locate(*at))),
                code,
                severity,
                help,
                source: None,
                labels: Vec::new(),
                related: Vec::new(),
            };
        }
        let (source, labels) = match file {
            Some(file) => {
                let spans: Vec<(usize, usize)> = labels
                    .iter()
                    .map(|(at, _, _)| (at.offset, at.len))
                    .collect();
                let (excerpt, moved) = Excerpt::new(&file.display, file, &spans);
                let labels = labels
                    .iter()
                    .zip(moved)
                    .map(|((_, label, primary), span)| {
                        let label = Some(clean(label));
                        if *primary {
                            LabeledSpan::new_primary_with_span(label, span)
                        } else {
                            LabeledSpan::new_with_span(label, span)
                        }
                    })
                    .collect();
                (Some(excerpt), labels)
            }
            None => (None, Vec::new()),
        };
        Rendered {
            message,
            code,
            severity,
            help,
            source,
            labels,
            related: Vec::new(),
        }
    }
}

/// `text` made printable and cut to [`MAX_TEXT`] characters.
fn clean(text: &str) -> String {
    let text = printable(text);
    match text.char_indices().nth(MAX_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
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
        self.source.as_ref().map(|s| s as &dyn SourceCode)
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

/// A fatal error (no project, an unreadable file, …) as miette draws it, with its message,
/// help and causes made printable: paths in them come from the command line and the disk.
pub(super) fn fatal(error: &dyn miette::Diagnostic, fancy: bool) -> String {
    let plain = Plain::of(error);
    let mut out = String::new();
    if handler(fancy).render_report(&mut out, &plain).is_err() {
        out = plain.message;
    }
    out.trim_end().to_string()
}

/// A diagnostic's texts, printable, and its chain of causes.
#[derive(Debug)]
struct Plain {
    message: String,
    code: Option<String>,
    help: Option<String>,
    severity: Option<miette::Severity>,
    cause: Option<Box<Plain>>,
}

impl Plain {
    fn of(error: &dyn miette::Diagnostic) -> Self {
        let mut causes = Vec::new();
        let mut next = error.source();
        while let Some(cause) = next {
            causes.push(clean(&cause.to_string()));
            next = cause.source();
        }
        let cause = causes.into_iter().rev().fold(None, |inner, message| {
            Some(Box::new(Plain {
                message,
                code: None,
                help: None,
                severity: None,
                cause: inner,
            }))
        });
        Plain {
            message: clean(&error.to_string()),
            code: error.code().map(|c| clean(&c.to_string())),
            help: error.help().map(|h| clean(&h.to_string())),
            severity: error.severity(),
            cause,
        }
    }
}

impl std::fmt::Display for Plain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Plain {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn std::error::Error + 'static))
    }
}

impl miette::Diagnostic for Plain {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn std::fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.severity
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
}

/// Whether to use colour and Unicode on stderr.
pub(super) fn fancy(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal()
                && colour_allowed(
                    std::env::var_os("NO_COLOR").as_deref(),
                    std::env::var_os("TERM").as_deref(),
                )
        }
    }
}

/// Whether the environment lets a terminal have colour: `NO_COLOR` set to anything but the
/// empty string turns it off (no-color.org), and so does `TERM=dumb`.
fn colour_allowed(no_color: Option<&std::ffi::OsStr>, term: Option<&std::ffi::OsStr>) -> bool {
    let no_color = no_color.is_some_and(|value| !value.is_empty());
    let dumb = term.is_some_and(|value| value == "dumb");
    !no_color && !dumb
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

/// Prints the diagnostics for people on stderr, with `file:line:col` on each, at most
/// `limit` of them. A closed stderr ends the report quietly.
pub(super) fn human(diagnostics: &Diagnostics, sources: &Sources, limit: Limit, fancy: bool) {
    let _ = write_human(&mut io::stderr().lock(), diagnostics, sources, limit, fancy);
}

/// The human report of `diagnostics` written to `out`: each one under `limit` as miette draws
/// it, then a line per file whose diagnostics were left out.
pub fn write_human(
    out: &mut dyn Write,
    diagnostics: &Diagnostics,
    sources: &Sources,
    limit: Limit,
    fancy: bool,
) -> io::Result<()> {
    let handler = handler(fancy);
    let capped = diagnostics.capped(limit);
    let mut out = io::BufWriter::new(out);
    // Drawn on every core (a few hundred reports take milliseconds each core can share),
    // written in order, a batch at a time: all 100,000 of a large run drawn at once held
    // 130 MB of text.
    for batch in capped.shown.chunks(RENDER_BATCH) {
        let texts = crate::parallel::map(batch.to_vec(), 16, |_, diagnostic| {
            let rendered = Rendered::new(diagnostic, sources);
            let mut text = String::new();
            if handler.render_report(&mut text, &rendered).is_ok() {
                text
            } else {
                let at = printable(&sources.locate(diagnostic.at)).into_owned();
                format!("{at}: {}", rendered.message)
            }
        });
        for text in texts {
            writeln!(out, "{text}")?;
        }
    }
    write_omitted(&mut out, &capped, sources, limit)?;
    out.flush()
}

/// `… and 4,980 more errors in policies/rep.kdl`, one line per file with diagnostics left
/// out, or one line for all files past the tenth.
pub(super) fn write_omitted(
    out: &mut dyn Write,
    capped: &Capped<'_>,
    sources: &Sources,
    limit: Limit,
) -> io::Result<()> {
    const FILES: usize = 10;
    for omitted in capped.omitted.iter().take(FILES) {
        let name = printable(sources.name(omitted.file)).into_owned();
        writeln!(
            out,
            "… and {} in {name}",
            counts(omitted.errors, omitted.warnings)
        )?;
    }
    if capped.omitted.len() > FILES {
        let rest = &capped.omitted[FILES..];
        let errors = rest.iter().map(|o| o.errors).sum();
        let warnings = rest.iter().map(|o| o.warnings).sum();
        writeln!(
            out,
            "… and {} in {} other files",
            counts(errors, warnings),
            thousands(rest.len())
        )?;
    }
    if !capped.omitted.is_empty() {
        writeln!(
            out,
            "(at most {} diagnostics are shown per file and {} per run; \
             `--max-diagnostics 0` shows all)",
            thousands(limit.per_file),
            thousands(limit.per_run)
        )?;
    }
    Ok(())
}

/// `4,980 more errors and 3 more warnings`, leaving out a zero count.
fn counts(errors: usize, warnings: usize) -> String {
    let part =
        |n: usize, one, many| format!("{} more {}", thousands(n), super::plural(n, one, many));
    match (errors, warnings) {
        (_, 0) => part(errors, "error", "errors"),
        (0, _) => part(warnings, "warning", "warnings"),
        _ => format!(
            "{} and {}",
            part(errors, "error", "errors"),
            part(warnings, "warning", "warnings")
        ),
    }
}

/// `4980` as `4,980`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Prints one JSON object per diagnostic on stdout, at most `limit` of them; how many were
/// left out goes to stderr, so stdout stays one diagnostic per line.
pub(super) fn json_lines(diagnostics: &Diagnostics, sources: &Sources, limit: Limit) {
    let capped = diagnostics.capped(limit);
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    for diagnostic in &capped.shown {
        if writeln!(stdout, "{}", to_json(diagnostic, sources)).is_err() {
            return;
        }
    }
    if stdout.flush().is_err() {
        return;
    }
    let _ = write_omitted(&mut io::stderr().lock(), &capped, sources, limit);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_counts_only_when_not_empty_and_term_dumb_turns_colour_off() {
        use std::ffi::OsStr;
        let os = |s: &'static str| Some(OsStr::new(s));
        assert!(colour_allowed(None, os("xterm-256color")));
        assert!(colour_allowed(os(""), os("xterm")));
        assert!(!colour_allowed(os("1"), os("xterm")));
        assert!(!colour_allowed(None, os("dumb")));
        assert!(colour_allowed(None, None));
    }
}
