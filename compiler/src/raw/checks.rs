//! Checks beyond one file's schema: Apple availability facts per key, and the cross-file
//! rules (duplicate identifiers, dangling activations, restrictions managed twice,
//! contradicting software-update settings).
//!
//! In: parsed [`Doc`]s and the options. Out: diagnostics only; nothing is read or written.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::apple::Payload;
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::compare_versions;
use crate::raw::diags::RawKind;
use crate::source::{FileId, Span};
use crate::validate::diags::ValidateKind;
use crate::validate::{Projection, push_pointer};

use super::{Doc, DocKind, ValidateOptions};

use crate::apple::types::{RESTRICTIONS as RESTRICTIONS_TYPE, SETTINGS as SETTINGS_TYPE};

/// `key` under the dotted Apple key `dotted` (`AutomaticActions` + `Download`).
fn dotted_key(dotted: &str, key: &str) -> String {
    if dotted.is_empty() {
        key.to_string()
    } else {
        format!("{dotted}.{key}")
    }
}

/// Every object key of `value` as (dotted Apple key, JSON pointer), array items skipped.
fn keys(value: &Value, dotted: &str, pointer: &str, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let name = dotted_key(dotted, key);
                let child = push_pointer(pointer, key);
                out.push((name.clone(), child.clone()));
                keys(inner, &name, &child, out);
            }
        }
        Value::Array(items) => {
            for (index, inner) in items.iter().enumerate() {
                keys(inner, dotted, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// The payloads of a document: (Apple definition, type, the payload's pointer, its value).
fn payloads(doc: &Doc) -> Vec<(&'static Payload, &str, String, &Value)> {
    let value = &doc.projection.value;
    match &doc.kind {
        DocKind::Declaration { declaration_type } => {
            match (
                crate::apple::declaration(declaration_type),
                value.get("Payload"),
            ) {
                (Some(payload), Some(inner)) => {
                    vec![(payload, declaration_type.as_str(), "/Payload".into(), inner)]
                }
                _ => Vec::new(),
            }
        }
        DocKind::Profile => {
            let Some(Value::Array(items)) = value.get("PayloadContent") else {
                return Vec::new();
            };
            items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    let kind = item.get("PayloadType")?.as_str()?;
                    let payload = crate::apple::profile(kind)?;
                    Some((payload, kind, format!("/PayloadContent/{index}"), item))
                })
                .collect()
        }
    }
}

fn key_span(projection: &Projection, pointer: &str, fallback: Span) -> Span {
    projection.spans.key(pointer).unwrap_or(fallback)
}

/// Deprecated keys always; with `--platform`, keys the platform or `--min-os` ignores and
/// supervised-only keys.
pub(super) fn availability(doc: &Doc, options: &ValidateOptions, out: &mut Diagnostics) {
    let fallback = Span::start_of(doc.file);
    let column = options.platform.map(|p| p.apple_column());
    let min_os = options.min_os.as_ref().map(ToString::to_string);
    let scope = doc_scope(doc);
    for (payload, type_name, root, value) in payloads(doc) {
        if let Some(column) = column
            && let Some(support) = payload.platforms.get(column)
            && !support.available()
        {
            out.push(Diagnostic::warning(
                ValidateKind::UnavailableOnPlatform {
                    knob: type_name.to_string(),
                    platform: column.to_string(),
                    fact: format!("Apple: `{type_name}` is n/a on {column}"),
                },
                key_span(&doc.projection, &root, fallback),
                "this payload",
            ));
            continue;
        }
        lifecycle(doc, payload, type_name, &root, options, out);
        let mut found = Vec::new();
        keys(value, "", &root, &mut found);
        // A key inherits its dictionary's availability, so a finding already reported for the
        // dictionary is not repeated for each key in it; a different finding still is (a
        // deferral period n/a on iOS inside a supervised-only `Deferrals`).
        let mut reported: Vec<(String, Finding)> = Vec::new();
        let inside = |reported: &[(String, Finding)], dotted: &str, finding: Finding| {
            reported.iter().any(|(r, f)| {
                (*f == finding || *f == Finding::Unavailable)
                    && dotted.starts_with(r.as_str())
                    && dotted[r.len()..].starts_with('.')
            })
        };
        for (dotted, pointer) in found {
            if inside(&reported, &dotted, Finding::Unavailable) {
                continue;
            }
            let Some(key) = payload.keys.get(&dotted) else {
                continue;
            };
            // Dead on every platform the document targets: an error of its own (`scope`).
            if scope
                .as_ref()
                .is_some_and(|s| unavailable_on_all(&key.platforms, s))
            {
                reported.push((dotted, Finding::Unavailable));
                continue;
            }
            let at = key_span(&doc.projection, &pointer, fallback);
            let title = key
                .title
                .as_deref()
                .map_or(String::new(), |t| format!(" ({t})"));
            // Deprecation: on the chosen platform, or on any platform when none is chosen.
            // What the key only inherits from its payload was told once, for the payload.
            let deprecated: Vec<String> = key
                .platforms
                .iter()
                .filter(|(p, _)| column.is_none_or(|c| c == p.as_str()))
                .filter(|(p, s)| {
                    payload
                        .platforms
                        .get(p.as_str())
                        .and_then(|o| o.deprecated.as_ref())
                        != s.deprecated.as_ref()
                })
                .filter_map(|(p, s)| Some((p, s.deprecated.as_ref()?)))
                .filter(|(_, since)| {
                    min_os
                        .as_ref()
                        .is_none_or(|min| compare_versions(min, since).is_ge())
                })
                .map(|(p, since)| format!("{p} {since}"))
                .collect();
            if !deprecated.is_empty() && !inside(&reported, &dotted, Finding::Deprecated) {
                reported.push((dotted.clone(), Finding::Deprecated));
                out.push(Diagnostic::warning(
                    ValidateKind::Deprecated {
                        message: format!("`{dotted}` is deprecated"),
                        fact: format!(
                            "Apple: `{dotted}`{title} is deprecated since {}{}",
                            deprecated.join(", "),
                            instead(key.replaced_by.as_deref())
                        ),
                    },
                    at,
                    "deprecated",
                ));
            }
            let Some(column) = column else {
                continue;
            };
            let Some(support) = key.platforms.get(column) else {
                continue;
            };
            if !support.available() {
                out.push(Diagnostic::warning(
                    ValidateKind::UnavailableOnPlatform {
                        knob: dotted.clone(),
                        platform: column.into(),
                        fact: format!("Apple: `{dotted}` is n/a on {column}; devices ignore it"),
                    },
                    at,
                    "ignored",
                ));
                reported.push((dotted, Finding::Unavailable));
                continue;
            }
            if let (Some(min), Some(introduced)) = (&min_os, support.introduced.as_deref())
                && compare_versions(introduced, min).is_gt()
                && !inside(&reported, &dotted, Finding::TooNew)
            {
                reported.push((dotted.clone(), Finding::TooNew));
                out.push(Diagnostic::warning(
                    ValidateKind::UnavailableOnPlatform {
                        knob: dotted.clone(),
                        platform: format!(
                            "{column} {}",
                            options
                                .min_os
                                .as_ref()
                                .map(ToString::to_string)
                                .unwrap_or_default()
                        ),
                        fact: format!(
                            "Apple: `{dotted}` arrived in {column} {introduced}; older devices \
                             ignore it"
                        ),
                    },
                    at,
                    "too new for the fleet",
                ));
            }
            let inherited_removal = payload
                .platforms
                .get(column)
                .and_then(|p| p.removed.as_deref())
                == support.removed.as_deref();
            if let (Some(min), Some(removed)) = (&min_os, support.removed.as_deref())
                && compare_versions(removed, min).is_le()
                && !inherited_removal
                && !inside(&reported, &dotted, Finding::Removed)
            {
                reported.push((dotted.clone(), Finding::Removed));
                out.push(Diagnostic::warning(
                    ValidateKind::UnavailableOnPlatform {
                        knob: dotted.clone(),
                        platform: column.into(),
                        fact: format!(
                            "Apple: `{dotted}` was removed in {column} {removed}{}",
                            instead(key.replaced_by.as_deref())
                        ),
                    },
                    at,
                    "removed",
                ));
            }
            let supervised = support.supervised == Some(true)
                || support
                    .allowed_enrollments
                    .as_ref()
                    .is_some_and(|e| e.len() == 1 && e[0] == "supervised");
            if supervised && !inside(&reported, &dotted, Finding::Supervised) {
                reported.push((dotted.clone(), Finding::Supervised));
                out.push(Diagnostic::warning(
                    RawKind::SupervisedOnly {
                        key: dotted.clone(),
                        platform: column.into(),
                    },
                    at,
                    "supervised only",
                ));
            }
        }
    }
}

/// `; use X instead` for a replacement Apple names, else nothing.
fn instead(replacement: Option<&str>) -> String {
    replacement.map_or(String::new(), |r| format!("; use {r} instead"))
}

/// A payload type Apple deprecated or removed, told once for the payload with what Apple
/// says to use instead: removed on the chosen platform at or below `--min-os`, else
/// deprecated there (or, with no platform chosen, on any platform).
fn lifecycle(
    doc: &Doc,
    payload: &Payload,
    type_name: &str,
    root: &str,
    options: &ValidateOptions,
    out: &mut Diagnostics,
) {
    let at = key_span(&doc.projection, root, Span::start_of(doc.file));
    let column = options.platform.map(|p| p.apple_column());
    let min_os = options.min_os.as_ref().map(ToString::to_string);
    let instead = instead(payload.replaced_by.as_deref());
    if let (Some(column), Some(min)) = (column, &min_os)
        && let Some(removed) = payload
            .platforms
            .get(column)
            .and_then(|s| s.removed.as_deref())
        && compare_versions(removed, min).is_le()
    {
        out.push(Diagnostic::warning(
            ValidateKind::UnavailableOnPlatform {
                knob: type_name.to_string(),
                platform: format!("{column} {removed} and later"),
                fact: format!(
                    "Apple: `{type_name}` was removed in {column} {removed}; devices ignore \
                     it{instead}"
                ),
            },
            at,
            "removed",
        ));
        return;
    }
    let deprecated: Vec<String> = payload
        .platforms
        .iter()
        .filter(|(p, _)| column.is_none_or(|c| c == p.as_str()))
        .filter_map(|(p, s)| Some((p, s.deprecated.as_ref()?, s.removed.as_deref())))
        .filter(|(_, since, _)| {
            min_os
                .as_ref()
                .is_none_or(|min| compare_versions(min, since).is_ge())
        })
        .map(|(p, since, removed)| match removed {
            Some(removed) => format!("{p} {since} (removed in {p} {removed})"),
            None => format!("{p} {since}"),
        })
        .collect();
    if !deprecated.is_empty() {
        out.push(Diagnostic::warning(
            ValidateKind::Deprecated {
                message: format!("`{type_name}` is deprecated"),
                fact: format!(
                    "Apple: `{type_name}` is deprecated since {}{instead}",
                    deprecated.join(", ")
                ),
            },
            at,
            "deprecated",
        ));
    }
}

/// What was reported for a key, so keys inside it are not told the same again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    Unavailable,
    Deprecated,
    TooNew,
    Removed,
    Supervised,
}

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
fn doc_scope(doc: &Doc) -> Option<BTreeSet<String>> {
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
fn unavailable_on_all(
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
pub(super) fn scope(doc: &Doc, out: &mut Diagnostics) {
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
            let Some(key) = payload.keys.get(&dotted) else {
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

/// Leaf keys of a settings payload: dotted key → (value, pointer).
fn leaves(value: &Value, dotted: &str, pointer: &str, out: &mut BTreeMap<String, (Value, String)>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let name = dotted_key(dotted, key);
                leaves(inner, &name, &push_pointer(pointer, key), out);
            }
        }
        other => {
            out.insert(dotted.to_string(), (other.clone(), pointer.to_string()));
        }
    }
}

/// The rules that need every file at once.
pub(super) fn cross_file(docs: &[Doc], out: &mut Diagnostics) {
    let span_of = |doc: &Doc, pointer: &str| {
        doc.projection
            .spans
            .value(pointer)
            .unwrap_or(Span::start_of(doc.file))
    };
    // Duplicate identifiers among declarations.
    let mut identifiers: BTreeMap<&str, Span> = BTreeMap::new();
    for doc in docs {
        if !matches!(doc.kind, DocKind::Declaration { .. }) {
            continue;
        }
        let Some(id) = doc
            .projection
            .value
            .get("Identifier")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let at = span_of(doc, "/Identifier");
        match identifiers.get(id) {
            Some(first) => out.push(
                Diagnostic::error(
                    RawKind::DuplicateIdentifier {
                        identifier: id.into(),
                    },
                    at,
                    "used again here",
                )
                .with_related(*first, "first used here"),
            ),
            None => {
                identifiers.insert(id, at);
            }
        }
    }
    profile_ids(docs, out);
    // Activations naming configurations that are not there.
    for doc in docs {
        let DocKind::Declaration { declaration_type } = &doc.kind else {
            continue;
        };
        if !declaration_type.starts_with("com.apple.activation.") {
            continue;
        }
        let Some(Value::Array(names)) = doc
            .projection
            .value
            .pointer("/Payload/StandardConfigurations")
        else {
            continue;
        };
        for (index, name) in names.iter().enumerate() {
            let Some(name) = name.as_str() else { continue };
            if !identifiers.contains_key(name) {
                out.push(Diagnostic::warning(
                    RawKind::MissingConfiguration {
                        identifier: name.into(),
                    },
                    span_of(doc, &format!("/Payload/StandardConfigurations/{index}")),
                    "not found among the validated files",
                ));
            }
        }
    }
    // The same restriction in two profiles.
    let mut restrictions: BTreeMap<String, (FileId, Span)> = BTreeMap::new();
    for doc in docs {
        let Some(Value::Array(items)) = doc.projection.value.get("PayloadContent") else {
            continue;
        };
        for (index, item) in items.iter().enumerate() {
            if item.get("PayloadType").and_then(Value::as_str) != Some(RESTRICTIONS_TYPE) {
                continue;
            }
            let Some(map) = item.as_object() else {
                continue;
            };
            for key in map.keys().filter(|k| !k.starts_with("Payload")) {
                let pointer = push_pointer(&format!("/PayloadContent/{index}"), key);
                let at = key_span(&doc.projection, &pointer, Span::start_of(doc.file));
                match restrictions.get(key) {
                    Some((file, first)) if *file != doc.file => out.push(
                        Diagnostic::warning(
                            RawKind::ManagedTwice { key: key.clone() },
                            at,
                            "again here",
                        )
                        .with_related(*first, "first managed here"),
                    ),
                    Some(_) => {}
                    None => {
                        restrictions.insert(key.clone(), (doc.file, at));
                    }
                }
            }
        }
    }
    // Software-update settings that contradict each other, on a device that can get both.
    let reach = families_reached(docs);
    let mut settings: BTreeMap<String, Vec<SeenValue<'_>>> = BTreeMap::new();
    for doc in docs {
        if !matches!(&doc.kind, DocKind::Declaration { declaration_type } if declaration_type == SETTINGS_TYPE)
        {
            continue;
        }
        let Some(payload) = doc.projection.value.get("Payload") else {
            continue;
        };
        let families = doc
            .projection
            .value
            .get("Identifier")
            .and_then(Value::as_str)
            .and_then(|id| reach.get(id))
            .and_then(Option::as_ref);
        let mut found = BTreeMap::new();
        leaves(payload, "", "/Payload", &mut found);
        for (key, (value, pointer)) in found {
            let at = span_of(doc, &pointer);
            let seen = settings.entry(key.clone()).or_default();
            let clash = seen
                .iter()
                .find(|(first, _, other)| *first != value && overlap(families, *other));
            if let Some((first, first_at, _)) = clash {
                out.push(
                    Diagnostic::warning(
                        RawKind::Contradiction {
                            key,
                            first: value.to_string(),
                            second: first.to_string(),
                        },
                        at,
                        "this value",
                    )
                    .with_related(*first_at, "the other value"),
                );
            } else if !seen.iter().any(|(v, _, f)| *v == value && *f == families) {
                seen.push((value, at, families));
            }
        }
    }
}

/// Profiles in different files that share a top-level `PayloadIdentifier` (the second
/// installed replaces the first) or any `PayloadUUID`. Repeats inside one profile are
/// reported where that profile is checked.
fn profile_ids(docs: &[Doc], out: &mut Diagnostics) {
    let mut identifiers: BTreeMap<&str, (FileId, Span)> = BTreeMap::new();
    let mut uuids: BTreeMap<String, (FileId, Span)> = BTreeMap::new();
    for doc in docs.iter().filter(|d| matches!(d.kind, DocKind::Profile)) {
        let span_of = |pointer: &str| {
            doc.projection
                .spans
                .value(pointer)
                .unwrap_or(Span::start_of(doc.file))
        };
        let mut found = Vec::new();
        if let Some(id) = doc
            .projection
            .value
            .get("PayloadIdentifier")
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty())
        {
            let at = span_of("/PayloadIdentifier");
            match identifiers.get(id) {
                Some((file, first)) if *file != doc.file => {
                    found.push(("PayloadIdentifier", id.to_string(), "profile", at, *first))
                }
                Some(_) => {}
                None => {
                    identifiers.insert(id, (doc.file, at));
                }
            }
        }
        for (uuid, pointer) in super::payload_uuids(&doc.projection.value) {
            let at = span_of(&pointer);
            match uuids.get(&uuid.to_uppercase()) {
                Some((file, first)) if *file != doc.file => {
                    found.push(("PayloadUUID", uuid, "profile", at, *first));
                }
                Some(_) => {}
                None => {
                    uuids.insert(uuid.to_uppercase(), (doc.file, at));
                }
            }
        }
        for (key, value, what, at, first) in found {
            out.push(
                Diagnostic::error(
                    RawKind::DuplicatePayloadId {
                        key: key.into(),
                        value,
                        what,
                    },
                    at,
                    "used again here",
                )
                .with_related(first, "first used here, in another file"),
            );
        }
    }
}

/// A settings value seen in one declaration: the value, where, and the OS families the
/// declaration can reach (`None`: any).
type SeenValue<'a> = (Value, Span, Option<&'a BTreeSet<String>>);

/// Declaration identifier → the OS families (`macOS`, `iOS`, …) that the activations naming it
/// can activate it on; `None` when any device could (an activation without a family test, or
/// none among the files). A macOS and an iOS settings declaration never meet on one device.
fn families_reached(docs: &[Doc]) -> BTreeMap<String, Option<BTreeSet<String>>> {
    let mut reach: BTreeMap<String, Option<BTreeSet<String>>> = BTreeMap::new();
    for doc in docs {
        let DocKind::Declaration { declaration_type } = &doc.kind else {
            continue;
        };
        if !declaration_type.starts_with("com.apple.activation.") {
            continue;
        }
        let payload = doc.projection.value.get("Payload");
        let families = payload
            .and_then(|p| p.get("Predicate"))
            .and_then(Value::as_str)
            .and_then(predicate_families);
        let names = payload
            .and_then(|p| p.get("StandardConfigurations"))
            .and_then(Value::as_array);
        for name in names.into_iter().flatten().filter_map(Value::as_str) {
            let entry = reach
                .entry(name.to_string())
                .or_insert(Some(BTreeSet::new()));
            match (entry.as_mut(), &families) {
                (Some(known), Some(more)) => known.extend(more.iter().cloned()),
                _ => *entry = None,
            }
        }
    }
    reach
}

/// The families a predicate limits devices to, when it tests
/// `@status(device.operating-system.family)` with `==` or `IN {…}` (as bsic writes them) and
/// nothing can widen that (no `OR`, no `NOT`). `None` when it does not limit them.
fn predicate_families(predicate: &str) -> Option<BTreeSet<String>> {
    const FAMILY: &str = "@status(device.operating-system.family)";
    let upper = predicate.to_uppercase();
    if upper.contains(" OR ") || upper.contains("NOT ") || upper.contains("||") {
        return None;
    }
    let rest = predicate[predicate.find(FAMILY)? + FAMILY.len()..].trim_start();
    let quoted = |text: &str| -> BTreeSet<String> {
        text.split(['\'', '"'])
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    if let Some(value) = rest.strip_prefix("==") {
        let value = value.trim_start();
        let end = value.get(1..)?.find(['\'', '"'])? + 2;
        return Some(quoted(value.get(..end)?)).filter(|set| !set.is_empty());
    }
    let list = rest.strip_prefix("IN")?.trim_start().strip_prefix('{')?;
    Some(quoted(&list[..list.find('}')?])).filter(|set| !set.is_empty())
}

/// Whether two declarations limited to these families can land on one device.
fn overlap(a: Option<&BTreeSet<String>>, b: Option<&BTreeSet<String>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => !a.is_disjoint(b),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_families_a_predicate_allows() {
        let set = |names: &[&str]| Some(names.iter().map(|n| n.to_string()).collect());
        assert_eq!(
            predicate_families("@status(device.operating-system.family) == 'macOS'"),
            set(&["macOS"])
        );
        assert_eq!(
            predicate_families(
                "@status(device.operating-system.family) IN {'iOS', 'iPadOS'} AND @status(device.operating-system.version) MATCHES '^26'"
            ),
            set(&["iOS", "iPadOS"])
        );
        assert_eq!(
            predicate_families(
                "@status(device.operating-system.family) == 'macOS' OR TRUEPREDICATE"
            ),
            None
        );
        assert_eq!(predicate_families("TRUEPREDICATE"), None);
        assert_eq!(
            predicate_families("@status(device.operating-system.family) =="),
            None
        );
        assert_eq!(
            predicate_families("@status(device.operating-system.family) == é"),
            None
        );
        assert!(!overlap(set(&["macOS"]).as_ref(), set(&["iOS"]).as_ref()));
        assert!(overlap(None, set(&["iOS"]).as_ref()));
    }

    #[test]
    fn orders_versions() {
        assert!(compare_versions("26.0", "26").is_eq());
        assert!(compare_versions("15.4", "15.0.1").is_gt());
        assert!(compare_versions("9.0", "10.0").is_lt());
    }
}
