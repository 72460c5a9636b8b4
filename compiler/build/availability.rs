//! Indexes Apple's availability table (`schemas/apple/availability.json`, 1.4 MB) at build
//! time, so a run never skims the whole table to find the one payload type it needs: skimming
//! it cost a one-file `bsic check` two thirds of its instructions.
//!
//! Writes `$OUT_DIR/apple_availability.rs`: the table's text (`include_str!` of the same file),
//! for each payload type the byte range of its `platforms`, its `replaced-by` and its keys,
//! each key's byte range (a run parses only the keys it looks up: a document sets a few of
//! the 24 software-update settings or the 193 Restrictions keys), and the names of Apple's
//! status items. A missing or
//! unreadable table gives an empty index (every lookup then answers "unknown", as parsing it at
//! run time did) and a build warning; the unit tests in `apple` catch it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

/// The table's top level, each payload type still unparsed text borrowed from the file.
#[derive(Deserialize)]
struct Sections<'a> {
    #[serde(borrow, default)]
    declarations: BTreeMap<&'a str, &'a RawValue>,
    #[serde(borrow, default)]
    profiles: BTreeMap<&'a str, &'a RawValue>,
    #[serde(borrow, default, rename = "status-items")]
    status_items: BTreeMap<&'a str, &'a RawValue>,
}

/// One payload type, its keys still unparsed text borrowed from the file.
#[derive(Deserialize)]
struct PayloadText<'a> {
    #[serde(borrow, default)]
    platforms: Option<&'a RawValue>,
    #[serde(default, rename = "replaced-by")]
    replaced_by: Option<String>,
    #[serde(borrow, default)]
    keys: BTreeMap<Cow<'a, str>, &'a RawValue>,
}

/// Writes the index of `table` to `out`.
pub(crate) fn write_index(table: &Path, out: &Path) {
    println!("cargo:rerun-if-changed={}", table.display());
    let text = std::fs::read_to_string(table).unwrap_or_default();
    let sections: Option<Sections<'_>> = serde_json::from_str(&text).ok();
    if sections.is_none() {
        println!(
            "cargo:warning=cannot index {}: Apple availability lookups will find nothing",
            table.display()
        );
    }
    let mut code = String::new();
    let _ = writeln!(code, "/// The availability table, as generated.");
    match sections {
        Some(_) => {
            let _ = writeln!(
                code,
                "const TEXT: &str = include_str!({:?});",
                table.display().to_string()
            );
        }
        None => {
            let _ = writeln!(code, "const TEXT: &str = \"\";");
        }
    }
    let _ = writeln!(
        code,
        "/// Every payload type, sorted by (is a profile payload, type name)."
    );
    let _ = writeln!(code, "const INDEX: &[Indexed] = &[");
    let mut keys = String::new();
    let mut count = 0usize;
    let mut key_count = 0usize;
    let mut names = Vec::new();
    if let Some(sections) = &sections {
        let base = text.as_ptr() as usize;
        let range = |raw: &RawValue| {
            let start = raw.get().as_ptr() as usize - base;
            (start, start + raw.get().len())
        };
        for (profile, section) in [(false, &sections.declarations), (true, &sections.profiles)] {
            for (name, raw) in section {
                let Ok(payload) = serde_json::from_str::<PayloadText<'_>>(raw.get()) else {
                    println!("cargo:warning=cannot index Apple's {name}: its lookups find nothing");
                    continue;
                };
                let platforms = payload.platforms.map_or((0, 0), range);
                let first_key = key_count;
                for (key, raw) in &payload.keys {
                    let (start, end) = range(raw);
                    let _ = writeln!(keys, "    ({:?}, {start}, {end}),", key.as_ref());
                    key_count += 1;
                }
                let _ = writeln!(
                    code,
                    "    Indexed {{ profile: {profile}, name: {name:?}, platforms: {platforms:?}, \
                     replaced_by: {:?}, keys: ({first_key}, {key_count}) }},",
                    payload.replaced_by
                );
                count += 1;
            }
        }
        names.extend(sections.status_items.keys().copied());
    }
    let _ = writeln!(code, "];");
    let _ = writeln!(
        code,
        "/// Every payload's keys: (dotted key path, byte range of its definition in `TEXT`), \
         sorted by name within each payload."
    );
    let _ = writeln!(code, "const KEYS: &[(&str, usize, usize)] = &[\n{keys}];");
    let _ = writeln!(code, "/// How many payload types `INDEX` holds.");
    let _ = writeln!(code, "const COUNT: usize = {count};");
    let _ = writeln!(code, "/// Apple's status item names, sorted.");
    let _ = writeln!(code, "const STATUS_ITEMS: &[&str] = &{names:?};");
    if let Err(error) = std::fs::write(out, code) {
        println!("cargo:warning=cannot write {}: {error}", out.display());
    }
}
