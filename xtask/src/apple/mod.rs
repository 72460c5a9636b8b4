//! `cargo xtask gen-apple`: Apple's device-management YAML plus bsic's overlay
//! to JSON Schemas and an availability table.
//!
//! Inputs (relative to the workspace root): `apple/device-management/` (Apple's
//! YAML, vendored unchanged) and `apple/overlay.yaml` (bsic's overrides).
//! Outputs, all in `schemas/apple/`:
//! - `declaration.<declarationtype>.schema.json` per declaration type,
//! - `profile.<yaml file stem>.schema.json` per profile payload YAML,
//! - `availability.json`.
//!
//! Generation is pure and deterministic ([`generate`]); [`check`] compares the
//! result with the files on disk and [`write`] updates them. See
//! `schemas/apple/README.md` for the user-facing description.

pub mod availability;
pub mod corpus;
mod error;
pub mod model;
pub mod overlay;
pub mod schema;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

pub use self::corpus::Corpus;
pub use self::error::Error;
pub use self::overlay::Overlay;

/// Directory of the generated files, relative to the workspace root.
pub const OUTPUT_DIR: &str = "schemas/apple";
/// The hand-written file in [`OUTPUT_DIR`] that generation leaves alone.
const README: &str = "README.md";
/// File name of the availability table.
pub const AVAILABILITY_FILE: &str = "availability.json";

/// The result of a generation run.
#[derive(Debug, Clone)]
pub struct Generated {
    /// File name (in [`OUTPUT_DIR`]) to contents.
    pub files: BTreeMap<String, String>,
    /// Things worth telling the user that are not errors.
    pub notes: Vec<String>,
}

/// Loads Apple's tree with the overlay applied.
pub fn load(root: &Path) -> Result<(Corpus, Vec<String>), Error> {
    let mut corpus = Corpus::load(root)?;
    let overlay = Overlay::load(root)?;
    let notes = overlay.apply(&mut corpus)?;
    Ok((corpus, notes))
}

/// Generates every output file in memory.
pub fn generate(root: &Path) -> Result<Generated, Error> {
    let (corpus, notes) = load(root)?;
    let mut files = BTreeMap::new();
    let mut add = |name: String, contents: String, origin: &corpus::Source| {
        if files.insert(name.clone(), contents).is_some() {
            return Err(Error::file(
                origin.display_path(),
                format!("a second source generates {OUTPUT_DIR}/{name}"),
            ));
        }
        Ok(())
    };
    for source in &corpus.declarations {
        let value = schema::declaration_schema(source, &corpus.declaration_base)?;
        let name = schema::declaration_file_name(
            source
                .doc
                .payload
                .declarationtype
                .as_deref()
                .unwrap_or_default(),
        );
        add(name, pretty(value), source)?;
    }
    for source in &corpus.profiles {
        // The outer profile dictionary is not a payload and has no common payload keys.
        let common =
            (source.stem() != corpus::TOP_LEVEL_STEM).then_some(&corpus.common_payload_keys);
        let value = schema::profile_schema(source, common)?;
        add(
            schema::profile_file_name(source.stem()),
            pretty(value),
            source,
        )?;
    }
    let mut description = format!(
        "{} ({}) + {}",
        corpus::APPLE_DIR,
        corpus.release,
        overlay::OVERLAY_FILE
    );
    if let Some(current) = &corpus.current {
        description.push_str(&format!(" (facts current to Apple release {current})"));
    }
    let table = availability::table(&corpus, &description)?;
    files.insert(AVAILABILITY_FILE.to_owned(), compact_below(table, 4));
    Ok(Generated { files, notes })
}

/// The output files whose contents on disk differ from `generated`, are
/// missing, or are stale leftovers (generated-looking files not generated now).
pub fn check(root: &Path, generated: &Generated) -> Result<Vec<String>, Error> {
    let dir = root.join(OUTPUT_DIR);
    let mut drifted = Vec::new();
    for (name, contents) in &generated.files {
        let path = dir.join(name);
        match fs::read_to_string(&path) {
            Ok(on_disk) if on_disk == *contents => {}
            Ok(_) => drifted.push(format!("{OUTPUT_DIR}/{name} (differs)")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                drifted.push(format!("{OUTPUT_DIR}/{name} (missing)"));
            }
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    for name in stale_files(&dir, generated)? {
        drifted.push(format!(
            "{OUTPUT_DIR}/{name} (stale, not generated any more)"
        ));
    }
    Ok(drifted)
}

/// Writes the generated files and removes stale ones; returns what changed.
pub fn write(root: &Path, generated: &Generated) -> Result<Vec<String>, Error> {
    let dir = root.join(OUTPUT_DIR);
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let changed = check(root, generated)?;
    for (name, contents) in &generated.files {
        let path = dir.join(name);
        if fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
            fs::write(&path, contents).map_err(|e| Error::io(&path, e))?;
        }
    }
    for name in stale_files(&dir, generated)? {
        let path = dir.join(name);
        fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(changed)
}

/// JSON files in `dir` that look generated but are not in `generated`.
fn stale_files(dir: &Path, generated: &Generated) -> Result<Vec<String>, Error> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut stale = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != README && name.ends_with(".json") && !generated.files.contains_key(&name) {
            stale.push(name);
        }
    }
    stale.sort();
    Ok(stale)
}

/// Pretty-printed JSON with a final newline. Objects are sorted by key even if
/// another crate in the build turns on serde_json's `preserve_order`.
fn pretty(mut value: Value) -> String {
    value.sort_all_objects();
    let mut out = format!("{value:#}");
    out.push('\n');
    out
}

/// JSON with objects indented down to `depth` levels and everything deeper on
/// one line, so that each key of the availability table is one diff line.
/// Objects are sorted by key, as in [`pretty`].
fn compact_below(mut value: Value, depth: usize) -> String {
    value.sort_all_objects();
    fn write(out: &mut String, value: &Value, level: usize, depth: usize) {
        match value {
            Value::Object(map) if level < depth && !map.is_empty() => {
                out.push_str("{\n");
                for (index, (key, child)) in map.iter().enumerate() {
                    out.push_str(&"  ".repeat(level + 1));
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push_str(": ");
                    write(out, child, level + 1, depth);
                    if index + 1 < map.len() {
                        out.push(',');
                    }
                    out.push('\n');
                }
                out.push_str(&"  ".repeat(level));
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(&mut out, &value, 0, depth);
    out.push('\n');
    out
}
