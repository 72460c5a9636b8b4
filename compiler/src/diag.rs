//! Located diagnostics shared by every pipeline stage.
//!
//! A stage never prints: it pushes [`Diagnostic`]s into a [`Diagnostics`] sink and keeps going,
//! so one run reports every problem. Where a problem is (a [`Span`]) is kept apart from what it
//! is (a [`Kind`]). Each stage declares its own kinds, with their messages, codes and help, in
//! its `diags.rs` (`source/diags.rs`, `validate/diags.rs`, `raw/diags.rs`, `resolve/diags.rs`,
//! `catalog/diags.rs`, `policytest/diags.rs`, `status/diags.rs`), and the lints theirs in `model/lint.rs`; this
//! module keeps what they share: the located diagnostic, severities and lint levels, the sink
//! and its limits, the escaping of untrusted text, did-you-mean, and [`all_codes`]. Messages
//! use one voice: lower case, names in backticks, no trailing period.

use std::borrow::Cow;
use std::fmt;

use crate::catalog::diags::{CatalogCode, CatalogKind};
use crate::model::{Lint, LintLevel, Lints};
use crate::policytest::diags::{TestCode, TestKind};
use crate::raw::diags::{RawCode, RawKind};
use crate::resolve::diags::{ResolveCode, ResolveKind};
use crate::source::diags::{SourceCode, SourceKind};
use crate::source::{FileId, Span};
use crate::status::diags::{StatusCode, StatusKind};
use crate::validate::diags::{ValidateCode, ValidateKind};

/// How bad a diagnostic is. Only errors fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A secondary location shown beside the primary one, e.g. the other side of a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub at: Span,
    pub label: String,
}

/// One problem found in the sources: what, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: Kind,
    pub severity: Severity,
    pub at: Span,
    pub label: String,
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// An error-level diagnostic at `at`.
    pub fn error(kind: impl Into<Kind>, at: Span, label: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            severity: Severity::Error,
            at,
            label: label.into(),
            related: Vec::new(),
        }
    }

    /// A warning-level diagnostic at `at`.
    pub fn warning(kind: impl Into<Kind>, at: Span, label: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            severity: Severity::Warning,
            at,
            label: label.into(),
            related: Vec::new(),
        }
    }

    /// The diagnostic of `lint`, at the lint's default level; bsic.kdl's `lints` block may
    /// change it later ([`Diagnostics::apply_levels`]).
    pub fn lint(
        lint: Lint,
        message: impl Into<String>,
        at: Span,
        label: impl Into<String>,
    ) -> Self {
        let kind = Kind::Lint {
            lint,
            message: message.into(),
        };
        match lint.default_level() {
            LintLevel::Deny => Self::error(kind, at, label),
            LintLevel::Allow | LintLevel::Warn => Self::warning(kind, at, label),
        }
    }

    /// Adds a secondary location.
    pub fn with_related(mut self, at: Span, label: impl Into<String>) -> Self {
        // Exactly one more: a first push reserves room for four, and 100,000 conflict
        // warnings each with one other side held 14 MB of empty room.
        self.related.reserve_exact(1);
        self.related.push(Related {
            at,
            label: label.into(),
        });
        self
    }

    /// The stable code, e.g. `bsic::unknown-node`.
    pub fn code(&self) -> String {
        format!("bsic::{}", self.kind.code())
    }

    /// The help line: how to fix it, or the Apple fact behind it.
    pub fn help(&self) -> Option<String> {
        self.kind.help()
    }
}

/// The diagnostics sink passed down the pipeline.
///
/// Diagnostics are kept in batches of at most 1,024, and a large batch found by
/// another sink (a worker, a cross-file rule) is moved in whole by [`Diagnostics::append`]:
/// one growing vector copied 100,000 warnings at each doubling and held the rules' findings
/// twice while merging them (a quarter of a 10,000-policy `validate`'s peak).
#[derive(Debug, Default)]
pub struct Diagnostics {
    batches: Vec<Vec<Diagnostic>>,
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<Diagnostic>>>;

    /// The diagnostics in the order they were reported, moved out.
    fn into_iter(self) -> Self::IntoIter {
        self.batches.into_iter().flatten()
    }
}

impl Diagnostics {
    /// The most diagnostics a batch is grown to; a full batch is never grown, so no
    /// diagnostic is copied more than the few times a batch doubles up to this.
    const BATCH: usize = 1024;

    pub fn push(&mut self, diagnostic: Diagnostic) {
        match self.batches.last_mut() {
            Some(last) if last.len() < Self::BATCH => last.push(diagnostic),
            _ => self.batches.push(vec![diagnostic]),
        }
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        for diagnostic in diagnostics {
            self.push(diagnostic);
        }
    }

    /// Moves every diagnostic of `other` into this sink, in order: batches at least half
    /// full are moved as they are, the few diagnostics of a small one (one file's) are
    /// copied into the last batch.
    pub fn append(&mut self, other: Diagnostics) {
        for batch in other.batches {
            if batch.len() >= Self::BATCH / 2 {
                self.batches.push(batch);
            } else {
                self.extend(batch);
            }
        }
    }

    /// Applies the lint levels of bsic.kdl: `allow` drops a lint's diagnostic, `deny` makes it
    /// an error. Diagnostics that are not lints keep their severity.
    pub fn apply_levels(&mut self, levels: &Lints) {
        for batch in &mut self.batches {
            batch.retain_mut(|d| {
                let Kind::Lint { lint, .. } = d.kind else {
                    return true;
                };
                match levels.level(lint) {
                    LintLevel::Allow => false,
                    LintLevel::Warn => {
                        d.severity = Severity::Warning;
                        true
                    }
                    LintLevel::Deny => {
                        d.severity = Severity::Error;
                        true
                    }
                }
            });
        }
        self.batches.retain(|batch| !batch.is_empty());
    }

    /// True when at least one error (not warning) was reported.
    pub fn has_errors(&self) -> bool {
        self.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warning_count(&self) -> usize {
        self.iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.batches.iter().all(Vec::is_empty)
    }

    /// How many diagnostics were reported, of any severity.
    pub fn len(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }

    /// `check(item, sink)` for every item, on every core once there are more than
    /// `min_per_core` of them; the findings are appended in item order, as one core going
    /// through the items would push them.
    pub(crate) fn check_each<T: Sync>(
        &mut self,
        items: &[T],
        min_per_core: usize,
        check: impl Fn(&T, &mut Diagnostics) + Sync + Send,
    ) {
        let items: Vec<&T> = items.iter().collect();
        let found = crate::parallel::map(items, min_per_core, |_, item| {
            let mut found = Diagnostics::default();
            check(item, &mut found);
            found
        });
        for found in found {
            self.append(found);
        }
    }

    /// The diagnostics in the order they were reported.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.batches.iter().flatten()
    }

    /// The diagnostics in source order (file, then offset), stable across runs.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.iter().collect();
        items.sort_by_key(|d| (d.at.file, d.at.offset, d.at.len, d.kind.code()));
        items.dedup_by(|a, b| a.at == b.at && a.kind == b.kind);
        items
    }

    /// The diagnostics to report under `limit`, in source order, with counts of the rest.
    /// Within a file errors are kept before warnings, so a flood of warnings never hides
    /// an error.
    pub fn capped(&self, limit: Limit) -> Capped<'_> {
        let sorted = self.sorted();
        let mut shown = Vec::new();
        let mut omitted = Vec::new();
        let mut rest = sorted.as_slice();
        while let Some(first) = rest.first() {
            let file = first.at.file;
            let end = rest
                .iter()
                .position(|d| d.at.file != file)
                .unwrap_or(rest.len());
            let (in_file, after) = rest.split_at(end);
            rest = after;
            let room = limit
                .per_file
                .min(limit.per_run.saturating_sub(shown.len()));
            let mut keep: Vec<&Diagnostic> = in_file
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .chain(in_file.iter().filter(|d| d.severity != Severity::Error))
                .take(room)
                .copied()
                .collect();
            let errors_kept = keep
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let errors = in_file
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            let cut = Omitted {
                file,
                errors: errors - errors_kept,
                warnings: (in_file.len() - errors) - (keep.len() - errors_kept),
            };
            if cut.errors + cut.warnings > 0 {
                omitted.push(cut);
            }
            keep.sort_by_key(|d| (d.at.offset, d.at.len, d.kind.code()));
            shown.extend(keep);
        }
        Capped { shown, omitted }
    }
}

/// How many diagnostics a run reports: at most `per_file` for each file and `per_run` in
/// all. Every format applies the same limit; the summary line still counts everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub per_file: usize,
    pub per_run: usize,
}

impl Limit {
    /// Diagnostics shown per file unless `--max-diagnostics` says otherwise.
    pub const DEFAULT_PER_FILE: usize = 20;
    /// The run holds ten files' worth.
    const RUN_FILES: usize = 10;

    /// At most `per_file` per file and ten times that per run; 0 means no limit.
    pub fn per_file(per_file: usize) -> Self {
        if per_file == 0 {
            return Self::NONE;
        }
        Self {
            per_file,
            per_run: per_file.saturating_mul(Self::RUN_FILES),
        }
    }

    /// Everything, for callers (the language server, tests) that need every diagnostic.
    pub const NONE: Limit = Limit {
        per_file: usize::MAX,
        per_run: usize::MAX,
    };
}

impl Default for Limit {
    fn default() -> Self {
        Self::per_file(Self::DEFAULT_PER_FILE)
    }
}

/// What [`Diagnostics::capped`] keeps: the diagnostics to report and, per file, how many
/// were left out.
#[derive(Debug)]
pub struct Capped<'a> {
    pub shown: Vec<&'a Diagnostic>,
    pub omitted: Vec<Omitted>,
}

/// Diagnostics of one file left out of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Omitted {
    pub file: FileId,
    pub errors: usize,
    pub warnings: usize,
}

/// `text` with every control character but newline and tab written as a visible escape
/// (`\u{1b}`), and bidirectional overrides too: a policy file or a device must not be able
/// to drive the terminal (colours, titles, hidden text) through bsic's output.
pub fn printable(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| is_unsafe(c) && c != '\n' && c != '\t')
}

/// [`printable`] for text that must stay on one line (a table cell, a device's serial):
/// newlines and tabs are escaped too.
pub fn printable_line(text: &str) -> Cow<'_, str> {
    escape_where(text, is_unsafe)
}

fn escape_where(text: &str, escape: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escape(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Control characters (C0, DEL, C1) and the bidirectional marks and overrides that can
/// reorder what a reader sees.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Every problem bsic knows how to report: each stage's own kinds, declared beside the stage
/// (`source/diags.rs`, `validate/diags.rs`, …), and the lints, declared in `model/lint.rs`.
/// The message is the `Display`; [`Kind::code`] and [`Kind::help`] complete it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Kind {
    #[error(transparent)]
    Source(#[from] SourceKind),
    #[error(transparent)]
    Validate(#[from] ValidateKind),
    #[error(transparent)]
    Raw(#[from] RawKind),
    #[error(transparent)]
    Catalog(#[from] CatalogKind),
    #[error(transparent)]
    Test(#[from] TestKind),
    #[error(transparent)]
    Resolve(#[from] ResolveKind),
    #[error(transparent)]
    Status(#[from] StatusKind),
    #[error("{message}")]
    Lint { lint: Lint, message: String },
}

impl Kind {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn code(&self) -> &'static str {
        match self {
            Kind::Source(kind) => kind.code(),
            Kind::Validate(kind) => kind.code(),
            Kind::Raw(kind) => kind.code(),
            Kind::Catalog(kind) => kind.code(),
            Kind::Test(kind) => kind.code(),
            Kind::Resolve(kind) => kind.code(),
            Kind::Status(kind) => kind.code(),
            Kind::Lint { lint, .. } => lint.name(),
        }
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            Kind::Source(kind) => kind.help(),
            Kind::Validate(kind) => kind.help(),
            Kind::Raw(kind) => kind.help(),
            Kind::Catalog(kind) => kind.help(),
            Kind::Test(kind) => kind.help(),
            Kind::Resolve(kind) => kind.help(),
            Kind::Status(kind) => kind.help(),
            Kind::Lint { lint, .. } => Some(lint.help().into()),
        }
    }
}

/// Every code a [`Diagnostic`] can carry, without `bsic::`: each stage's codes, then the
/// lints'. The uniqueness test, the docs checks and the SARIF rules iterate this list.
pub fn all_codes() -> impl Iterator<Item = &'static str> {
    use strum::IntoEnumIterator;
    SourceCode::iter()
        .map(SourceCode::as_str)
        .chain(ValidateCode::iter().map(ValidateCode::as_str))
        .chain(RawCode::iter().map(RawCode::as_str))
        .chain(CatalogCode::iter().map(CatalogCode::as_str))
        .chain(TestCode::iter().map(TestCode::as_str))
        .chain(ResolveCode::iter().map(ResolveCode::as_str))
        .chain(StatusCode::iter().map(StatusCode::as_str))
        .chain(Lint::ALL.iter().map(|lint| lint.name()))
}

/// A value of every variant of an error that ends a run (or a signing warning): these are
/// miette enums declared beside their stage, whose codes are their `code(…)` attributes. With
/// their examples the codes can be listed (see [`fatal_codes`]) instead of found by reading
/// the source.
#[cfg(test)]
pub(crate) trait Examples: miette::Diagnostic + Sized {
    fn examples() -> Vec<Self>;
}

/// Every code an error that ends a run (or a signing warning) can carry, with `bsic::`.
#[cfg(test)]
pub(crate) fn fatal_codes() -> std::collections::BTreeSet<String> {
    fn codes<E: Examples>() -> Vec<String> {
        E::examples()
            .iter()
            .filter_map(|e| e.code().map(|c| c.to_string()))
            .collect()
    }
    [
        codes::<crate::source::SourceError>(),
        codes::<crate::validate::SchemaBuildError>(),
        codes::<crate::emit::EmitError>(),
        codes::<crate::emit::adapters::TemplateError>(),
        codes::<crate::output::OutputError>(),
        codes::<crate::sign::SignError>(),
        codes::<crate::sign::VerifyError>(),
        codes::<crate::sign::SignWarning>(),
        codes::<crate::clock::ClockError>(),
        codes::<crate::raw::RawError>(),
        codes::<crate::catalog::CatalogError>(),
        codes::<crate::plan::PlanError>(),
        codes::<crate::status::StatusError>(),
        codes::<crate::lsp::LspError>(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub(crate) fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}

pub(crate) fn did_you_mean(suggestion: &Option<String>) -> Option<String> {
    suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.kind.fmt(f)
    }
}

/// The closest candidate to `input`, when it is close enough to be a likely typo.
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lowered = input.to_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let exact_case = c.to_lowercase() == lowered;
            let distance = if exact_case {
                0
            } else {
                strsim::levenshtein(&lowered, &c.to_lowercase())
            };
            (distance, c)
        })
        .filter(|(d, c)| *d < 3 || (*d <= c.len() / 3))
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: u32, offset: usize) -> Span {
        Span {
            file: FileId(file),
            offset,
            len: 1,
        }
    }

    fn node(name: &str) -> ValidateKind {
        ValidateKind::UnknownNode {
            name: name.into(),
            expected: Vec::new(),
            suggestion: None,
        }
    }

    #[test]
    fn appended_sinks_keep_their_order_whether_their_batches_are_moved_or_copied() {
        let warning = |offset| {
            Diagnostic::warning(
                crate::raw::diags::RawKind::ManagedTwice { key: "k".into() },
                Span {
                    file: FileId(0),
                    offset,
                    len: 1,
                },
                "here",
            )
        };
        let mut all = Diagnostics::default();
        let mut next = 0;
        // One file's few, a rule's thousands (moved in whole), then a few again.
        for count in [3, 2_500, 1, 700, 2] {
            let mut found = Diagnostics::default();
            found.extend((next..next + count).map(warning));
            next += count;
            all.append(found);
        }
        all.push(warning(next));
        assert_eq!(all.len(), next + 1);
        let offsets: Vec<usize> = all.iter().map(|d| d.at.offset).collect();
        assert_eq!(offsets, (0..=next).collect::<Vec<_>>());
        assert!(all.batches.iter().all(|b| b.len() <= Diagnostics::BATCH));
        let moved: Vec<usize> = all.into_iter().map(|d| d.at.offset).collect();
        assert_eq!(moved, offsets);
    }

    #[test]
    fn a_related_place_takes_room_for_one() {
        let at = Span::start_of(FileId(0));
        let diagnostic = Diagnostic::warning(
            crate::raw::diags::RawKind::ManagedTwice { key: "k".into() },
            at,
            "here",
        )
        .with_related(at, "there");
        assert_eq!(diagnostic.related.capacity(), 1);
    }

    #[test]
    fn printable_escapes_controls_but_keeps_layout() {
        assert_eq!(printable("plain é\tand\nlines"), "plain é\tand\nlines");
        assert_eq!(printable("\u{1b}[31mred\u{7}"), "\\u{1b}[31mred\\u{7}");
        assert_eq!(
            printable("a\rb\u{9b}c\u{202e}d"),
            "a\\u{d}b\\u{9b}c\\u{202e}d"
        );
    }

    #[test]
    fn capped_keeps_errors_first_and_counts_the_rest() {
        let mut sink = Diagnostics::default();
        for i in 0..30 {
            sink.push(Diagnostic::warning(node("w"), at(0, i), "w"));
        }
        sink.push(Diagnostic::error(node("e"), at(0, 100), "e"));
        for i in 0..5 {
            sink.push(Diagnostic::error(node("e"), at(1, i), "e"));
        }
        let capped = sink.capped(Limit {
            per_file: 4,
            per_run: 6,
        });
        let shown: Vec<(u32, usize)> = capped
            .shown
            .iter()
            .map(|d| (d.at.file.0, d.at.offset))
            .collect();
        assert_eq!(shown, [(0, 0), (0, 1), (0, 2), (0, 100), (1, 0), (1, 1)]);
        assert_eq!(
            capped.omitted,
            [
                Omitted {
                    file: FileId(0),
                    errors: 0,
                    warnings: 27
                },
                Omitted {
                    file: FileId(1),
                    errors: 3,
                    warnings: 0
                },
            ]
        );
        let all = sink.capped(Limit::per_file(0));
        assert_eq!(all.shown.len(), 36);
        assert!(all.omitted.is_empty());
    }

    /// Codes are interface (docs, SARIF rules, users' CI): each names one kind of problem.
    #[test]
    fn codes_are_unique_and_kebab_case() {
        let mut seen = std::collections::BTreeSet::new();
        for code in all_codes() {
            assert!(seen.insert(code), "`bsic::{code}` is declared twice");
            assert!(
                code.split('-').all(|w| !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())),
                "`bsic::{code}` is not kebab-case"
            );
        }
        assert_eq!(node("x").code(), "unknown-node");
        assert!(seen.contains(Kind::from(node("x")).code()));
    }

    /// Every code, of the located diagnostics and of the errors that end a run, is listed once
    /// in docs/diagnostics.md (the crate's copy, kept equal by `cargo xtask sync-crate`), and
    /// the list names no code that does not exist. Both sides are enumerated, not scraped.
    #[test]
    fn every_code_is_documented_once() {
        let docs = include_str!("../data/diagnostics.md");
        let block = docs
            .split("```codes\n")
            .nth(1)
            .and_then(|b| b.split("```").next())
            .unwrap();
        let listed: Vec<&str> = block.lines().filter(|l| !l.is_empty()).collect();
        let unique: std::collections::BTreeSet<String> =
            listed.iter().map(|s| s.to_string()).collect();
        assert_eq!(unique.len(), listed.len(), "a code is listed twice");
        let mut known: std::collections::BTreeSet<String> =
            all_codes().map(|c| format!("bsic::{c}")).collect();
        known.extend(fatal_codes());
        let undocumented: Vec<_> = known.difference(&unique).collect();
        let stale: Vec<_> = unique.difference(&known).collect();
        assert!(
            undocumented.is_empty(),
            "codes missing from docs/diagnostics.md: {undocumented:?}"
        );
        assert!(
            stale.is_empty(),
            "docs/diagnostics.md lists codes that do not exist: {stale:?}"
        );
    }

    #[test]
    fn suggests_close_names_only() {
        let names = ["automatic-install", "offer", "allow-rollback"];
        assert_eq!(
            suggest("automatic-instal", names).as_deref(),
            Some("automatic-install")
        );
        assert_eq!(
            suggest("allow-rolback", names).as_deref(),
            Some("allow-rollback")
        );
        assert_eq!(suggest("Offer", names).as_deref(), Some("offer"));
        assert_eq!(suggest("frobnicate", names), None);
    }
}
