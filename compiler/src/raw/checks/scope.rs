//! Keys and payload types that no platform the document itself reaches honours.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::Span;
use crate::validate::diags::ValidateKind;

use super::{Doc, DocKind, key_span, keys, payloads};

/// Apple's platform column for a profile's `TargetDeviceType` (0 and HomePod: none).
fn target_device_column(value: &Value) -> Option<&'static str> {
    match value.get("TargetDeviceType")?.as_i64()? {
        1 => Some("iOS"),
        2 => Some("watchOS"),
        4 => Some("tvOS"),
        5 => Some("macOS"),
        6 => Some("visionOS"),
        _ => None,
    }
}

/// The platforms a document can take effect on, by its own account: a profile's
/// `TargetDeviceType`, else the platforms every one of its payload types is available on (a
/// device refuses a profile holding a payload type it does not support); a declaration's
/// type's platforms. `None` when nothing narrows it.
pub(super) fn doc_scope(doc: &Doc) -> Option<BTreeSet<String>> {
    if matches!(doc.kind, DocKind::Profile)
        && let Some(column) = target_device_column(&doc.projection.value)
    {
        return Some(BTreeSet::from([column.to_string()]));
    }
    let mut scope: Option<BTreeSet<String>> = None;
    for (payload, ..) in payloads(doc) {
        let here: BTreeSet<String> = payload
            .platforms
            .iter()
            .filter(|(_, s)| s.available())
            .map(|(p, _)| p.clone())
            .collect();
        scope = Some(match scope {
            Some(before) => before.intersection(&here).cloned().collect(),
            None => here,
        });
    }
    scope.filter(|s| !s.is_empty())
}

/// True when Apple marks the key n/a on every platform of `scope` (a platform Apple does not
/// list for the key counts as available: absence is no evidence).
pub(super) fn unavailable_on_all(
    platforms: &BTreeMap<String, crate::apple::OsSupport>,
    scope: &BTreeSet<String>,
) -> bool {
    scope.iter().all(|p| {
        platforms
            .get(p)
            .is_some_and(|s| s.introduced.as_deref() == Some("n/a"))
    })
}

/// Keys (and payload types) that none of the platforms the document itself targets honours
/// (see [`doc_scope`]): an error, since no device the file can reach applies them.
pub(in crate::raw) fn scope(doc: &Doc, out: &mut Diagnostics) {
    let Some(scope) = doc_scope(doc) else {
        return;
    };
    let fallback = Span::start_of(doc.file);
    let names = scope.iter().cloned().collect::<Vec<_>>().join(", ");
    let why = match target_device_column(&doc.projection.value) {
        Some(_) => "its `TargetDeviceType`",
        None if matches!(doc.kind, DocKind::Profile) => "its payload types",
        None => "its type",
    };
    for (payload, type_name, root, value) in payloads(doc) {
        if unavailable_on_all(&payload.platforms, &scope) {
            out.push(Diagnostic::error(
                ValidateKind::UnavailableOnPlatform {
                    knob: type_name.to_string(),
                    platform: names.clone(),
                    fact: format!(
                        "Apple: `{type_name}` is n/a on {names}, where this file takes \
                         effect (by {why})"
                    ),
                },
                key_span(&doc.projection, &format!("{root}/PayloadType"), fallback),
                "not on the targeted platform",
            ));
            continue;
        }
        let mut found = Vec::new();
        keys(value, "", &root, &mut found);
        let mut reported: Vec<String> = Vec::new();
        for (dotted, pointer) in found {
            if reported
                .iter()
                .any(|r| dotted.starts_with(r.as_str()) && dotted[r.len()..].starts_with('.'))
            {
                continue;
            }
            let Some(key) = payload.key(&dotted) else {
                continue;
            };
            if unavailable_on_all(&key.platforms, &scope) {
                out.push(Diagnostic::error(
                    ValidateKind::UnavailableOnPlatform {
                        knob: dotted.clone(),
                        platform: names.clone(),
                        fact: format!(
                            "Apple: `{dotted}` is n/a on {names}, where this file takes \
                             effect (by {why}); no device it reaches applies it"
                        ),
                    },
                    key_span(&doc.projection, &pointer, fallback),
                    "no effect where this file goes",
                ));
                reported.push(dotted);
            }
        }
    }
}
