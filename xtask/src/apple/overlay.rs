//! bsic's overlay on Apple's YAML (`apple/overlay.yaml`): facts Apple has
//! published since the vendored release, applied to the parsed tree before
//! anything is generated. The file's header comment documents the format.

use std::fs;
use std::path::Path;

use serde::Deserialize;

use super::Error;
use super::corpus::{APPLE_DIR, Corpus, Source};
use super::model::{Key, Subkeys, SupportedOs, merge_supported_os};

/// Location of the overlay, relative to the workspace root.
pub const OVERLAY_FILE: &str = "apple/overlay.yaml";

/// The whole overlay file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// The Apple release the overrides were reviewed against.
    pub base: String,
    /// The overrides, applied in order.
    #[serde(default)]
    pub overrides: Vec<Override>,
}

/// One override entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Selects the YAML by `payload.declarationtype`.
    pub declaration: Option<String>,
    /// Selects the YAML by `payload.payloadtype`.
    pub profile: Option<String>,
    /// Selects the YAML by its path relative to `apple/device-management/`.
    pub file: Option<String>,
    /// Dotted key path; `None` addresses the payload as a whole.
    pub key: Option<String>,
    /// What to change.
    pub set: Changes,
    /// Where the fact comes from.
    pub why: String,
}

/// The fields an override may change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// New title.
    pub title: Option<String>,
    /// Availability, merged field by field into the YAML's.
    #[serde(default, rename = "supportedOS")]
    pub supported_os: SupportedOs,
}

impl Override {
    fn target(&self) -> String {
        let mut target = match (&self.declaration, &self.profile, &self.file) {
            (Some(t), _, _) => format!("declaration {t}"),
            (_, Some(t), _) => format!("profile {t}"),
            (_, _, Some(f)) => format!("file {f}"),
            _ => "no target".to_owned(),
        };
        if let Some(key) = &self.key {
            target.push_str(&format!(", key {key}"));
        }
        target
    }
}

impl Overlay {
    /// Reads `apple/overlay.yaml` below `root`.
    pub fn load(root: &Path) -> Result<Self, Error> {
        let path = root.join(OVERLAY_FILE);
        let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_norway::from_str(&text).map_err(|source| Error::Yaml {
            path: OVERLAY_FILE.into(),
            source,
        })
    }

    /// Applies every override to `corpus`. Returns a note for each override
    /// that changed nothing (Apple's YAML already says it).
    pub fn apply(&self, corpus: &mut Corpus) -> Result<Vec<String>, Error> {
        if self.base != corpus.release {
            return Err(Error::file(
                OVERLAY_FILE,
                format!(
                    "`base` is {} but {APPLE_DIR}/README.md describes {}: review every override \
                     against the new Apple release, drop what Apple's YAML now says, then update `base`",
                    self.base, corpus.release
                ),
            ));
        }
        let mut notes = Vec::new();
        for (position, entry) in self.overrides.iter().enumerate() {
            let index = position + 1;
            let fail = |message: String| Error::Overlay {
                index,
                target: entry.target(),
                message,
            };
            if entry.why.trim().is_empty() {
                return Err(fail("`why` is empty".to_owned()));
            }
            if entry.set.title.is_none() && entry.set.supported_os.is_empty() {
                return Err(fail("`set` changes nothing".to_owned()));
            }
            let source = select(corpus, entry).map_err(fail)?;
            let changed = match &entry.key {
                None => {
                    let doc = &mut source.doc;
                    apply_changes(&entry.set, &mut doc.title, &mut doc.payload.supported_os)
                }
                Some(path) => {
                    let key = find_key(&mut source.doc.payloadkeys, path).map_err(fail)?;
                    apply_changes(&entry.set, &mut key.title, &mut key.supported_os)
                }
            };
            if !changed {
                notes.push(format!(
                    "{OVERLAY_FILE}: override #{index} ({}) changes nothing; Apple's YAML already \
                     says it, so it can be removed",
                    entry.target()
                ));
            }
        }
        Ok(notes)
    }
}

/// The one source `entry` addresses.
fn select<'c>(corpus: &'c mut Corpus, entry: &Override) -> Result<&'c mut Source, String> {
    let mut matches: Vec<&mut Source> = match (&entry.declaration, &entry.profile, &entry.file) {
        (Some(ty), None, None) => corpus
            .declarations
            .iter_mut()
            .filter(|s| s.doc.payload.declarationtype.as_ref() == Some(ty))
            .collect(),
        (None, Some(ty), None) => corpus
            .profiles
            .iter_mut()
            .filter(|s| s.doc.payload.payloadtype.as_ref() == Some(ty))
            .collect(),
        (None, None, Some(file)) => corpus.sources_mut().filter(|s| &s.file == file).collect(),
        _ => {
            return Err("give exactly one of `declaration`, `profile` or `file`".to_owned());
        }
    };
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(format!("no such YAML in {APPLE_DIR}")),
        n => Err(format!("matches {n} files; select one with `file`")),
    }
}

/// The key at dotted `path`. Key names may contain dots themselves, so every
/// split is tried; the path must match exactly one key.
fn find_key<'k>(keys: &'k mut [Key], path: &str) -> Result<&'k mut Key, String> {
    let mut found = Vec::new();
    find_key_indices(keys, path, &mut Vec::new(), &mut found);
    match found.as_slice() {
        [indices] => key_at(keys, indices).ok_or_else(|| format!("no key {path}")),
        [] => Err(format!("no key {path}")),
        _ => Err(format!("key path {path} is ambiguous")),
    }
}

fn find_key_indices(
    keys: &[Key],
    path: &str,
    prefix: &mut Vec<usize>,
    found: &mut Vec<Vec<usize>>,
) {
    for (index, key) in keys.iter().enumerate() {
        prefix.push(index);
        if path == key.name {
            found.push(prefix.clone());
        } else if let (Some(rest), Subkeys::Keys(subkeys)) = (
            path.strip_prefix(key.name.as_str())
                .and_then(|rest| rest.strip_prefix('.')),
            &key.subkeys,
        ) {
            find_key_indices(subkeys, rest, prefix, found);
        }
        prefix.pop();
    }
}

fn key_at<'k>(keys: &'k mut [Key], indices: &[usize]) -> Option<&'k mut Key> {
    let (first, rest) = indices.split_first()?;
    let key = keys.get_mut(*first)?;
    if rest.is_empty() {
        return Some(key);
    }
    match &mut key.subkeys {
        Subkeys::Keys(subkeys) => key_at(subkeys, rest),
        _ => None,
    }
}

/// Applies `changes`; returns whether anything changed.
fn apply_changes(
    changes: &Changes,
    title: &mut Option<String>,
    supported: &mut SupportedOs,
) -> bool {
    let before = (title.clone(), supported.clone());
    if let Some(new_title) = &changes.title {
        *title = Some(new_title.clone());
    }
    merge_supported_os(supported, &changes.supported_os);
    before != (title.clone(), supported.clone())
}
