//! The rules that need every file at once: duplicate identifiers, activations naming
//! missing configurations, a restriction managed by two profiles, software-update settings
//! that contradict each other on a device that can get both.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::apple::types::{RESTRICTIONS as RESTRICTIONS_TYPE, SETTINGS as SETTINGS_TYPE};
use crate::diag::{Diagnostic, Diagnostics};
use crate::parallel;
use crate::raw::diags::RawKind;
use crate::source::{FileId, Span};
use crate::validate::push_pointer;

use super::{Doc, DocKind, dotted_key, key_span};

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

/// The rules that need every file at once. Each reads the documents on its own, so the
/// three independent ones run side by side when there are files enough to be worth the
/// pool's threads; their findings are appended in one fixed order.
pub(in crate::raw) fn cross_file(docs: &[Doc], out: &mut Diagnostics) {
    let parallel = docs.len() > 16;
    let rule = |check: fn(&[Doc], &mut Diagnostics)| {
        let mut found = Diagnostics::default();
        check(docs, &mut found);
        found
    };
    let (identities, (restrictions, settings)) = parallel::join(
        parallel,
        || {
            let mut found = Diagnostics::default();
            let identifiers = declaration_identifiers(docs, &mut found);
            profile_ids(docs, &mut found);
            dangling_activations(docs, &identifiers, &mut found);
            found
        },
        || {
            parallel::join(
                parallel,
                || rule(restrictions_twice),
                || rule(contradicting_settings),
            )
        },
    );
    out.append(identities);
    out.append(restrictions);
    out.append(settings);
}

/// Where `pointer`'s value is written in `doc`, else the file's start.
fn value_span(doc: &Doc, pointer: &str) -> Span {
    doc.projection
        .spans
        .value(pointer)
        .unwrap_or(Span::start_of(doc.file))
}

/// Every declaration identifier with where it is first written; a repeat is an error.
fn declaration_identifiers<'a>(docs: &'a [Doc], out: &mut Diagnostics) -> BTreeMap<&'a str, Span> {
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
        let at = value_span(doc, "/Identifier");
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
    identifiers
}

/// Activations naming configurations that are not among the files.
fn dangling_activations(docs: &[Doc], identifiers: &BTreeMap<&str, Span>, out: &mut Diagnostics) {
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
                    value_span(doc, &format!("/Payload/StandardConfigurations/{index}")),
                    "not found among the validated files",
                ));
            }
        }
    }
}

/// The same restriction key in profiles of two files.
fn restrictions_twice(docs: &[Doc], out: &mut Diagnostics) {
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
}

/// Software-update settings that contradict each other, on a device that can get both.
fn contradicting_settings(docs: &[Doc], out: &mut Diagnostics) {
    let reach = families_reached(docs);
    let settings_docs: Vec<&Doc> = docs
        .iter()
        .filter(|doc| {
            matches!(&doc.kind, DocKind::Declaration { declaration_type } if declaration_type == SETTINGS_TYPE)
        })
        .collect();
    // Each file's settings, with where each is written, on every core: walking the payloads
    // and locating every value on one thread was the longest part of this rule.
    let per_doc = crate::parallel::map(settings_docs, 16, |_, doc| {
        let payload = doc.projection.value.get("Payload")?;
        let families = doc
            .projection
            .value
            .get("Identifier")
            .and_then(Value::as_str)
            .and_then(|id| reach.get(id))
            .and_then(Option::as_ref);
        let mut found = BTreeMap::new();
        leaves(payload, "", "/Payload", &mut found);
        let located: Vec<(String, Value, Span)> = found
            .into_iter()
            .map(|(key, (value, pointer))| (key, value, value_span(doc, &pointer)))
            .collect();
        Some((families, located))
    });
    let mut settings: BTreeMap<String, Vec<SeenValue<'_>>> = BTreeMap::new();
    for (families, located) in per_doc.into_iter().flatten() {
        for (key, value, at) in located {
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
        let mut found = Vec::new();
        if let Some(id) = doc
            .projection
            .value
            .get("PayloadIdentifier")
            .and_then(Value::as_str)
            .filter(|id| !id.trim().is_empty())
        {
            let at = value_span(doc, "/PayloadIdentifier");
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
        for (uuid, pointer) in crate::raw::payload_uuids(&doc.projection.value) {
            let at = value_span(doc, &pointer);
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
}
