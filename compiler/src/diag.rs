//! Located diagnostics shared by every pipeline stage.
//!
//! A stage never prints: it pushes [`Diagnostic`]s into a [`Diagnostics`] sink and keeps going,
//! so one run reports every problem. Where a problem is (a [`Span`]) is kept apart from what it
//! is (a [`Kind`]); all message text lives in [`Kind`], in one voice: lower case, names in
//! backticks, no trailing period.

use std::borrow::Cow;
use std::fmt;

use crate::model::{Lint, LintLevel, Lints};
use crate::source::{FileId, Span};

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
    pub fn error(kind: Kind, at: Span, label: impl Into<String>) -> Self {
        Self {
            kind,
            severity: Severity::Error,
            at,
            label: label.into(),
            related: Vec::new(),
        }
    }

    /// A warning-level diagnostic at `at`.
    pub fn warning(kind: Kind, at: Span, label: impl Into<String>) -> Self {
        Self {
            kind,
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
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(diagnostics);
    }

    /// Applies the lint levels of bsic.kdl: `allow` drops a lint's diagnostic, `deny` makes it
    /// an error. Diagnostics that are not lints keep their severity.
    pub fn apply_levels(&mut self, levels: &Lints) {
        self.items.retain_mut(|d| {
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

    /// True when at least one error (not warning) was reported.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn warning_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The diagnostics in source order (file, then offset), stable across runs.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
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

/// What kind of value a format check expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OsVersion,
    BuildVersion,
    LocalDateTime,
    Url,
    Identifier,
    Name,
    DateTime,
    Uuid,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::OsVersion => "an OS version",
            Format::BuildVersion => "a build version",
            Format::LocalDateTime => "a local date-time",
            Format::Url => "an absolute https URL",
            Format::Identifier => "a reverse-DNS identifier",
            Format::Name => "a name",
            Format::DateTime => "an RFC 3339 date-time",
            Format::Uuid => "a UUID",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Format::OsVersion => {
                "an OS version is MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. \"26.3.1\""
            }
            Format::BuildVersion => {
                "a build is one or two digits, an upper-case letter, digits and an optional lower-case \
                 supplemental letter, e.g. \"25D125\" or the BSI build \"25D771280a\""
            }
            Format::LocalDateTime => {
                "Apple wants local time as yyyy-mm-ddThh:mm:ss without offset, e.g. \
                 \"2026-04-01T09:00:00\"; the device applies its own time zone"
            }
            Format::Url => "give a full https URL, e.g. \"https://it.example.com/updates\"",
            Format::Identifier => {
                "use reverse-DNS labels of letters, digits and hyphens separated by dots, \
                 e.g. \"com.example.it\""
            }
            Format::Name => {
                "names are 1-64 characters of letters, digits, `-`, `_` and `.`, starting with a \
                 letter or digit, so they can name files and identifiers"
            }
            Format::DateTime => "write a UTC date-time, e.g. \"2027-01-01T00:00:00Z\"",
            Format::Uuid => {
                "Apple wants a UUID of 32 hex digits in the 8-4-4-4-12 form, e.g. \
                 \"6F1D2C4A-0B5E-4C1D-9A8B-2E3F4A5B6C7D\""
            }
        }
    }
}

/// Every problem bsic knows how to report. The message is the `Display`; [`Kind::code`] and
/// [`Kind::help`] complete it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Kind {
    // --- source ---
    #[error("file is not valid UTF-8")]
    NotUtf8,
    #[error("file is {size} bytes, larger than the {limit}-byte limit")]
    FileTooLarge { size: u64, limit: u64 },
    #[error("blocks are nested {depth} deep, deeper than the limit of {limit}")]
    TooDeep { depth: usize, limit: usize },
    #[error("the file holds more than {limit} values")]
    TooManyValues { limit: usize },
    #[error("{count} policy files match, more than the limit of {limit}")]
    TooManyFiles { count: usize, limit: usize },
    #[error("{message}")]
    Syntax {
        message: String,
        help: Option<String>,
    },
    #[error("`{path}` is a symlink that points outside the project")]
    SymlinkEscapes { path: String },
    #[error("symlink loop at `{path}`")]
    SymlinkLoop { path: String },
    #[error("invalid glob `{pattern}`: {message}")]
    BadGlob { pattern: String, message: String },
    #[error("`{pattern}` reaches outside the project")]
    GlobEscapes { pattern: String },
    #[error("no policy files match `{pattern}`")]
    NoPolicyFiles { pattern: String },

    // --- validate: shape ---
    #[error("unknown node `{name}`")]
    UnknownNode {
        name: String,
        expected: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("unknown property `{name}`")]
    UnknownProperty {
        name: String,
        expected: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("`{node}` is set more than once")]
    DuplicateNode { node: String },
    #[error("`{node}` takes {expected}")]
    WrongShape { node: String, expected: String },
    #[error("{found}, expected {expected}")]
    WrongType { expected: String, found: String },
    #[error("`{value}` is not one of {}", quote_list(allowed))]
    InvalidEnum {
        value: String,
        allowed: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("{value} is out of range {min}..={max}")]
    OutOfRange {
        value: String,
        min: String,
        max: String,
    },
    #[error("missing {what}")]
    MissingRequired { what: String },
    #[error("`{value}` is not {}", format.describe())]
    InvalidFormat {
        value: String,
        format: Format,
        reason: Option<String>,
    },
    #[error("{message}")]
    Schema { message: String },
    #[error("integer {value} does not fit in 64 bits")]
    IntegerOverflow { value: String },
    #[error("string is {length} bytes long, longer than the limit of {limit}")]
    StringTooLong { length: usize, limit: usize },
    #[error("the text holds U+{:04X}, a character XML cannot carry", u32::from(*character))]
    NonXmlCharacter { character: char },

    // --- validate: semantics ---
    #[error("policy `{name}` is defined more than once")]
    DuplicatePolicy { name: String },
    #[error("group `{name}` is defined more than once")]
    DuplicateGroup { name: String },
    #[error("unknown group `{name}`")]
    UnknownGroup {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{knob}` has no effect on {platform}")]
    UnavailableOnPlatform {
        knob: String,
        platform: String,
        fact: String,
    },
    #[error("{message}")]
    Deprecated { message: String, fact: String },
    #[error("{message}")]
    FleetIgnores { message: String, fact: String },
    #[error("`{build}` looks like a beta build, not a release or BSI build")]
    BetaBuild { build: String },
    #[error("policy `{name}` sets nothing")]
    EmptyPolicy { name: String },
    #[error("platform `{platform}` is listed more than once")]
    DuplicatePlatform { platform: String },
    #[error("{message}")]
    EnforceOverlap { message: String },
    #[error("`os` range {min} to {max} is empty: {min} is above {max}")]
    EmptyOsRange { min: String, max: String },

    // --- validate: raw declarations and profiles ---
    #[error("`{key}` appears more than once in this dictionary")]
    DuplicateKey { key: String },
    #[error("unknown {what} `{name}`")]
    UnknownType {
        what: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{file}` is neither a DDM declaration nor a configuration profile")]
    NotRecognized { file: String },
    #[error("identifier `{identifier}` is used by more than one declaration")]
    DuplicateIdentifier { identifier: String },
    #[error("`{key}` is empty")]
    EmptyIdentifier { key: String },
    #[error("unknown status item `{name}`")]
    UnknownStatusItem {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{key}` `{value}` is used by more than one {what}")]
    DuplicatePayloadId {
        key: String,
        value: String,
        what: &'static str,
    },
    #[error("activation names `{identifier}`, which no validated declaration defines")]
    MissingConfiguration { identifier: String },
    #[error("`{key}` is managed by more than one profile")]
    ManagedTwice { key: String },
    #[error("software-update declarations disagree on `{key}`: {first} here, {second} elsewhere")]
    Contradiction {
        key: String,
        first: String,
        second: String,
    },
    #[error("`{key}` needs a supervised device on {platform}")]
    SupervisedOnly { key: String, platform: String },
    #[error("the profile's signature does not verify: {message}")]
    BadSignature { message: String },
    #[error("`{key}` has no bsic policy syntax and was not imported")]
    NotImported { key: String },

    // --- catalog ---
    #[error("{message}")]
    Catalog { message: String },
    #[error("{message}")]
    FeedEntry { message: String },

    // --- policy tests ---
    #[error("test `{test}`: {what} is {actual}, expected {expected}")]
    TestFailed {
        test: String,
        what: String,
        expected: String,
        actual: String,
    },

    // --- resolve ---
    #[error("groups include each other in a cycle: {cycle}")]
    GroupCycle { cycle: String },
    #[error("{message}")]
    Lint { lint: Lint, message: String },
    #[error("policies `{first}` and `{second}` set `{key}` differently for group `{group}`")]
    Conflict {
        key: String,
        group: String,
        first: String,
        second: String,
        path: String,
    },
}

fn quote_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted.join(", ")
}

fn did_you_mean(suggestion: &Option<String>) -> Option<String> {
    suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))
}

impl Kind {
    /// The stable, kebab-case code; documented in `docs/diagnostics.md`.
    pub fn code(&self) -> &'static str {
        match self {
            Kind::NotUtf8 => "not-utf8",
            Kind::FileTooLarge { .. } => "file-too-large",
            Kind::TooDeep { .. } => "too-deep",
            Kind::TooManyValues { .. } => "too-many-values",
            Kind::TooManyFiles { .. } => "too-many-files",
            Kind::Syntax { .. } => "syntax",
            Kind::SymlinkEscapes { .. } => "symlink-escapes",
            Kind::SymlinkLoop { .. } => "symlink-loop",
            Kind::NoPolicyFiles { .. } => "no-policy-files",
            Kind::GlobEscapes { .. } => "glob-escapes",
            Kind::BadGlob { .. } => "bad-glob",
            Kind::UnknownNode { .. } => "unknown-node",
            Kind::UnknownProperty { .. } => "unknown-property",
            Kind::DuplicateNode { .. } => "duplicate-node",
            Kind::WrongShape { .. } => "wrong-shape",
            Kind::WrongType { .. } => "wrong-type",
            Kind::InvalidEnum { .. } => "invalid-value",
            Kind::OutOfRange { .. } => "out-of-range",
            Kind::MissingRequired { .. } => "missing",
            Kind::InvalidFormat { .. } => "invalid-format",
            Kind::Schema { .. } => "schema",
            Kind::IntegerOverflow { .. } => "integer-overflow",
            Kind::StringTooLong { .. } => "string-too-long",
            Kind::NonXmlCharacter { .. } => "non-xml-character",
            Kind::DuplicatePolicy { .. } => "duplicate-policy",
            Kind::DuplicateGroup { .. } => "duplicate-group",
            Kind::UnknownGroup { .. } => "unknown-group",
            Kind::UnavailableOnPlatform { .. } => "unavailable-on-platform",
            Kind::Deprecated { .. } => "deprecated",
            Kind::BetaBuild { .. } => "beta-build",
            Kind::FleetIgnores { .. } => "fleet-ignores",
            Kind::EmptyPolicy { .. } => "empty-policy",
            Kind::DuplicatePlatform { .. } => "duplicate-platform",
            Kind::EnforceOverlap { .. } => "enforce-overlap",
            Kind::EmptyOsRange { .. } => "empty-os-range",
            Kind::Conflict { .. } => "conflict",
            Kind::GroupCycle { .. } => "group-cycle",
            Kind::TestFailed { .. } => "test-failed",
            Kind::DuplicateKey { .. } => "duplicate-key",
            Kind::UnknownType { .. } => "unknown-type",
            Kind::NotRecognized { .. } => "not-recognized",
            Kind::DuplicateIdentifier { .. } => "duplicate-identifier",
            Kind::EmptyIdentifier { .. } => "empty-identifier",
            Kind::UnknownStatusItem { .. } => "unknown-status-item",
            Kind::DuplicatePayloadId { .. } => "duplicate-payload-id",
            Kind::MissingConfiguration { .. } => "missing-configuration",
            Kind::ManagedTwice { .. } => "managed-twice",
            Kind::Contradiction { .. } => "contradicting-settings",
            Kind::SupervisedOnly { .. } => "supervised-only",
            Kind::NotImported { .. } => "not-imported",
            Kind::BadSignature { .. } => "bad-profile-signature",
            Kind::Catalog { .. } => "catalog",
            Kind::FeedEntry { .. } => "feed-entry",
            Kind::Lint { lint, .. } => lint.name(),
        }
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            Kind::NotUtf8 => Some("save the file as UTF-8".into()),
            Kind::FileTooLarge { .. } => Some("split the policies into several files".into()),
            Kind::TooManyValues { .. } => Some(
                "policies need a few values per line; split the file, or look for generated text"
                    .into(),
            ),
            Kind::TooDeep { .. } => {
                Some("policy files need only a few levels: `policy` → block → node".into())
            }
            Kind::Syntax { help, .. } => help
                .clone()
                .or_else(|| Some("see docs/language.md for the KDL v2 syntax bsic reads".into())),
            Kind::SymlinkEscapes { .. } => {
                Some("keep policy files inside the project, or copy the file in".into())
            }
            Kind::SymlinkLoop { .. } => Some(
                "a symlink there points back at a directory above it; remove the link or \
                 narrow the glob"
                    .into(),
            ),
            Kind::BadGlob { .. } => Some("globs use `*`, `**`, `?`, `[...]` and `{a,b}`".into()),
            Kind::GlobEscapes { .. } => Some(
                "policy globs are relative to bsic.kdl and stay inside its directory; no `..` or \
                 absolute paths"
                    .into(),
            ),
            Kind::NoPolicyFiles { .. } => {
                Some("check the `policies` globs in bsic.kdl, relative to its directory".into())
            }
            Kind::UnknownNode { expected, suggestion, .. }
            | Kind::UnknownProperty { expected, suggestion, .. } => did_you_mean(suggestion)
                .or_else(|| {
                    (!expected.is_empty()).then(|| format!("expected one of {}", quote_list(expected)))
                }),
            Kind::DuplicateNode { .. } => Some("keep one and remove the others".into()),
            Kind::WrongShape { .. } => Some("see docs/language.md for this node's form".into()),
            Kind::WrongType { expected, .. } if expected.contains("`<") => Some(format!(
                "a device reads a plist value by its element, and Apple's type here is {expected}"
            )),
            Kind::WrongType { expected, .. } => Some(if expected.contains("string") {
                "quote the value, e.g. \"26.3.1\"".into()
            } else if expected.contains("#true") {
                "KDL v2 booleans are `#true` and `#false`".into()
            } else {
                format!("write {expected}")
            }),
            Kind::InvalidEnum { suggestion, allowed, .. } => did_you_mean(suggestion)
                .or_else(|| Some(format!("use one of {}", quote_list(allowed)))),
            Kind::OutOfRange { min, max, .. } => {
                Some(format!("the allowed range is {min} to {max}"))
            }
            Kind::MissingRequired { .. } => Some("see docs/language.md for what it needs".into()),
            Kind::InvalidFormat { format, reason, .. } => Some(match reason {
                Some(reason) => format!("{reason}; {}", format.help()),
                None => format.help().to_string(),
            }),
            Kind::Schema { .. } => None,
            Kind::IntegerOverflow { .. } => Some("use a smaller number".into()),
            Kind::StringTooLong { .. } => {
                Some("no policy value needs this much text; shorten it".into())
            }
            Kind::NonXmlCharacter { .. } => Some(
                "profiles are XML 1.0 property lists, which cannot hold control characters other \
                 than tab, line feed and carriage return, nor U+FFFE or U+FFFF, raw or as `&#…;`; \
                 Apple's parser rejects the whole profile, so remove the character"
                    .into(),
            ),
            Kind::TooManyFiles { .. } => Some(
                "narrow the `policies` globs, or merge small policy files into fewer larger ones"
                    .into(),
            ),
            Kind::DuplicatePolicy { .. } => {
                Some("policy names appear in diagnostics, explanations and the manifest, so each must be unique in the project (ignoring case)".into())
            }
            Kind::DuplicateGroup { .. } => {
                Some("define each group once; several policies can apply to it".into())
            }
            Kind::UnknownGroup { suggestion, .. } => did_you_mean(suggestion).or_else(|| {
                Some("define it with `group \"NAME\"` in any policy file, or use `all`".into())
            }),
            Kind::UnavailableOnPlatform { fact, .. } => Some(fact.clone()),
            Kind::Deprecated { fact, .. } => Some(fact.clone()),
            Kind::FleetIgnores { fact, .. } => Some(fact.clone()),
            Kind::BetaBuild { .. } => Some(
                "beta builds end in a letter too (e.g. 25A5316i); BSI builds carry a long build \
                 number before the letter (e.g. 25D771280a)"
                    .into(),
            ),
            Kind::EmptyPolicy { .. } => Some(
                "add `background-security`, `os-updates`, `beta` or `enforce`, or remove the policy"
                    .into(),
            ),
            Kind::DuplicatePlatform { .. } => Some("list each platform once".into()),
            Kind::EnforceOverlap { .. } => Some(
                "give each `enforce` a distinct `platform=`, or keep a single `enforce`".into(),
            ),
            Kind::EmptyOsRange { .. } => Some(
                "versions compare number by number (26.10 is above 26.2), so no device is in \
                 this group; swap `min` and `max`, or fix the one that is wrong"
                    .into(),
            ),
            Kind::DuplicateKey { .. } => Some(
                "devices keep only one of the values, and which one is not defined; keep one".into(),
            ),
            Kind::UnknownType { suggestion, .. } => did_you_mean(suggestion).or_else(|| {
                Some("run `bsic keys` or see Apple's device-management reference for the types".into())
            }),
            Kind::NotRecognized { .. } => Some(
                "a declaration is a JSON object with `Type`, `Identifier`, `ServerToken` and \
                 `Payload`; a profile is a plist dictionary with `PayloadType` \"Configuration\""
                    .into(),
            ),
            Kind::UnknownStatusItem { suggestion, .. } => did_you_mean(suggestion).or_else(|| {
                Some(
                    "a subscription names one of Apple's status items, e.g. \
                     `softwareupdate.install-state`; the device reports an error for any other"
                        .into(),
                )
            }),
            Kind::EmptyIdentifier { key } => Some(format!(
                "devices tell declarations, profiles and payloads apart by `{key}`; give it a \
                 unique value, e.g. \"com.example.it.passcode\" (a UUID for `PayloadUUID`)"
            )),
            Kind::DuplicatePayloadId { key, .. } if key == "PayloadIdentifier" => Some(
                "installing a profile replaces the installed profile with the same \
                 `PayloadIdentifier`, so one of the two is lost; give each profile its own"
                    .into(),
            ),
            Kind::DuplicatePayloadId { key, .. } => Some(format!(
                "devices tell payloads and profiles apart by `{key}`; give each its own \
                 (`uuidgen` makes one)"
            )),
            Kind::DuplicateIdentifier { .. } => Some(
                "a device keeps one declaration per identifier; give each declaration its own".into(),
            ),
            Kind::MissingConfiguration { .. } => Some(
                "the activation stays invalid on the device until every configuration it names \
                 exists; validate the whole repository or fix the identifier"
                    .into(),
            ),
            Kind::ManagedTwice { .. } => Some(
                "Apple: avoid managing one restriction in several profiles; the most restrictive \
                 value wins, which is easy to lose track of"
                    .into(),
            ),
            Kind::Contradiction { .. } => Some(
                "a device that gets both combines them by Apple's rule for the key; make them agree \
                 or make sure no device gets both"
                    .into(),
            ),
            Kind::SupervisedOnly { .. } => {
                Some("unsupervised devices ignore this key".into())
            }
            Kind::BadSignature { .. } => Some(
                "the profile was changed after signing, or the signature is damaged; sign it again \
                 (`bsic verify` shows the details)"
                    .into(),
            ),
            Kind::NotImported { .. } => Some(
                "keep delivering it with the original file, or open an issue for bsic syntax".into(),
            ),
            Kind::Catalog { .. } => Some(
                "the build catalog (`catalog` in bsic.kdl) lists Apple's real releases; refresh it with `bsic catalog import FEED.json`".into(),
            ),
            Kind::FeedEntry { .. } => Some(
                "`bsic catalog import` reads Apple's public versions JSON or a SOFA feed as \
                 downloaded; an entry that is not a release (a known platform, an OS version, a \
                 build) is refused and nothing is written, so download the feed again"
                    .into(),
            ),
            Kind::TestFailed { .. } => Some(
                "run `bsic explain --group …` for the device to see where each value comes from".into(),
            ),
            Kind::GroupCycle { .. } => Some(
                "`includes` says which groups are subsets of another; remove one edge of the cycle".into(),
            ),
            Kind::Lint { lint, .. } => Some(lint.help().into()),
            Kind::Conflict { path, .. } => Some(format!(
                "{path}; give one policy a higher `priority`, or make them agree"
            )),
        }
    }
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

    fn node(name: &str) -> Kind {
        Kind::UnknownNode {
            name: name.into(),
            expected: Vec::new(),
            suggestion: None,
        }
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
