//! Raw Apple files: hand-written DDM declarations (`*.json`) and configuration profiles
//! (`*.mobileconfig`, `*.plist`), checked strictly against the generated Apple schemas, and
//! imported into bsic policies.
//!
//! In: paths (files, directories, globs) and [`ValidateOptions`]. Out: a [`Report`] holding
//! the [`Sources`] read and every diagnostic, located by a span-preserving parse
//! ([`json`], [`plist`]). Schema errors are mapped by the same code as policy files
//! (`validate::SchemaValidator`). This module never writes files.

mod checks;
pub mod diags;
pub mod import;
pub mod json;
pub mod plist;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::model::{OsVersion, Platform};
use crate::raw::diags::RawKind;
use crate::source::diags::SourceKind;
use crate::source::{self, FileId, Input, Sources, Span, TooLarge};
use crate::validate::diags::{Format, ValidateKind};
use crate::validate::{Dialect, Projection, SchemaDoc, SchemaValidator};

/// Every generated Apple schema: (`declaration.<Type>` or `profile.<PayloadType>`, text).
const SCHEMAS: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/apple_schemas.rs"));

/// What `bsic validate` checks beyond the schema.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Files, directories or globs; `.` when empty.
    pub paths: Vec<PathBuf>,
    /// Report keys this platform ignores, supervised-only keys and deprecations on it.
    pub platform: Option<Platform>,
    /// The oldest OS version of the fleet: keys introduced later are reported.
    pub min_os: Option<OsVersion>,
    /// Used when `platform` is not given: each platform the project's `fleet` names, with
    /// its oldest version, checked as if given with `--platform` and `--min-os`.
    pub fleet: Vec<(Platform, Option<OsVersion>)>,
}

/// The outcome of a run: what was read and what was found.
#[derive(Debug, Default)]
pub struct Report {
    pub sources: Sources,
    pub diagnostics: Diagnostics,
    /// Files checked as declarations or profiles.
    pub checked: usize,
    /// Files found in directories that are neither (e.g. other JSON), left alone.
    pub skipped: usize,
}

/// Failures that stop a run before any file is checked.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RawError {
    #[error("no declarations or profiles match `{pattern}`")]
    #[diagnostic(
        code("bsic::no-raw-files"),
        help("give files, directories or globs holding *.json, *.mobileconfig or *.plist files")
    )]
    NoFiles { pattern: String },
    #[error("cannot read `{path}`")]
    #[diagnostic(code("bsic::read-failed"))]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{pattern}` is not a valid glob: {message}")]
    #[diagnostic(code("bsic::bad-glob"))]
    BadGlob { pattern: String, message: String },
    #[error("`{path}` exists; nothing was written")]
    #[diagnostic(
        code("bsic::import-exists"),
        help("pass --force to overwrite it, or choose another file with --out")
    )]
    Exists { path: String },
    #[error("cannot write `{path}`")]
    #[diagnostic(code("bsic::write-failed"))]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("internal error: Apple schema `{name}` does not compile: {message}")]
    #[diagnostic(
        code("bsic::internal::schema"),
        help("regenerate with `cargo xtask gen-apple`")
    )]
    Schema { name: String, message: String },
}

/// What a checked file turned out to be.
#[derive(Debug, Clone)]
pub(crate) enum DocKind {
    Declaration { declaration_type: String },
    Profile,
}

/// One parsed and checked file, kept for the cross-file checks and for import.
#[derive(Debug)]
pub(crate) struct Doc {
    pub(crate) file: FileId,
    pub(crate) kind: DocKind,
    pub(crate) projection: Projection,
}

/// Apple's schemas as a run needs them, each compiled on first use (a one-file run touches
/// one or two types of hundreds) by whichever worker asks first, then shared by all.
/// Availability facts come from `crate::apple`, which parses each payload type on first use
/// and keeps it for the process.
pub(crate) struct Schemas {
    /// Name → position in `SCHEMAS` (asked for per file, so not a scan of hundreds of names).
    index: HashMap<&'static str, usize>,
    /// One slot per entry of `SCHEMAS`, in its order.
    compiled: Vec<OnceLock<Result<SchemaValidator, String>>>,
}

impl Default for Schemas {
    fn default() -> Self {
        Self {
            index: SCHEMAS
                .iter()
                .enumerate()
                .map(|(i, (name, _))| (*name, i))
                .collect(),
            compiled: SCHEMAS.iter().map(|_| OnceLock::new()).collect(),
        }
    }
}

impl Schemas {
    fn names(prefix: &str) -> impl Iterator<Item = &'static str> + '_ {
        SCHEMAS
            .iter()
            .filter_map(move |(name, _)| name.strip_prefix(prefix))
            .filter(|n| *n != "TopLevel")
    }

    fn get(&self, name: &str, dialect: Dialect) -> Result<Option<&SchemaValidator>, RawError> {
        let Some(&index) = self.index.get(name) else {
            return Ok(None);
        };
        let compiled = self.compiled[index].get_or_init(|| {
            SchemaValidator::apple(SCHEMAS[index].0, SCHEMAS[index].1)
                .map(|validator| validator.with_dialect(dialect))
                .map_err(|e| e.to_string())
        });
        match compiled {
            Ok(validator) => Ok(Some(validator)),
            Err(message) => Err(RawError::Schema {
                name: name.to_string(),
                message: message.clone(),
            }),
        }
    }
}

/// Checks every declaration and profile under `options.paths`.
pub fn validate(options: &ValidateOptions) -> Result<Report, RawError> {
    let mut report = Report::default();
    let facts = load_and_check(options, &mut report, |doc| checks::Facts::of(&doc))?;
    checks::cross_file(&facts, &mut report.diagnostics);
    crate::parallel::drop_later(facts, 16);
    Ok(report)
}

/// Checks files held in memory as `bsic validate` checks files on disk, keeping each Apple
/// schema it compiles for the next file (compiling one costs far more than a check). Lets a
/// fuzzer drive the checks without a filesystem.
#[derive(Default)]
pub struct Checker {
    schemas: Schemas,
}

impl Checker {
    /// Checks `bytes` as the file `path` (its extension tells a declaration from a profile)
    /// named on the command line; nothing is read from disk.
    pub fn check(
        &mut self,
        path: &Path,
        bytes: Vec<u8>,
        options: &ValidateOptions,
    ) -> Result<Report, RawError> {
        let mut report = Report::default();
        let size = bytes.len() as u64;
        let mut check = FileCheck::new(FileId(0), path);
        let doc = check_bytes(path, size, bytes, true, options, &self.schemas, &mut check)?;
        report.absorb(check);
        let facts: Vec<checks::Facts> = doc.iter().map(checks::Facts::of).collect();
        checks::cross_file(&facts, &mut report.diagnostics);
        Ok(report)
    }
}

/// Validates `files` and, when they hold no error, renders them as a policy file for `group`.
/// The result is `None` when validation found errors (they are in the report).
pub fn import(
    files: &[PathBuf],
    group: &str,
    define_group: bool,
) -> Result<(Report, Option<import::ImportResult>), RawError> {
    let mut report = Report::default();
    let options = ValidateOptions {
        paths: files.to_vec(),
        ..ValidateOptions::default()
    };
    let converted = load_and_check(&options, &mut report, |doc| {
        (doc.file, import::convert(&doc))
    })?;
    if report.diagnostics.has_errors() {
        return Ok((report, None));
    }
    let named = converted
        .into_iter()
        .map(|(file, converted)| (converted, report.sources.name(file).to_string()))
        .collect();
    let result = import::import(named, group, define_group);
    Ok((report, Some(result)))
}

/// Loads, parses and schema-checks every file, on every core; returns what `keep` takes of
/// each parsed document, taken on the core that checked it (the document is then freed
/// there). The report comes out as a serial run's would: files are merged in discovery
/// order, and the first file that cannot be read stops the run.
pub(crate) fn load_and_check<T: Send>(
    options: &ValidateOptions,
    report: &mut Report,
    keep: impl Fn(Doc) -> T + Sync,
) -> Result<Vec<T>, RawError> {
    let schemas = Schemas::default();
    let first = report.sources.len();
    let files = discover(&options.paths)?;
    let outcomes = crate::parallel::map(files, 16, |index, (path, explicit)| {
        let id = FileId(u32::try_from(first + index).unwrap_or(u32::MAX));
        let mut check = FileCheck::new(id, &path);
        let doc = check_file(&path, explicit, options, &schemas, &mut check)?;
        Ok((check, doc.map(&keep)))
    });
    // Sized once: grown by doubling, the sources held twice the memory at the end of a
    // large run.
    report.sources.reserve(outcomes.len());
    let found = outcomes.iter().flatten();
    let mut docs = Vec::with_capacity(found.filter(|(_, doc)| doc.is_some()).count());
    for outcome in outcomes {
        let (check, doc) = outcome?;
        report.absorb(check);
        docs.extend(doc);
    }
    Ok(docs)
}

/// One file's share of a run, worked out on any thread: its text and what was found in it.
/// Every file adds exactly one source, so the id it is given up front is the one
/// [`Report::absorb`] registers it under when the run merges files in discovery order.
struct FileCheck {
    file: FileId,
    name: String,
    path: PathBuf,
    text: String,
    diagnostics: Diagnostics,
    checked: usize,
    skipped: usize,
}

impl FileCheck {
    fn new(file: FileId, path: &Path) -> Self {
        Self {
            file,
            name: display(path),
            path: path.to_path_buf(),
            text: String::new(),
            diagnostics: Diagnostics::default(),
            checked: 0,
            skipped: 0,
        }
    }

    /// Records a file that cannot be checked at all: its text (if any) and one error of
    /// `kind` at its start. It still counts as checked.
    fn refuse(&mut self, text: String, kind: impl Into<crate::diag::Kind>) {
        self.text = text;
        self.diagnostics.push(Diagnostic::error(
            kind,
            Span::start_of(self.file),
            "this file",
        ));
        self.checked += 1;
    }
}

impl Report {
    /// Registers one file's text and findings; files must come in the order their ids were
    /// given.
    fn absorb(&mut self, check: FileCheck) {
        let file = self.sources.add(check.name, check.path, check.text);
        debug_assert_eq!(
            file, check.file,
            "files are merged in the order of their ids"
        );
        self.diagnostics.append(check.diagnostics);
        self.checked += check.checked;
        self.skipped += check.skipped;
    }
}

/// Files to check, sorted, each with whether it was named explicitly.
fn discover(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, RawError> {
    let defaults = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut found = Vec::new();
    for path in paths {
        let text = path.to_string_lossy();
        if path.is_file() {
            found.push((path.clone(), true));
        } else if path.is_dir() {
            found.extend(walk(path).into_iter().map(|p| (p, false)));
        } else if text.contains(['*', '?', '[', '{']) {
            let glob = globset::Glob::new(&text)
                .map_err(|e| RawError::BadGlob {
                    pattern: text.to_string(),
                    message: e.to_string(),
                })?
                .compile_matcher();
            let base: PathBuf = path
                .components()
                .take_while(|c| {
                    !c.as_os_str()
                        .to_string_lossy()
                        .contains(['*', '?', '[', '{'])
                })
                .collect();
            let base = if base.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                base
            };
            let matched: Vec<PathBuf> = walk(&base)
                .into_iter()
                .filter(|p| glob.is_match(p) || glob.is_match(p.strip_prefix("./").unwrap_or(p)))
                .collect();
            if matched.is_empty() {
                return Err(RawError::NoFiles {
                    pattern: text.to_string(),
                });
            }
            found.extend(matched.into_iter().map(|p| (p, true)));
        } else {
            return Err(RawError::Read {
                path: text.to_string(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            });
        }
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);
    Ok(found)
}

/// Declaration and profile candidates under `dir`, skipping hidden entries and `target`, in
/// path order: each directory's entries sorted by name as they are read,
/// so the files come out in path order without sorting thousands of paths afterwards.
/// Subdirectories are walked on all cores once there are enough of them: reading 500 group
/// directories one after another (open, stat, two `getdents`, close each) kept one core
/// alone for a fifth of a 1,000-policy `validate`. Unreadable entries are skipped.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut entries: Vec<(std::ffi::OsString, std::fs::FileType)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name(), e.file_type().ok()?)))
        .filter(|(name, _)| {
            let name = name.to_string_lossy();
            !name.starts_with('.') && name != "target"
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let subdirectories = entries.iter().filter(|(_, kind)| kind.is_dir()).count();
    let min_per_core = if subdirectories > crate::parallel::FEW {
        1
    } else {
        usize::MAX
    };
    let found = crate::parallel::map(entries, min_per_core, |_, (name, kind)| {
        let path = dir.join(name);
        if kind.is_dir() {
            walk(&path)
        } else if kind.is_file() && is_candidate(&path) {
            vec![path]
        } else {
            Vec::new()
        }
    });
    found.into_iter().flatten().collect()
}

/// A file `bsic validate` reads when it finds it in a directory.
fn is_candidate(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "mobileconfig" | "plist")
    )
}

fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

fn check_file(
    path: &Path,
    explicit: bool,
    options: &ValidateOptions,
    schemas: &Schemas,
    check: &mut FileCheck,
) -> Result<Option<Doc>, RawError> {
    let (size, bytes) = match source::read::read(path, Input::Apple) {
        Ok(bytes) => (bytes.len() as u64, bytes),
        Err(error) => match TooLarge::of(&error) {
            Some(too_large) => (too_large.size, Vec::new()),
            None => {
                return Err(RawError::Read {
                    path: check.name.clone(),
                    source: error,
                });
            }
        },
    };
    check_bytes(path, size, bytes, explicit, options, schemas, check)
}

/// Checks one file's bytes; `size` is its size on disk (larger than [`Input::Apple`]'s
/// limit: refused when named explicitly, else skipped).
/// The jobs in order: refuse what is too large, open a signed profile, parse (XML or binary
/// plist, or JSON), tell a declaration from a profile, then run every check on it.
fn check_bytes(
    path: &Path,
    size: u64,
    bytes: Vec<u8>,
    explicit: bool,
    options: &ValidateOptions,
    schemas: &Schemas,
    check: &mut FileCheck,
) -> Result<Option<Doc>, RawError> {
    let limit = Input::Apple.limit();
    if size > limit {
        // Found in a directory, a file this large is no declaration or profile (bsic's own
        // `manifest.json` of a 10,000-policy build is 48 MB): skipped like any other file of
        // another kind. Named explicitly, it is refused.
        if !explicit {
            check.skipped += 1;
            return Ok(None);
        }
        let kind = SourceKind::FileTooLarge { size, limit };
        check.refuse(String::new(), kind);
        return Ok(None);
    }
    let is_json = path.extension().is_some_and(|e| e == "json");
    let bytes = if is_json {
        bytes
    } else {
        match signed_content(bytes) {
            Ok(bytes) => bytes,
            Err(message) => {
                check.refuse(String::new(), RawKind::BadSignature { message });
                return Ok(None);
            }
        }
    };
    let Some(projection) = parse(&bytes, is_json, check) else {
        return Ok(None);
    };
    let file = check.file;
    let Some(kind) = doc_kind(path, is_json, &projection.value) else {
        check.skipped += 1;
        // Named explicitly (e.g. by a pre-commit hook that passes every changed *.json): say
        // so, but a valid file of another kind is no error.
        if explicit {
            check.diagnostics.push(Diagnostic::warning(
                RawKind::NotRecognized {
                    file: check.name.clone(),
                },
                Span::start_of(file),
                "this file",
            ));
        }
        return Ok(None);
    };
    check.checked += 1;
    check.diagnostics.extend(projection.diagnostics.clone());
    let doc = Doc {
        file,
        kind,
        projection,
    };
    let dialect = if is_json {
        Dialect::Json
    } else {
        Dialect::Plist
    };
    check_doc(
        &doc,
        &check.text,
        dialect,
        options,
        schemas,
        &mut check.diagnostics,
    )?;
    Ok(Some(doc))
}

/// The content of a signed profile (DER CMS SignedData), its signature checked with the
/// code of `bsic verify`, so spans point into that content; any other file as it is. The
/// error is why the signature does not verify.
fn signed_content(bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if bytes.first() != Some(&0x30) {
        return Ok(bytes);
    }
    let trust = crate::sign::TrustOptions {
        ca: Vec::new(),
        now: crate::clock::system_now(),
    };
    crate::sign::verify(&bytes, &trust)
        .map(|verified| verified.content)
        .map_err(|error| error.to_string())
}

/// Keeps the file's text in `check` and parses it, keeping spans; `None` (with the
/// diagnostic recorded) when it is not UTF-8 text (binary plists aside) or does not parse.
fn parse(bytes: &[u8], is_json: bool, check: &mut FileCheck) -> Option<Projection> {
    let binary = plist::is_binary(bytes);
    let text = match String::from_utf8(bytes.to_vec()) {
        Ok(text) => text,
        Err(_) if binary => String::new(),
        Err(_) => {
            check.refuse(
                String::from_utf8_lossy(bytes).into_owned(),
                SourceKind::NotUtf8,
            );
            return None;
        }
    };
    let file = check.file;
    let parsed = if binary {
        plist::parse_binary(bytes, file)
    } else if is_json {
        json::parse(&text, file)
    } else {
        plist::parse_xml(&text, file)
    };
    check.text = text;
    match parsed {
        Ok(projection) => Some(projection),
        Err(diagnostic) => {
            check.diagnostics.push(*diagnostic);
            check.checked += 1;
            None
        }
    }
}

/// A declaration (JSON with a `Type`, or shaped like one) or a profile (a plist with payload
/// keys, or any `.mobileconfig`); `None` for any other file.
fn doc_kind(path: &Path, is_json: bool, value: &Value) -> Option<DocKind> {
    if is_json {
        match value.get("Type") {
            Some(Value::String(t)) => Some(DocKind::Declaration {
                declaration_type: t.clone(),
            }),
            _ if looks_like_declaration(value) => Some(DocKind::Declaration {
                declaration_type: String::new(),
            }),
            _ => None,
        }
    } else {
        let profile_like = value.get("PayloadContent").is_some()
            || value.get("PayloadType").is_some()
            || path.extension().is_some_and(|e| e == "mobileconfig");
        profile_like.then_some(DocKind::Profile)
    }
}

/// Every check on one document: its schema, its scope, and availability on the platform
/// asked for (or on each platform of the project's fleet).
fn check_doc(
    doc: &Doc,
    text: &str,
    dialect: Dialect,
    options: &ValidateOptions,
    schemas: &Schemas,
    diagnostics: &mut Diagnostics,
) -> Result<(), RawError> {
    match &doc.kind {
        DocKind::Declaration { declaration_type } => {
            check_declaration(doc, declaration_type, dialect, schemas, diagnostics)?;
        }
        DocKind::Profile => check_profile(doc, text, dialect, schemas, diagnostics)?,
    }
    checks::scope(doc, diagnostics);
    if options.platform.is_none() && !options.fleet.is_empty() {
        for (platform, min_os) in &options.fleet {
            let one = ValidateOptions {
                platform: Some(*platform),
                min_os: min_os.clone(),
                ..ValidateOptions::default()
            };
            checks::availability(doc, &one, diagnostics);
        }
    } else {
        checks::availability(doc, options, diagnostics);
    }
    Ok(())
}

fn looks_like_declaration(value: &Value) -> bool {
    ["Type", "Payload", "Identifier", "ServerToken"]
        .iter()
        .any(|k| value.get(k).is_some())
}

fn check_declaration(
    doc: &Doc,
    declaration_type: &str,
    dialect: Dialect,
    schemas: &Schemas,
    diagnostics: &mut Diagnostics,
) -> Result<(), RawError> {
    let projection = &doc.projection;
    if declaration_type.is_empty() {
        let at = match projection.value.get("Type") {
            Some(_) => projection.spans.value("/Type"),
            None => projection.spans.value(""),
        }
        .unwrap_or(Span::start_of(doc.file));
        let kind = match projection.value.get("Type") {
            Some(found) => ValidateKind::WrongType {
                expected: "a string".into(),
                found: crate::validate::describe_value(dialect, found),
                example: None,
            },
            None => ValidateKind::MissingRequired {
                what: "`Type`".into(),
            },
        };
        diagnostics.push(Diagnostic::error(kind, at, "a declaration needs a `Type`"));
        return Ok(());
    }
    let name = format!("declaration.{declaration_type}");
    match schemas.get(&name, dialect)? {
        Some(validator) => {
            let found = validator.check(projection, doc.file);
            diagnostics.extend(found);
            for key in ["Identifier", "ServerToken"] {
                check_not_empty(projection, &format!("/{key}"), doc.file, diagnostics);
            }
            typed_values(doc, declaration_type, diagnostics);
            if declaration_type == STATUS_SUBSCRIPTIONS {
                status_items(doc, diagnostics);
            }
        }
        None => {
            let at = projection
                .spans
                .value("/Type")
                .unwrap_or(Span::start_of(doc.file));
            diagnostics.push(unknown_type(
                "declaration type",
                declaration_type,
                Schemas::names("declaration."),
                at,
            ));
        }
    }
    Ok(())
}

/// Payload strings Apple types only as "string" but whose form bsic knows, checked with the
/// same parsers as policy values: (declaration type, payload key, format).
const TYPED_VALUES: &[(&str, &str, Format)] = &[
    (ENFORCEMENT, "TargetOSVersion", Format::OsVersion),
    (ENFORCEMENT, "TargetBuildVersion", Format::BuildVersion),
    (ENFORCEMENT, "TargetLocalDateTime", Format::LocalDateTime),
    (ENFORCEMENT, "DetailsURL", Format::Url),
];

use crate::apple::types::{ENFORCEMENT, STATUS_SUBSCRIPTIONS};

/// Each `StatusItems[].Name` of a status subscription must be a status item Apple defines
/// (Apple's schema says only "string"; a device answers an unknown name with an error).
fn status_items(doc: &Doc, out: &mut Diagnostics) {
    let Some(Value::Array(items)) = doc.projection.value.pointer("/Payload/StatusItems") else {
        return;
    };
    let known = crate::apple::status_items();
    for (index, item) in items.iter().enumerate() {
        let Some(name) = item.get("Name").and_then(Value::as_str) else {
            continue;
        };
        if known.contains(&name) {
            continue;
        }
        let pointer = format!("/Payload/StatusItems/{index}/Name");
        out.push(Diagnostic::error(
            RawKind::UnknownStatusItem {
                name: name.to_string(),
                suggestion: suggest(name, known.iter().copied()),
            },
            doc.projection
                .spans
                .value(&pointer)
                .unwrap_or(Span::start_of(doc.file)),
            "not a status item Apple defines",
        ));
    }
}

/// Reports payload values of [`TYPED_VALUES`] that do not parse, at the value.
fn typed_values(doc: &Doc, declaration_type: &str, out: &mut Diagnostics) {
    use crate::model::{BuildVersion, DetailsUrl, LocalDateTime};
    for (_, key, format) in TYPED_VALUES.iter().filter(|(t, ..)| *t == declaration_type) {
        let pointer = format!("/Payload/{key}");
        let Some(Value::String(text)) = doc.projection.value.pointer(&pointer) else {
            continue;
        };
        let problem = match format {
            Format::OsVersion => text.parse::<OsVersion>().err(),
            Format::BuildVersion => text.parse::<BuildVersion>().err(),
            Format::LocalDateTime => text.parse::<LocalDateTime>().err(),
            _ => text.parse::<DetailsUrl>().err(),
        };
        if let Some(problem) = problem {
            out.push(Diagnostic::error(
                ValidateKind::InvalidFormat {
                    value: text.clone(),
                    format: *format,
                    reason: Some(problem.0),
                },
                doc.projection
                    .spans
                    .value(&pointer)
                    .unwrap_or(Span::start_of(doc.file)),
                format!("not {}", format.describe()),
            ));
        }
    }
}

fn unknown_type<'a>(
    what: &'static str,
    name: &str,
    known: impl Iterator<Item = &'a str>,
    at: Span,
) -> Diagnostic {
    let suggestion = suggest(name, known);
    Diagnostic::error(
        RawKind::UnknownType {
            what,
            name: name.to_string(),
            suggestion,
        },
        at,
        "not a type Apple defines",
    )
}

/// A profile: its top-level keys, then each payload ([`check_payload`]).
fn check_profile(
    doc: &Doc,
    text: &str,
    dialect: Dialect,
    schemas: &Schemas,
    diagnostics: &mut Diagnostics,
) -> Result<(), RawError> {
    let projection = &doc.projection;
    if let Some(validator) = schemas.get("profile.TopLevel", dialect)? {
        diagnostics.extend(validator.check(projection, doc.file));
        let top = SchemaDoc::new(validator.schema());
        element_types(&top, projection, "", text, diagnostics);
    }
    check_not_empty(projection, "/PayloadIdentifier", doc.file, diagnostics);
    check_uuid(projection, "", doc.file, diagnostics);
    duplicate_uuids(doc, diagnostics);
    let Some(Value::Array(items)) = projection.value.get("PayloadContent") else {
        return Ok(());
    };
    for (index, item) in items.iter().enumerate() {
        check_payload(doc, index, item, text, dialect, schemas, diagnostics)?;
    }
    Ok(())
}

/// One payload of a profile's `PayloadContent`: its type's schema, its plist element types,
/// its identifier and UUID.
fn check_payload(
    doc: &Doc,
    index: usize,
    item: &Value,
    text: &str,
    dialect: Dialect,
    schemas: &Schemas,
    diagnostics: &mut Diagnostics,
) -> Result<(), RawError> {
    let projection = &doc.projection;
    let prefix = format!("/PayloadContent/{index}");
    let Some(payload_type) = item.get("PayloadType").and_then(Value::as_str) else {
        // Without a type no payload schema applies; a non-dictionary item is TopLevel's.
        if item.is_object() && item.get("PayloadType").is_none() {
            diagnostics.push(Diagnostic::error(
                ValidateKind::MissingRequired {
                    what: "`PayloadType`".into(),
                },
                projection
                    .spans
                    .value(&prefix)
                    .unwrap_or(Span::start_of(doc.file)),
                "this payload has no `PayloadType`",
            ));
        } else if let Some(found) = item.get("PayloadType") {
            diagnostics.push(Diagnostic::error(
                ValidateKind::WrongType {
                    expected: "a string".into(),
                    found: crate::validate::describe_value(dialect, found),
                    example: None,
                },
                sub_value(projection, &prefix, doc.file),
                "`PayloadType` wants a string",
            ));
        }
        return Ok(());
    };
    let sub = Projection {
        value: item.clone(),
        spans: projection.spans.subtree(&prefix),
        diagnostics: Vec::new(),
    };
    match schemas.get(&format!("profile.{payload_type}"), dialect)? {
        Some(validator) => {
            diagnostics.extend(validator.check(&sub, doc.file));
            let schema = SchemaDoc::new(validator.schema());
            element_types(&schema, &sub, "", text, diagnostics);
        }
        None => {
            let at = sub_value(&sub, "", doc.file);
            diagnostics.push(unknown_type(
                "payload type",
                payload_type,
                Schemas::names("profile."),
                at,
            ));
        }
    }
    check_not_empty(&sub, "/PayloadIdentifier", doc.file, diagnostics);
    check_uuid(&sub, "", doc.file, diagnostics);
    Ok(())
}

/// The plist element a string value must be written as: `<date>` where Apple's type is
/// `<date>`, `<data>` for `<data>`, `<string>` for `<string>`. The projection makes all three
/// JSON strings, so the schema cannot tell them apart; the element in the text can. Binary
/// plists have no text and are not checked here.
fn element_types(
    schema: &SchemaDoc<'_>,
    projection: &Projection,
    pointer: &str,
    text: &str,
    out: &mut Diagnostics,
) {
    let Some(value) = projection.value.pointer(pointer) else {
        return;
    };
    match value {
        Value::Object(map) => {
            for key in map.keys() {
                let child = crate::validate::push_pointer(pointer, key);
                element_types(schema, projection, &child, text, out);
            }
        }
        Value::Array(items) => {
            for index in 0..items.len() {
                element_types(schema, projection, &format!("{pointer}/{index}"), text, out);
            }
        }
        Value::String(_) => {
            let Some(wanted) = schema.at(pointer) else {
                return;
            };
            let want = if wanted.get("format").and_then(Value::as_str) == Some("date-time") {
                "date"
            } else if wanted.get("contentEncoding").and_then(Value::as_str) == Some("base64") {
                "data"
            } else if wanted.get("type").and_then(Value::as_str) == Some("string") {
                "string"
            } else {
                return;
            };
            let Some(at) = projection.spans.value(pointer) else {
                return;
            };
            let written: String = text
                .get(at.offset..)
                .and_then(|t| t.strip_prefix('<'))
                .map(|t| t.chars().take_while(char::is_ascii_alphabetic).collect())
                .unwrap_or_default();
            if written != want && ["string", "date", "data"].contains(&written.as_str()) {
                let describe = |tag: &str| match tag {
                    "date" => "a date (`<date>`)".to_string(),
                    "data" => "data (`<data>`)".to_string(),
                    other => format!("a {other} (`<{other}>`)"),
                };
                let key = pointer.rsplit('/').next().unwrap_or_default();
                out.push(Diagnostic::error(
                    ValidateKind::WrongType {
                        expected: describe(want),
                        found: describe(&written),
                        example: None,
                    },
                    at,
                    format!("`{key}` wants <{want}>"),
                ));
            }
        }
        _ => {}
    }
}

/// An identifier written as `""` (or only blanks): the schema says "string" and lets it
/// through, but a device cannot tell such a declaration or payload from the next one.
fn check_not_empty(projection: &Projection, pointer: &str, file: FileId, out: &mut Diagnostics) {
    let Some(Value::String(text)) = projection.value.pointer(pointer) else {
        return;
    };
    if text.trim().is_empty() {
        out.push(Diagnostic::error(
            RawKind::EmptyIdentifier {
                key: pointer.rsplit('/').next().unwrap_or_default().to_string(),
            },
            projection
                .spans
                .value(pointer)
                .unwrap_or(Span::start_of(file)),
            "empty",
        ));
    }
}

/// Every `PayloadUUID` of a profile (its own and each payload's) with its pointer.
pub(crate) fn payload_uuids(value: &Value) -> Vec<(String, String)> {
    let own = value
        .get("PayloadUUID")
        .and_then(Value::as_str)
        .map(|u| (u.to_string(), "/PayloadUUID".to_string()));
    let items = value
        .get("PayloadContent")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, item)| {
            let uuid = item.get("PayloadUUID")?.as_str()?;
            Some((
                uuid.to_string(),
                format!("/PayloadContent/{index}/PayloadUUID"),
            ))
        });
    own.into_iter()
        .chain(items)
        .filter(|(uuid, _)| !uuid.trim().is_empty())
        .collect()
}

/// Two payloads of one profile (or a payload and the profile) with one `PayloadUUID`: the
/// device keeps one of them. UUIDs compare without regard to case.
fn duplicate_uuids(doc: &Doc, out: &mut Diagnostics) {
    let spans = &doc.projection.spans;
    let at = |pointer: &str| spans.value(pointer).unwrap_or(Span::start_of(doc.file));
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (uuid, pointer) in payload_uuids(&doc.projection.value) {
        match seen.get(&uuid.to_uppercase()) {
            Some(first) => out.push(
                Diagnostic::error(
                    RawKind::DuplicatePayloadId {
                        key: "PayloadUUID".into(),
                        value: uuid,
                        what: "payload",
                    },
                    at(&pointer),
                    "used again here",
                )
                .with_related(at(first), "first used here"),
            ),
            None => {
                seen.insert(uuid.to_uppercase(), pointer);
            }
        }
    }
}

fn sub_value(projection: &Projection, prefix: &str, file: FileId) -> Span {
    projection
        .spans
        .value(&format!("{prefix}/PayloadType"))
        .unwrap_or(Span::start_of(file))
}

/// `PayloadUUID` must be a UUID (Apple's schema only says "string").
fn check_uuid(projection: &Projection, prefix: &str, file: FileId, out: &mut Diagnostics) {
    let pointer = format!("{prefix}/PayloadUUID");
    let Some(Value::String(text)) = projection.value.pointer(&pointer) else {
        return;
    };
    if text.trim().is_empty() {
        check_not_empty(projection, &pointer, file, out);
    } else if uuid::Uuid::try_parse(text).is_err() || text.len() != 36 {
        out.push(Diagnostic::error(
            ValidateKind::InvalidFormat {
                value: text.clone(),
                format: Format::Uuid,
                reason: None,
            },
            projection
                .spans
                .value(&pointer)
                .unwrap_or(Span::start_of(file)),
            "not a UUID",
        ));
    }
}

#[cfg(test)]
impl crate::diag::Examples for RawError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::NoFiles {
                pattern: "x".into(),
            },
            Self::Read {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::BadGlob {
                pattern: "x".into(),
                message: "x".into(),
            },
            Self::Exists { path: "x".into() },
            Self::Write {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Schema {
                name: "x".into(),
                message: "x".into(),
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::NoFiles { .. }
                | Self::Read { .. }
                | Self::BadGlob { .. }
                | Self::Exists { .. }
                | Self::Write { .. }
                | Self::Schema { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests;
