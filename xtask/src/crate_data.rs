//! The bsic crate's own copies of the repository files its build embeds, so that the packaged
//! crate (`cargo package -p bsic`, what `cargo install bsic` downloads) builds on its own:
//! Cargo packages only what is inside `compiler/`.
//!
//! The repository files stay where users and docs expect them and are the ones to edit: the
//! generated Apple schemas and availability table (`schemas/apple/*.json`), bsic's own two
//! schemas (`schemas/bsic-*.schema.json`, embedded so a start-up need not generate them), the reviewed Mac
//! board-ID table (`apple/mac-board-ids.json`), the diagnostics
//! reference (`docs/diagnostics.md`, the SARIF rule texts) and the licence. `cargo xtask
//! sync-crate` copies them into `compiler/data/` (and `compiler/LICENSE`); `gen-apple` does
//! it after regenerating; `xtask/tests/crate_data.rs` fails while a copy differs.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// Where the copies live, relative to the workspace root.
pub const DATA_DIR: &str = "compiler/data";

/// The copies the crate needs, as (copy, source) paths relative to the workspace root.
pub fn copies(root: &Path) -> io::Result<BTreeMap<String, String>> {
    let mut copies = BTreeMap::new();
    for entry in std::fs::read_dir(root.join("schemas/apple"))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            copies.insert(
                format!("{DATA_DIR}/apple/{name}"),
                format!("schemas/apple/{name}"),
            );
        }
    }
    for schema in ["bsic-policy.schema.json", "bsic-project.schema.json"] {
        copies.insert(format!("{DATA_DIR}/{schema}"), format!("schemas/{schema}"));
    }
    copies.insert(
        format!("{DATA_DIR}/diagnostics.md"),
        "docs/diagnostics.md".to_string(),
    );
    copies.insert(
        format!("{DATA_DIR}/mac-board-ids.json"),
        "apple/mac-board-ids.json".to_string(),
    );
    copies.insert("compiler/LICENSE".to_string(), "LICENSE".to_string());
    Ok(copies)
}

/// The copies that differ from their source or are missing, and files in the data
/// directory that copy nothing (a schema Apple dropped): what [`sync`] would change.
pub fn stale(root: &Path) -> io::Result<Vec<String>> {
    let copies = copies(root)?;
    let mut stale = Vec::new();
    for (copy, source) in &copies {
        let want = std::fs::read(root.join(source))?;
        if std::fs::read(root.join(copy)).ok().as_deref() != Some(want.as_slice()) {
            stale.push(copy.clone());
        }
    }
    for file in files_under(&root.join(DATA_DIR))? {
        let relative = format!("{DATA_DIR}/{file}");
        if !copies.contains_key(&relative) {
            stale.push(relative);
        }
    }
    stale.sort();
    Ok(stale)
}

/// Brings every copy up to date (and removes the strays); returns what it changed.
pub fn sync(root: &Path) -> io::Result<Vec<String>> {
    let copies = copies(root)?;
    let changed = stale(root)?;
    for path in &changed {
        match copies.get(path) {
            Some(source) => {
                if let Some(parent) = root.join(path).parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::copy(root.join(source), root.join(path))?;
            }
            None => std::fs::remove_file(root.join(path))?,
        }
    }
    Ok(changed)
}

/// The files under `dir`, as `/`-separated paths relative to it, sorted; none when it is
/// missing.
fn files_under(dir: &Path) -> io::Result<Vec<String>> {
    let mut files = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, prefix)) = pending.pop() {
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            if entry.file_type()?.is_dir() {
                pending.push((entry.path(), format!("{name}/")));
            } else {
                files.push(name);
            }
        }
    }
    files.sort();
    Ok(files)
}
