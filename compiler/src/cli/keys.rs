//! `bsic keys`: every knob, the Apple key it sets, its values, combine rule and availability,
//! read from the generated Apple data.

use std::io::Write;

use serde_json::{Value, json};

use crate::apple::types::{ENFORCEMENT, SETTINGS};
use crate::apple::{self, Key};
use crate::model::Platform;
use crate::model::knobs::{ENFORCE_KEYS, KNOBS, LEGACY_PAYLOADS, SECTIONS};

/// One row: (KDL knob, payload type, Apple key, Apple's definition of the key).
type Row = (String, &'static str, &'static str, Option<&'static Key>);

/// Every row, from the knob table: the settings keys, the enforcement keys, then the legacy
/// profile keys by payload and section.
fn rows() -> Vec<Row> {
    let settings = KNOBS.iter().map(|k| {
        (
            k.kdl.to_string(),
            SETTINGS,
            k.apple_key,
            apple::declaration_key(SETTINGS, k.apple_key),
        )
    });
    let enforce = ENFORCE_KEYS.iter().map(|(property, key)| {
        (
            format!("enforce.{property}"),
            ENFORCEMENT,
            *key,
            apple::declaration_key(ENFORCEMENT, key),
        )
    });
    let profiles = LEGACY_PAYLOADS.iter().flat_map(|payload| {
        SECTIONS.iter().flat_map(move |section| {
            KNOBS.iter().filter_map(move |k| {
                let legacy = k.legacy.filter(|l| l.payload == *payload)?;
                k.kdl.strip_prefix(section)?.strip_prefix('.')?;
                Some((
                    format!("{} (profile)", k.kdl),
                    legacy.payload,
                    legacy.key,
                    apple::profile_key(legacy.payload, legacy.key),
                ))
            })
        })
    });
    settings.chain(enforce).chain(profiles).collect()
}

fn values(key: &Key) -> String {
    match (&key.rangelist, &key.range) {
        (Some(list), _) => list
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
            .collect::<Vec<_>>()
            .join("|"),
        (None, Some(range)) => format!(
            "{}..{}",
            range.get("min").unwrap_or(&Value::Null),
            range.get("max").unwrap_or(&Value::Null)
        ),
        _ => key.value_type.clone().unwrap_or_default(),
    }
}

fn availability(key: &Key, only: Option<Platform>) -> String {
    key.platforms
        .iter()
        .filter(|(os, _)| os.as_str() != "watchOS")
        .filter(|(os, _)| only.is_none_or(|p| p.apple_column() == os.as_str()))
        .map(|(os, support)| format!("{os} {}", support.summary()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What Apple says to use instead of a key, if anything.
fn replacement(payload: &str, key: &str, def: Option<&'static Key>) -> Option<&'static str> {
    if payload == SETTINGS || payload == ENFORCEMENT {
        return def.and_then(|d| d.replaced_by.as_deref());
    }
    apple::profile_replacement(payload, key)
}

/// Prints the table (or JSON with `json`).
pub(super) fn run(json: bool, platform: Option<Platform>) {
    let mut out = std::io::stdout().lock();
    let available = |def: Option<&Key>| {
        platform.is_none_or(|p| {
            def.and_then(|d| d.platforms.get(p.apple_column()))
                .is_some_and(|s| s.available())
        })
    };
    if json {
        let items: Vec<Value> = rows()
            .into_iter()
            .filter(|(.., def)| available(*def))
            .map(|(kdl, payload, key, def)| {
                json!({
                    "knob": kdl,
                    "payload": payload,
                    "key": key,
                    "values": def.map(values),
                    "default": def.and_then(|d| d.default.clone()),
                    "combine": def.and_then(|d| d.combinetype.clone()),
                    "availability": def.map(|d| availability(d, platform)),
                    "replaced-by": replacement(payload, key, def),
                })
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&items).unwrap_or_default()
        );
        return;
    }
    let mut current = "";
    for (kdl, payload, key, def) in rows().into_iter().filter(|(.., def)| available(*def)) {
        if payload != current {
            let _ = writeln!(out, "\n{payload}");
            current = payload;
        }
        let _ = writeln!(out, "  {kdl:<48} {key}");
        if let Some(def) = def {
            let default = def
                .default
                .as_ref()
                .map(|d| format!(", default {d}"))
                .unwrap_or_default();
            let combine = def
                .combinetype
                .as_ref()
                .map(|c| format!(", combine {c}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {:<48} {}{default}{combine}", "", values(def));
            let _ = writeln!(out, "  {:<48} {}", "", availability(def, platform));
            if let Some(replacement) = replacement(payload, key, Some(def)) {
                let _ = writeln!(out, "  {:<48} Apple: use {replacement} instead", "");
            }
        }
    }
}
