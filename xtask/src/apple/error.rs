//! Errors of the Apple schema generator; every variant names the file it is about.

use std::path::PathBuf;

/// Something in the inputs (or the file system) the generator cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A YAML file does not parse into the expected shape.
    #[error("{}: {source}", path.display())]
    Yaml {
        /// The YAML file.
        path: PathBuf,
        /// The parser's error, with the key path and line where it knows them.
        source: serde_norway::Error,
    },
    /// A key definition cannot be mapped.
    #[error("{}: key `{key}`: {message}", path.display())]
    Key {
        /// The YAML file defining the key.
        path: PathBuf,
        /// The dotted key path from the payload root.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A file as a whole cannot be used.
    #[error("{}: {message}", path.display())]
    File {
        /// The offending file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An entry of `apple/overlay.yaml` cannot be applied.
    #[error("apple/overlay.yaml: override #{index} ({target}): {message}")]
    Overlay {
        /// 1-based position of the entry in `overrides`.
        index: usize,
        /// The entry's target, as written.
        target: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::File {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn key(
        path: impl Into<PathBuf>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Key {
            path: path.into(),
            key: key.into(),
            message: message.into(),
        }
    }
}
