//! bsic's overlay on Apple's YAML (`apple/overlay.yaml`): facts Apple has
//! published since the vendored release, applied to the parsed tree before
//! anything is generated. The file's header comment documents the format.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::Error;
use super::corpus::{APPLE_DIR, Corpus, Source};
use super::model::{Document, Key, Subkeys, SupportedOs, merge_supported_os};

/// Location of the overlay, relative to the workspace root.
pub const OVERLAY_FILE: &str = "apple/overlay.yaml";

/// The whole overlay file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overlay {
    /// The Apple release the overrides were reviewed against.
    pub base: String,
    /// The Apple release whose facts the overlay brings the YAML up to (e.g. `27.2`).
    #[serde(default)]
    pub current: Option<String>,
    /// Where the facts come from: an id per source, each an address and what it is.
    #[serde(default)]
    pub sources: BTreeMap<String, String>,
    /// The overrides, applied in order.
    #[serde(default)]
    pub overrides: Vec<Override>,
    /// Status items Apple defines after `base`, so status subscriptions may name them.
    #[serde(default, rename = "status-items")]
    pub status_items: Vec<AddedStatusItem>,
}

/// A status item the vendored YAML does not define yet.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddedStatusItem {
    /// The status item's name (`statusitemtype`), e.g. `mdm.enrollment-type`.
    pub name: String,
    /// Apple's title for it.
    pub title: String,
    /// The file that defines it in Apple's newer release, relative to `device-management/`.
    pub file: String,
    /// Its availability.
    #[serde(rename = "supportedOS")]
    pub supported_os: SupportedOs,
    /// Ids from `sources`.
    #[serde(default)]
    pub source: Vec<String>,
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
    /// What Apple's YAML said for each field `set` changes, where it said something else:
    /// the record that the override was reviewed against the YAML. An override that replaces
    /// a value Apple's YAML states without recording it here, or whose record no longer
    /// matches the YAML, is an error: the overlay and the YAML must never disagree silently.
    #[serde(default)]
    pub was: Changes,
    /// Where the fact comes from, in words.
    pub why: String,
    /// Ids from the overlay's `sources`.
    #[serde(default)]
    pub source: Vec<String>,
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
    /// What Apple says to use instead of a deprecated or removed payload or key (a
    /// declaration type, a key path): bsic's own annotation, written to the table as
    /// `replaced-by` so diagnostics can name it.
    #[serde(default, rename = "replaced-by")]
    pub replaced_by: Option<String>,
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
        corpus.current.clone_from(&self.current);
        let mut notes = Vec::new();
        for (position, item) in self.status_items.iter().enumerate() {
            self.check_sources(&item.source).map_err(|message| {
                Error::file(
                    OVERLAY_FILE,
                    format!("status item #{} ({}): {message}", position + 1, item.name),
                )
            })?;
            if corpus
                .status_items
                .iter()
                .any(|s| s.doc.payload.statusitemtype.as_deref() == Some(item.name.as_str()))
            {
                return Err(Error::file(
                    OVERLAY_FILE,
                    format!(
                        "status item {} is defined by Apple's YAML now: remove it from the overlay",
                        item.name
                    ),
                ));
            }
            corpus.status_items.push(Source {
                file: item.file.clone(),
                doc: Document::status_item(&item.title, &item.name, item.supported_os.clone()),
            });
        }
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
            if entry.set.title.is_none()
                && entry.set.supported_os.is_empty()
                && entry.set.replaced_by.is_none()
            {
                return Err(fail("`set` changes nothing".to_owned()));
            }
            if entry.was.replaced_by.is_some() {
                return Err(fail(
                    "`was` cannot hold `replaced-by`, which is bsic's own".to_owned(),
                ));
            }
            self.check_sources(&entry.source).map_err(fail)?;
            let source = select(corpus, entry).map_err(fail)?;
            let file = source.file.clone();
            let changed = match &entry.key {
                None => {
                    let doc = &mut source.doc;
                    apply_changes(entry, &mut doc.title, &mut doc.payload.supported_os)
                }
                Some(path) => {
                    let key = find_key(&mut source.doc.payloadkeys, path).map_err(fail)?;
                    apply_changes(entry, &mut key.title, &mut key.supported_os)
                }
            }
            .map_err(fail)?;
            let changed = match &entry.set.replaced_by {
                Some(replacement) => {
                    let slot = corpus
                        .replacements
                        .entry(file)
                        .or_default()
                        .entry(entry.key.clone().unwrap_or_default())
                        .or_default();
                    let new = *slot != *replacement;
                    slot.clone_from(replacement);
                    changed || new
                }
                None => changed,
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

impl Overlay {
    /// Every id in `ids` names an entry of `sources`.
    fn check_sources(&self, ids: &[String]) -> Result<(), String> {
        match ids
            .iter()
            .find(|id| !self.sources.contains_key(id.as_str()))
        {
            Some(id) => Err(format!("source `{id}` is not listed in `sources`")),
            None => Ok(()),
        }
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

/// Applies `entry.set` after checking it against the YAML (see [`review`]); returns
/// whether anything changed.
fn apply_changes(
    entry: &Override,
    title: &mut Option<String>,
    supported: &mut SupportedOs,
) -> Result<bool, String> {
    let changes = &entry.set;
    review(
        "title",
        &json_of(&changes.title)?,
        &json_of(title)?,
        &json_of(&entry.was.title)?,
    )?;
    review(
        "supportedOS",
        &json_of(&changes.supported_os)?,
        &json_of(supported)?,
        &json_of(&entry.was.supported_os)?,
    )?;
    let before = (title.clone(), supported.clone());
    if let Some(new_title) = &changes.title {
        *title = Some(new_title.clone());
    }
    merge_supported_os(supported, &changes.supported_os);
    Ok(before != (title.clone(), supported.clone()))
}

fn json_of<T: serde::Serialize>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

/// Compares what an override sets (`set`) with what Apple's YAML says at the same place
/// (`yaml`), leaf by leaf. Where the YAML states a different value, the override must
/// record that value in `was`; where `was` records a value, the YAML must still say it.
/// So a newer Apple release that changes a fact the overlay overrides stops the generator
/// instead of being silently overruled.
fn review(path: &str, set: &Value, yaml: &Value, was: &Value) -> Result<(), String> {
    match set {
        Value::Object(fields) => {
            for (name, value) in fields {
                let child = |v: &Value| v.get(name).cloned().unwrap_or(Value::Null);
                review(&format!("{path}.{name}"), value, &child(yaml), &child(was))?;
            }
            Ok(())
        }
        Value::Null => Ok(()),
        leaf => {
            let yaml_says = (!yaml.is_null()).then_some(yaml);
            let recorded = (!was.is_null()).then_some(was);
            match (yaml_says, recorded) {
                (Some(apple), Some(recorded)) if apple != recorded => Err(format!(
                    "`{path}`: Apple's YAML now says {apple}, not {recorded} as `was` records; \
                     review the override against the new YAML"
                )),
                (None, Some(recorded)) => Err(format!(
                    "`{path}`: `was` records {recorded}, but Apple's YAML says nothing there; \
                     review the override against the new YAML"
                )),
                (Some(apple), None) if apple != leaf => Err(format!(
                    "`{path}`: overrides Apple's {apple} with {leaf} silently; record Apple's \
                     value under `was` after reviewing it"
                )),
                _ => Ok(()),
            }
        }
    }
}
