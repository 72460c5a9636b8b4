//! Machine formats for diagnostics beyond JSON lines: SARIF 2.1.0 for code-scanning uploads
//! and GitHub workflow commands for pull-request annotations.
//!
//! In: the sorted diagnostics and the source registry. Out: text for stdout. These renderers
//! carry the same content as the human report (message, label, help, every location) and never
//! read the filesystem or the clock, so the same diagnostics always give the same bytes.

mod github;
mod rules;
mod sarif;

pub(super) use github::write_github_commands;
pub(super) use sarif::write_sarif;

use std::path::Path;

use crate::source::{Sources, Span};

/// Where a span starts and ends, 1-based, columns counted in Unicode code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Region {
    pub(super) start_line: usize,
    pub(super) start_column: usize,
    pub(super) end_line: usize,
    pub(super) end_column: usize,
}

impl Region {
    /// The region a span covers; an empty span covers its own position.
    pub(super) fn of(sources: &Sources, span: Span) -> Self {
        let (start_line, start_column) = sources.line_col(span);
        let end = Span {
            offset: span.offset + span.len,
            len: 0,
            ..span
        };
        let (end_line, end_column) = sources.line_col(end);
        Self {
            start_line,
            start_column,
            end_line,
            end_column,
        }
    }
}

/// A file's path as the repository sees it: relative to the enclosing Git work tree when
/// there is one (so code scanning and annotations find it), else to the project root.
/// `repo_prefix` is the project root relative to the work tree, `/`-terminated or empty.
pub(super) fn repo_path(sources: &Sources, span: Span, repo_prefix: &str) -> String {
    format!("{repo_prefix}{}", sources.name(span.file))
}

/// The project root relative to the Git work tree holding it (`sub/dir/`), or empty when the
/// project is the work tree's root or is in none. Looks for `.git`; runs no command.
pub(super) fn repo_prefix(root: &Path) -> String {
    let Some(top) = root.ancestors().find(|dir| dir.join(".git").exists()) else {
        return String::new();
    };
    match root.strip_prefix(top) {
        Ok(relative) if !relative.as_os_str().is_empty() => {
            format!("{}/", relative.to_string_lossy().replace('\\', "/"))
        }
        _ => String::new(),
    }
}
