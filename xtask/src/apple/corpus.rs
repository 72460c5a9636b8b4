//! Loading the vendored Apple tree: which YAML files the generator reads, and
//! what role each one plays.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::Error;
use super::model::{Document, parse_document};

/// Directory of the vendored Apple tree, relative to the workspace root.
pub const APPLE_DIR: &str = "apple/device-management";
/// Declarations, relative to [`APPLE_DIR`].
const DECLARATIONS_DIR: &str = "declarative/declarations";
/// Status items (what a status subscription may name), relative to [`APPLE_DIR`].
const STATUS_DIR: &str = "declarative/status";
/// Profile payloads, relative to [`APPLE_DIR`].
const PROFILES_DIR: &str = "mdm/profiles";
/// The declaration envelope, relative to [`APPLE_DIR`].
const DECLARATION_BASE: &str = "declarative/declarations/declarationbase.yaml";
/// File stem of the outer profile dictionary's definition in the profiles directory.
pub const TOP_LEVEL_STEM: &str = "TopLevel";
/// Keys common to every profile payload, relative to [`APPLE_DIR`].
const COMMON_PAYLOAD_KEYS: &str = "mdm/profiles/CommonPayloadKeys.yaml";

/// One parsed YAML file.
#[derive(Debug, Clone)]
pub struct Source {
    /// Path relative to [`APPLE_DIR`], with `/` separators.
    pub file: String,
    /// The parsed contents.
    pub doc: Document,
}

impl Source {
    /// The file name without `.yaml`.
    pub fn stem(&self) -> &str {
        let name = self.file.rsplit('/').next().unwrap_or(&self.file);
        name.strip_suffix(".yaml").unwrap_or(name)
    }

    /// Path for error messages, relative to the workspace root.
    pub fn display_path(&self) -> PathBuf {
        Path::new(APPLE_DIR).join(&self.file)
    }
}

/// The parsed Apple tree, by role.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Every declaration type, sorted by file path.
    pub declarations: Vec<Source>,
    /// The declaration envelope (`Type`, `Identifier`, `ServerToken`, `Payload`).
    pub declaration_base: Source,
    /// Credential asset data definitions (`assets/credentials/`); parsed and
    /// addressable by the overlay, but not declarations, so no schema is generated.
    pub credentials: Vec<Source>,
    /// Every profile payload (including `TopLevel`), sorted by file path.
    pub profiles: Vec<Source>,
    /// Keys common to all non-TopLevel profile payloads.
    pub common_payload_keys: Source,
    /// Every status item (`payload.statusitemtype`), sorted by file path. The directory's
    /// other files (the status-reason object) are not status items.
    pub status_items: Vec<Source>,
    /// The Apple release, as derived from the tree's README (e.g. `Release_iOS-18-1_macOS-15-1`).
    pub release: String,
    /// What Apple says to use instead, from the overlay's `replaced-by`: by file, then by
    /// dotted key path (`""` for the payload as a whole).
    pub replacements: BTreeMap<String, BTreeMap<String, String>>,
    /// The Apple release the overlay brings the facts up to (`current` in the overlay).
    pub current: Option<String>,
}

impl Corpus {
    /// Reads and parses everything below `root/apple/device-management`.
    pub fn load(root: &Path) -> Result<Self, Error> {
        let apple = root.join(APPLE_DIR);
        let mut declarations = Vec::new();
        let mut credentials = Vec::new();
        let mut declaration_base = None;
        for file in yaml_files(&apple, DECLARATIONS_DIR, true)? {
            let source = load_source(&apple, file)?;
            if source.file == DECLARATION_BASE {
                declaration_base = Some(source);
            } else if source.doc.payload.declarationtype.is_some() {
                declarations.push(source);
            } else if source.doc.payload.credentialtype.is_some() {
                credentials.push(source);
            } else {
                return Err(Error::file(
                    source.display_path(),
                    "has neither `payload.declarationtype` nor `payload.credentialtype`",
                ));
            }
        }

        let mut profiles = Vec::new();
        let mut common_payload_keys = None;
        for file in yaml_files(&apple, PROFILES_DIR, false)? {
            let source = load_source(&apple, file)?;
            if source.file == COMMON_PAYLOAD_KEYS {
                common_payload_keys = Some(source);
            } else if source.doc.payload.payloadtype.is_some() {
                profiles.push(source);
            } else {
                return Err(Error::file(
                    source.display_path(),
                    "has no `payload.payloadtype`",
                ));
            }
        }

        let mut status_items = Vec::new();
        for file in yaml_files(&apple, STATUS_DIR, false)? {
            let source = load_source(&apple, file)?;
            if source.doc.payload.statusitemtype.is_some() {
                status_items.push(source);
            }
        }

        let declaration_base =
            declaration_base.ok_or_else(|| Error::file(apple.join(DECLARATION_BASE), "missing"))?;
        let common_payload_keys = common_payload_keys
            .ok_or_else(|| Error::file(apple.join(COMMON_PAYLOAD_KEYS), "missing"))?;
        let release = release_from_readme(&apple.join("README.md"))?;
        Ok(Self {
            declarations,
            declaration_base,
            credentials,
            profiles,
            common_payload_keys,
            status_items,
            release,
            replacements: BTreeMap::new(),
            current: None,
        })
    }

    /// Every source the overlay may address.
    pub fn sources_mut(&mut self) -> impl Iterator<Item = &mut Source> {
        self.declarations
            .iter_mut()
            .chain(self.profiles.iter_mut())
            .chain(self.credentials.iter_mut())
            .chain(std::iter::once(&mut self.declaration_base))
            .chain(std::iter::once(&mut self.common_payload_keys))
    }
}

/// The `*.yaml` files below `apple/dir`, as paths relative to `apple`, sorted.
fn yaml_files(apple: &Path, dir: &str, recursive: bool) -> Result<Vec<String>, Error> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(relative) = pending.pop() {
        let absolute = apple.join(&relative);
        let entries = fs::read_dir(&absolute).map_err(|e| Error::io(&absolute, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&absolute, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(Error::file(entry.path(), "file name is not UTF-8"));
            };
            let file_type = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            let child = format!("{relative}/{name}");
            if file_type.is_dir() {
                if recursive {
                    pending.push(child);
                }
            } else if name.ends_with(".yaml") {
                found.push(child);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn load_source(apple: &Path, file: String) -> Result<Source, Error> {
    let path = apple.join(&file);
    let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let doc = parse_document(&text).map_err(|source| Error::Yaml {
        path: Path::new(APPLE_DIR).join(&file),
        source,
    })?;
    Ok(Source { file, doc })
}

/// Derives Apple's release tag from the OS table in the tree's README
/// (`| iOS | 18.1 |` and `| macOS | 15.1 |` give `Release_iOS-18-1_macOS-15-1`).
fn release_from_readme(path: &Path) -> Result<String, Error> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let version_of = |os: &str| {
        text.lines().find_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            match cells.as_slice() {
                ["", name, version, ""] if *name == os => Some(version.replace('.', "-")),
                _ => None,
            }
        })
    };
    match (version_of("iOS"), version_of("macOS")) {
        (Some(ios), Some(macos)) => Ok(format!("Release_iOS-{ios}_macOS-{macos}")),
        _ => Err(Error::file(
            path,
            "no `| iOS | x.y |` and `| macOS | x.y |` rows in the OS versions table",
        )),
    }
}
