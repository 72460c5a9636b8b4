//! The diagnostics of `bsic status`: a report, export, inventory row or snapshot that cannot
//! be used as it stands. Each is a warning: the rest of the input is still read and judged.
//!
//! Each kind's message is its `Display`; its code and help are declared here, beside the
//! stage that reports it. `crate::diag` holds what every stage shares and lists every stage's
//! codes in `diag::all_codes`. The files these point into are read as streams and not kept
//! (a fleet's reports can be gigabytes), so each is located by file and line
//! ([`crate::source::Sources::add_streamed`]).

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Sources, Span};

/// What this stage reports. [`StatusKind::code`] and [`StatusKind::help`] complete the
/// message; the derived `StatusCode` lists the codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(StatusCode), derive(strum::EnumIter))]
pub enum StatusKind {
    #[error("malformed status report: {message}")]
    Malformed { message: String },
    #[error("`{item}` is not {expected}; the item is ignored")]
    WrongType { item: String, expected: String },
    #[error("the report names no device")]
    Unidentified,
    #[error("the device reports declaration `{identifier}`, which the manifest does not list")]
    UnknownDeclaration { identifier: String },
    #[error("the device family `{family}` is not a platform bsic manages")]
    UnknownPlatform { family: String },
    #[error("device `{device}` is listed again (first on line {first}); this row is ignored")]
    DuplicateDevice { device: String, first: usize },
    #[error("unknown group `{group}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownGroup {
        group: String,
        suggestion: Option<String>,
    },
    #[error(
        "the device reports OS version `{version}`, which is not a version; it is judged unknown"
    )]
    BadVersion { version: String },
    #[error("not a status snapshot, left out of the history: {message}")]
    BadSnapshot { message: String },
    #[error("{message}")]
    ExportColumn { message: String },
    #[error("{message}")]
    ExportRow { message: String },
    #[error("{message}")]
    BadRow { message: String },
}

impl StatusCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Malformed => "status-malformed-report",
            StatusCode::WrongType => "status-wrong-type",
            StatusCode::Unidentified => "status-unidentified-report",
            StatusCode::UnknownDeclaration => "status-unknown-declaration",
            StatusCode::UnknownPlatform => "status-unknown-platform",
            StatusCode::DuplicateDevice => "status-duplicate-device",
            StatusCode::UnknownGroup => "status-unknown-group",
            StatusCode::BadVersion => "status-bad-version",
            StatusCode::BadSnapshot => "status-bad-snapshot",
            StatusCode::ExportColumn => "status-export-column",
            StatusCode::ExportRow => "status-export-row",
            StatusCode::BadRow => "status-bad-inventory-row",
        }
    }
}

impl StatusKind {
    /// The stable, kebab-case code without `bsic::`.
    pub fn code(&self) -> &'static str {
        StatusCode::from(self).as_str()
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        let help = match self {
            StatusKind::Malformed { .. } => {
                "a status report is Apple's StatusReport JSON object with `StatusItems` and `Errors`; one per .json file or one per line"
            }
            StatusKind::WrongType { .. } => "Apple's status item definitions give each item's type",
            StatusKind::Unidentified => {
                "export reports with `device.identifier.serial-number` or `udid` (most MDMs add them) so they can be matched to a device"
            }
            StatusKind::UnknownDeclaration { .. } => {
                "the device still holds a declaration from another build; pass --dist with the build the devices received"
            }
            StatusKind::UnknownPlatform { .. } => {
                "bsic judges macOS, iOS, iPadOS, tvOS and visionOS devices"
            }
            StatusKind::DuplicateDevice { .. } => {
                "list each device once, with all its groups separated by `;`"
            }
            StatusKind::UnknownGroup { .. } => {
                "inventory groups are the groups the policies define; the device is judged without it"
            }
            StatusKind::BadVersion { .. } => {
                "`device.operating-system.version` is MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. 26.3.1; check the MDM's export of this device"
            }
            StatusKind::BadSnapshot { .. } => {
                "--history DIR holds the snapshots earlier runs wrote (status-<time>.json); remove or restore this file"
            }
            StatusKind::ExportColumn { .. } => {
                "add the column to the MDM's query or export (docs/status.md lists each MDM's field names)"
            }
            StatusKind::ExportRow { .. } => {
                "export the serial number of every device; the other rows are judged"
            }
            StatusKind::BadRow { .. } => {
                "inventory rows are `serial,groups[,platform]` with groups separated by `;`"
            }
        };
        Some(help.into())
    }

    /// The label under the line: what is wrong there, in a word or two.
    fn label(&self) -> &'static str {
        match self {
            StatusKind::Malformed { .. } | StatusKind::BadSnapshot { .. } => "not readable",
            StatusKind::WrongType { .. } => "wrong type",
            StatusKind::Unidentified | StatusKind::ExportRow { .. } => "no device",
            StatusKind::UnknownDeclaration { .. } => "not in the manifest",
            StatusKind::UnknownPlatform { .. } => "not managed",
            StatusKind::DuplicateDevice { .. } => "listed again",
            StatusKind::UnknownGroup { .. } => "unknown group",
            StatusKind::BadVersion { .. } => "not a version",
            StatusKind::ExportColumn { .. } => "missing column",
            StatusKind::BadRow { .. } => "row ignored",
        }
    }
}

/// The warnings of one `bsic status` run, located by file and line in the files they were
/// found in. Each file is registered once, by the name it was given as.
#[derive(Debug, Default)]
pub struct StatusWarnings {
    pub sources: Sources,
    pub diagnostics: Diagnostics,
    files: std::collections::HashMap<String, FileId>,
}

impl StatusWarnings {
    /// A warning about line `line` (1-based) of `file`.
    pub fn warn(&mut self, file: &str, line: usize, kind: StatusKind) {
        let id = match self.files.get(file) {
            Some(id) => *id,
            None => {
                let id = self.sources.add_streamed(file.to_string(), file.into());
                self.files.insert(file.to_string(), id);
                id
            }
        };
        let label = kind.label();
        self.diagnostics.push(Diagnostic::warning(
            kind,
            Span::line(id, line.saturating_sub(1)),
            label,
        ));
    }

    pub fn len(&self) -> usize {
        self.diagnostics.len()
    }

    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// `(line, code)` of each warning, in the order found.
    #[cfg(test)]
    pub fn lines_and_codes(&self) -> Vec<(usize, &'static str)> {
        self.iter()
            .map(|(d, _, line)| (line, d.kind.code()))
            .collect()
    }

    /// The message of each warning, in the order found.
    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.diagnostics.iter().map(ToString::to_string).collect()
    }

    /// The warnings in the order they were found, each with its file and 1-based line.
    pub fn iter(&self) -> impl Iterator<Item = (&Diagnostic, &str, usize)> {
        self.diagnostics.iter().map(|d| {
            let (line, _) = self.sources.line_col(d.at);
            (d, self.sources.name(d.at.file), line)
        })
    }
}
