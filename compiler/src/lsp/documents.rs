//! The buffers the editor has open, by URI, and their paths on disk.
//!
//! In: didOpen / didChange / didClose. Out: the overlay the pipeline reads instead of disk.
//! Never touches the filesystem except to canonicalize a document's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use crate::source::Overlay;

use super::position::offset_at;

/// One open buffer.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) uri: Uri,
    pub(crate) path: Option<PathBuf>,
    pub(crate) text: String,
}

/// Every open buffer, keyed by the URI's text.
#[derive(Debug, Default)]
pub(crate) struct Documents {
    open: BTreeMap<String, Document>,
}

impl Documents {
    pub(crate) fn open(&mut self, uri: Uri, text: String) {
        let path = path_of(&uri);
        self.open
            .insert(uri.as_str().to_string(), Document { uri, path, text });
    }

    /// Applies changes in order: a change without a range replaces the whole text.
    pub(crate) fn change(&mut self, uri: &Uri, changes: Vec<TextDocumentContentChangeEvent>) {
        let Some(document) = self.open.get_mut(uri.as_str()) else {
            return;
        };
        for change in changes {
            match change.range {
                None => document.text = change.text,
                Some(range) => {
                    let start = offset_at(&document.text, range.start);
                    let end = offset_at(&document.text, range.end).max(start);
                    document.text.replace_range(start..end, &change.text);
                }
            }
        }
    }

    pub(crate) fn close(&mut self, uri: &Uri) {
        self.open.remove(uri.as_str());
    }

    pub(crate) fn get(&self, uri: &Uri) -> Option<&Document> {
        self.open.get(uri.as_str())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Document> {
        self.open.values()
    }

    /// The open buffers that are files, by absolute path.
    pub(crate) fn overlay(&self) -> Overlay {
        self.open
            .values()
            .filter_map(|d| Some((d.path.clone()?, d.text.clone())))
            .collect()
    }
}

/// The canonical path of a `file:` URI (its directory resolved, so it matches the paths the
/// source stage finds under a canonical project root).
pub(crate) fn path_of(uri: &Uri) -> Option<PathBuf> {
    let path = url::Url::parse(uri.as_str()).ok()?.to_file_path().ok()?;
    let canonical = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|dir| dir.join(name))
            .unwrap_or_else(|_| path.clone()),
        _ => path,
    };
    Some(canonical)
}

/// The `file:` URI of a path.
pub(crate) fn uri_of(path: &Path) -> Option<Uri> {
    let url = url::Url::from_file_path(path).ok()?;
    url.as_str().parse().ok()
}
