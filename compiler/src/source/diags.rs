//! The diagnostics of the source stage: what can be wrong with a file itself (encoding, size,
//! nesting, KDL syntax) and with the globs and links that find the policy files.
//!
//! Each kind's message is its `Display`; its code and help are declared here, beside the
//! stage that reports it. `crate::diag` holds what every stage shares (locations, severity,
//! the sink, rendering limits) and lists every stage's codes in `diag::all_codes`.

/// What this stage reports. [`SourceKind::code`] and [`SourceKind::help`] complete
/// the message; the derived `SourceCode` lists the codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(SourceCode), derive(strum::EnumIter))]
pub enum SourceKind {
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
}

impl SourceCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceCode::NotUtf8 => "not-utf8",
            SourceCode::FileTooLarge => "file-too-large",
            SourceCode::TooDeep => "too-deep",
            SourceCode::TooManyValues => "too-many-values",
            SourceCode::TooManyFiles => "too-many-files",
            SourceCode::Syntax => "syntax",
            SourceCode::SymlinkEscapes => "symlink-escapes",
            SourceCode::SymlinkLoop => "symlink-loop",
            SourceCode::BadGlob => "bad-glob",
            SourceCode::GlobEscapes => "glob-escapes",
            SourceCode::NoPolicyFiles => "no-policy-files",
        }
    }
}

impl SourceKind {
    /// The stable, kebab-case code without `bsic::`.
    pub fn code(&self) -> &'static str {
        SourceCode::from(self).as_str()
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            SourceKind::NotUtf8 => Some("save the file as UTF-8".into()),
            SourceKind::FileTooLarge { .. } => Some("split the policies into several files".into()),
            SourceKind::TooManyValues { .. } => Some(
                "policies need a few values per line; split the file, or look for generated text"
                    .into(),
            ),
            SourceKind::TooDeep { .. } => {
                Some("policy files need only a few levels: `policy` → block → node".into())
            }
            SourceKind::Syntax { help, .. } => help
                .clone()
                .or_else(|| Some("see docs/language.md for the KDL v2 syntax bsic reads".into())),
            SourceKind::SymlinkEscapes { .. } => {
                Some("keep policy files inside the project, or copy the file in".into())
            }
            SourceKind::SymlinkLoop { .. } => Some(
                "a symlink there points back at a directory above it; remove the link or \
                 narrow the glob"
                    .into(),
            ),
            SourceKind::BadGlob { .. } => {
                Some("globs use `*`, `**`, `?`, `[...]` and `{a,b}`".into())
            }
            SourceKind::GlobEscapes { .. } => Some(
                "policy globs are relative to bsic.kdl and stay inside its directory; no `..` or \
                 absolute paths"
                    .into(),
            ),
            SourceKind::NoPolicyFiles { .. } => {
                Some("check the `policies` globs in bsic.kdl, relative to its directory".into())
            }
            SourceKind::TooManyFiles { .. } => Some(
                "narrow the `policies` globs, or merge small policy files into fewer larger ones"
                    .into(),
            ),
        }
    }
}
