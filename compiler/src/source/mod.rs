//! Source stage: finds the project, loads every policy file once and parses it as KDL.
//!
//! In: a directory. Out: a [`Project`] holding the [`Sources`] registry (file id → path and
//! text) and the parsed KDL documents, or located diagnostics. Every later stage refers to
//! text through a [`Span`] into this registry; nothing else reads policy files.

pub mod diags;
mod discover;
mod parse;
pub mod read;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use discover::{
    MAX_POLICY_FILES, Overlay, PROJECT_FILE, find_project_root, load_matching, load_project,
    load_project_mapped, load_project_with, project_files,
};
pub use parse::{MAX_DEPTH, MAX_VALUES, parse_kdl};
pub use read::{Input, TooLarge};

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub file: FileId,
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub fn new(file: FileId, range: miette::SourceSpan) -> Self {
        Self {
            file,
            offset: range.offset(),
            len: range.len(),
        }
    }

    /// The whole first line of a file, used when a problem concerns a file as a whole.
    pub fn start_of(file: FileId) -> Self {
        Self {
            file,
            offset: 0,
            len: 0,
        }
    }

    /// Line `index` (0-based) of a file registered with [`Sources::add_streamed`], whose text
    /// was not kept.
    pub fn line(file: FileId, index: usize) -> Self {
        Self {
            file,
            offset: index,
            len: 0,
        }
    }

    pub fn range(&self) -> miette::SourceSpan {
        (self.offset, self.len).into()
    }
}

/// One loaded file. `text` is exactly what was read (lossily decoded if it was not UTF-8).
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as shown to users: relative to the project root when inside it.
    pub display: String,
    /// The path on disk.
    pub path: PathBuf,
    pub text: String,
    /// Read as a stream and not kept (see [`Sources::add_streamed`]): `text` is empty and a
    /// span's offset is a 0-based line index.
    pub streamed: bool,
    /// Byte offset of each line's start, built on first use, so finding a line is a binary
    /// search instead of a scan of the file for every diagnostic.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl SourceFile {
    /// Byte offsets where each line starts; the first is 0.
    pub fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        })
    }

    /// 0-based index of the line holding byte `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.line_starts()
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    /// 1-based line and column of byte `offset`, as [`line_col`] counts them, without
    /// scanning the lines before it.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        if self.streamed {
            return (offset + 1, 1);
        }
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_starts().get(line).copied().unwrap_or(0);
        let before = self.text.get(start..offset).unwrap_or("");
        let column = before.trim_start_matches('\u{feff}').chars().count() + 1;
        (line + 1, column)
    }
}

/// The registry of every file read in a run.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, display: String, path: PathBuf, text: String) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile {
            display,
            path,
            text,
            streamed: false,
            line_starts: std::sync::OnceLock::new(),
        });
        id
    }

    /// Room for `additional` more files without growing.
    pub fn reserve(&mut self, additional: usize) {
        self.files.reserve_exact(additional);
    }

    /// A file read as a stream whose text is not kept (status reports, exports: a fleet's can
    /// be gigabytes). Its spans are whole lines ([`Span::line`]); reports show its name and
    /// line without a snippet.
    pub fn add_streamed(&mut self, display: String, path: PathBuf) -> FileId {
        let id = self.add(display, path, String::new());
        if let Some(file) = self.files.last_mut() {
            file.streamed = true;
        }
        id
    }

    /// How many files are registered; the next [`Sources::add`] gets this index as its id.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The display name of a file, or `?` for an unknown id.
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map_or("?", |f| f.display.as_str())
    }

    /// 1-based line and column of a span's start, in characters.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        match self.get(span.file) {
            Some(file) => file.line_col(span.offset),
            None => (1, 1),
        }
    }

    /// `file:line:col` of a span's start (`file:line` in a streamed file).
    pub fn locate(&self, span: Span) -> String {
        let (line, col) = self.line_col(span);
        if self.get(span.file).is_some_and(|f| f.streamed) {
            return format!("{}:{line}", self.name(span.file));
        }
        format!("{}:{line}:{col}", self.name(span.file))
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.offset..span.offset + span.len))
            .unwrap_or("")
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }
}

/// A parsed KDL file. The document is shared so a [`ParseCache`] can hand it out again.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub file: FileId,
    pub document: Arc<kdl::KdlDocument>,
}

/// A loaded project: the project file, the policy files, and everything read. `F` is what is
/// kept of each policy file that parsed: its document, or what a later stage made of it
/// (see [`load_project_mapped`]).
#[derive(Debug)]
pub struct Project<F = ParsedFile> {
    pub root: PathBuf,
    pub sources: Sources,
    /// The parsed `bsic.kdl`, if it parsed.
    pub project_file: Option<ParsedFile>,
    /// The id of `bsic.kdl` in [`Sources`].
    pub project_file_id: FileId,
    /// Every policy file that parsed, in path order.
    pub policy_files: Vec<F>,
}

impl<F> Project<F> {
    /// The same project keeping `f` of each policy file instead.
    pub fn map_files<G>(self, f: impl FnMut(F) -> G) -> Project<G> {
        Project {
            root: self.root,
            sources: self.sources,
            project_file: self.project_file,
            project_file_id: self.project_file_id,
            policy_files: self.policy_files.into_iter().map(f).collect(),
        }
    }
}

/// What a long-lived process (the language server) keeps of each policy file between runs,
/// by path: what the loader's `map` made of it (for the checker, its validated projection),
/// with the text and file id it came from. A re-check parses and validates only the files
/// whose text (or place in the project) changed. Keeping the parsed KDL documents instead
/// held 640 MB for a 10,000-policy project: the `kdl` crate keeps every node's formatting.
#[derive(Debug)]
pub struct ParseCache<T> {
    entries: Mutex<HashMap<PathBuf, Cached<T>>>,
}

#[derive(Debug)]
struct Cached<T> {
    text: String,
    file: FileId,
    item: T,
}

impl<T> Default for ParseCache<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<T: Clone> ParseCache<T> {
    /// What was made earlier of exactly `text` at `path`, when it had the id `file`.
    fn get(&self, path: &Path, text: &str, file: FileId) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(path)
            .filter(|cached| cached.file == file && cached.text == text)
            .map(|cached| cached.item.clone())
    }

    fn insert(&self, path: &Path, text: &str, file: FileId, item: &T) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let cached = Cached {
            text: text.to_string(),
            file,
            item: item.clone(),
        };
        entries.insert(path.to_path_buf(), cached);
    }

    /// Forgets every file but `paths` (deleted files, files no glob matches any more).
    fn retain(&self, paths: &[PathBuf]) {
        let keep: std::collections::HashSet<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|path, _| keep.contains(path.as_path()));
    }
}

/// Errors that stop a run before any policy can be checked (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SourceError {
    #[error("no `{PROJECT_FILE}` found in {} or any parent directory", dir.display())]
    #[diagnostic(
        code("bsic::no-project"),
        help(
            "create bsic.kdl at the root of your policy repository (see docs/language.md), or pass its directory"
        )
    )]
    NoProject { dir: PathBuf },
    #[error("cannot read `{}`", path.display())]
    #[diagnostic(code("bsic::read-failed"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid glob `{pattern}` in `policies`")]
    #[diagnostic(code("bsic::bad-glob"), help("globs use `*`, `**`, `?` and `[...]`"))]
    Glob {
        pattern: String,
        #[source]
        source: globset::Error,
    },
}

/// 1-based line and column of byte `offset` in `text`, the column in characters as editors
/// count them (a byte-order mark is not a column anyone sees).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_text = before.get(line_start..).unwrap_or("");
    let column = line_text.trim_start_matches('\u{feff}').chars().count() + 1;
    (line, column)
}

/// A path shown relative to `root` when it is inside it, with `/` separators.
pub fn display_path(root: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

#[cfg(test)]
impl crate::diag::Examples for SourceError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::NoProject { dir: "x".into() },
            Self::Read {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Glob {
                pattern: "x".into(),
                source: globset::Glob::new("[").unwrap_err(),
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::NoProject { .. } | Self::Read { .. } | Self::Glob { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_line_col_agrees_with_the_scan() {
        let text = "\u{feff}ab\né\r\n\n  x\nlast";
        let mut sources = Sources::default();
        let id = sources.add("t.kdl".into(), PathBuf::from("t.kdl"), text.into());
        let Some(file) = sources.get(id) else {
            panic!("file was just added")
        };
        for offset in (0..=text.len() + 2).filter(|&o| o > text.len() || text.is_char_boundary(o)) {
            assert_eq!(
                file.line_col(offset),
                line_col(text, offset),
                "offset {offset}"
            );
        }
        assert_eq!(file.line_starts(), &[0, 6, 10, 11, 15]);
    }
}
