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

/// What the cross-file rules need of one file, taken from it where it was checked (on
/// any core), so that the file's parsed tree and span map are freed there. Keeping every
/// document whole until the end took 320 MB for the 43,500 declarations of a 10,000-policy
/// build; these facts are a few values and spans each.
#[derive(Debug)]
pub(crate) struct Facts {
    file: FileId,
    /// Which rules read this file.
    role: Role,
    /// A declaration's `Identifier`.
    identifier: Option<(String, Span)>,
    /// An activation's `StandardConfigurations` (the strings), each where it is written.
    activates: Vec<(String, Span)>,
    /// The OS families an activation's predicate limits it to (`None`: any device).
    families: Option<BTreeSet<String>>,
    /// A settings declaration's leaf settings: dotted key, value, where it is written.
    settings: Option<Vec<(String, Value, Span)>>,
    /// A profile's non-empty top-level `PayloadIdentifier`.
    profile_identifier: Option<(String, Span)>,
    /// A profile's `PayloadUUID`s (its own and its payloads').
    uuids: Vec<(String, Span)>,
    /// The keys of every Restrictions payload, each where it is written.
    restrictions: Vec<(String, Span)>,
}

impl Facts {
    /// The facts of one checked file.
    pub(crate) fn of(doc: &Doc) -> Self {
        let value = &doc.projection.value;
        let value_span = |pointer: &str| value_span(doc, pointer);
        let mut facts = Self {
            file: doc.file,
            role: Role::Profile,
            identifier: None,
            activates: Vec::new(),
            families: None,
            settings: None,
            profile_identifier: None,
            uuids: Vec::new(),
            restrictions: restriction_keys(doc),
        };
        match &doc.kind {
            DocKind::Declaration { declaration_type } => {
                facts.identifier = value
                    .get("Identifier")
                    .and_then(Value::as_str)
                    .map(|id| (id.to_string(), value_span("/Identifier")));
                facts.role = Role::Declaration;
                if declaration_type.starts_with("com.apple.activation.") {
                    facts.role = Role::Activation;
                    let payload = value.get("Payload");
                    facts.families = payload
                        .and_then(|p| p.get("Predicate"))
                        .and_then(Value::as_str)
                        .and_then(predicate_families);
                    let names = payload
                        .and_then(|p| p.get("StandardConfigurations"))
                        .and_then(Value::as_array);
                    facts.activates = names
                        .into_iter()
                        .flatten()
                        .enumerate()
                        .filter_map(|(index, name)| {
                            let at =
                                value_span(&format!("/Payload/StandardConfigurations/{index}"));
                            Some((name.as_str()?.to_string(), at))
                        })
                        .collect();
                }
                if declaration_type == SETTINGS_TYPE {
                    facts.settings = value.get("Payload").map(|payload| {
                        let mut found = BTreeMap::new();
                        leaves(payload, "", "/Payload", &mut found);
                        found
                            .into_iter()
                            .map(|(key, (value, pointer))| (key, value, value_span(&pointer)))
                            .collect()
                    });
                }
            }
            DocKind::Profile => {
                facts.profile_identifier = value
                    .get("PayloadIdentifier")
                    .and_then(Value::as_str)
                    .filter(|id| !id.trim().is_empty())
                    .map(|id| (id.to_string(), value_span("/PayloadIdentifier")));
                facts.uuids = crate::raw::payload_uuids(value)
                    .into_iter()
                    .map(|(uuid, pointer)| (uuid, value_span(&pointer)))
                    .collect();
            }
        }
        facts
    }

    fn is_activation(&self) -> bool {
        self.role == Role::Activation
    }
}

/// The kind of file the facts come from, as far as the rules tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Profile,
    /// An activation (`com.apple.activation.*`).
    Activation,
    /// Any other declaration.
    Declaration,
}

/// The keys of every Restrictions payload of `doc`, each where it is written.
fn restriction_keys(doc: &Doc) -> Vec<(String, Span)> {
    let Some(Value::Array(items)) = doc.projection.value.get("PayloadContent") else {
        return Vec::new();
    };
    let mut keys = Vec::new();
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
            keys.push((key.clone(), at));
        }
    }
    keys
}

/// The rules that need every file at once. Each reads the files' facts on its own, so the
/// three independent ones run side by side when there are files enough to be worth the
/// pool's threads; their findings are appended in one fixed order.
pub(in crate::raw) fn cross_file(files: &[Facts], out: &mut Diagnostics) {
    let rule = |check: fn(&[Facts], &mut Diagnostics)| {
        let mut found = Diagnostics::default();
        check(files, &mut found);
        found
    };
    let (identities, (restrictions, settings)) = parallel::join(
        files.len(),
        || {
            let mut found = Diagnostics::default();
            let identifiers = declaration_identifiers(files, &mut found);
            profile_ids(files, &mut found);
            dangling_activations(files, &identifiers, &mut found);
            found
        },
        || {
            parallel::join(
                files.len(),
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
fn declaration_identifiers<'a>(
    files: &'a [Facts],
    out: &mut Diagnostics,
) -> BTreeMap<&'a str, Span> {
    let mut identifiers: BTreeMap<&str, Span> = BTreeMap::new();
    for facts in files {
        let Some((id, at)) = &facts.identifier else {
            continue;
        };
        match identifiers.get(id.as_str()) {
            Some(first) => out.push(
                Diagnostic::error(
                    RawKind::DuplicateIdentifier {
                        identifier: id.clone(),
                    },
                    *at,
                    "used again here",
                )
                .with_related(*first, "first used here"),
            ),
            None => {
                identifiers.insert(id, *at);
            }
        }
    }
    identifiers
}

/// Activations naming configurations that are not among the files.
fn dangling_activations(
    files: &[Facts],
    identifiers: &BTreeMap<&str, Span>,
    out: &mut Diagnostics,
) {
    for facts in files.iter().filter(|f| f.is_activation()) {
        for (name, at) in &facts.activates {
            if !identifiers.contains_key(name.as_str()) {
                out.push(Diagnostic::warning(
                    RawKind::MissingConfiguration {
                        identifier: name.clone(),
                    },
                    *at,
                    "not found among the validated files",
                ));
            }
        }
    }
}

/// The same restriction key in profiles of two files.
fn restrictions_twice(files: &[Facts], out: &mut Diagnostics) {
    let mut restrictions: BTreeMap<&str, (FileId, Span)> = BTreeMap::new();
    for facts in files {
        for (key, at) in &facts.restrictions {
            match restrictions.get(key.as_str()) {
                Some((file, first)) if *file != facts.file => out.push(
                    Diagnostic::warning(
                        RawKind::ManagedTwice { key: key.clone() },
                        *at,
                        "again here",
                    )
                    .with_related(*first, "first managed here"),
                ),
                Some(_) => {}
                None => {
                    restrictions.insert(key, (facts.file, *at));
                }
            }
        }
    }
}

/// Software-update settings that contradict each other, on a device that can get both.
fn contradicting_settings(files: &[Facts], out: &mut Diagnostics) {
    let reach = families_reached(files);
    let mut settings: BTreeMap<&str, Vec<SeenValue<'_>>> = BTreeMap::new();
    for facts in files {
        let Some(located) = &facts.settings else {
            continue;
        };
        let families = facts
            .identifier
            .as_ref()
            .and_then(|(id, _)| reach.get(id.as_str()))
            .and_then(Option::as_ref);
        for (key, value, at) in located {
            let seen = settings.entry(key).or_default();
            let clash = seen
                .iter()
                .find(|(first, _, other)| *first != value && overlap(families, *other));
            if let Some((first, first_at, _)) = clash {
                out.push(
                    Diagnostic::warning(
                        RawKind::Contradiction {
                            key: key.clone(),
                            first: value.to_string(),
                            second: first.to_string(),
                        },
                        *at,
                        "this value",
                    )
                    .with_related(*first_at, "the other value"),
                );
            } else if !seen.iter().any(|(v, _, f)| *v == value && *f == families) {
                seen.push((value, *at, families));
            }
        }
    }
}

/// Profiles in different files that share a top-level `PayloadIdentifier` (the second
/// installed replaces the first) or any `PayloadUUID`. Repeats inside one profile are
/// reported where that profile is checked.
fn profile_ids(files: &[Facts], out: &mut Diagnostics) {
    let mut identifiers: BTreeMap<&str, (FileId, Span)> = BTreeMap::new();
    let mut uuids: BTreeMap<String, (FileId, Span)> = BTreeMap::new();
    for facts in files.iter().filter(|f| f.role == Role::Profile) {
        let mut found = Vec::new();
        if let Some((id, at)) = &facts.profile_identifier {
            match identifiers.get(id.as_str()) {
                Some((file, first)) if *file != facts.file => {
                    found.push(("PayloadIdentifier", id.clone(), "profile", *at, *first))
                }
                Some(_) => {}
                None => {
                    identifiers.insert(id, (facts.file, *at));
                }
            }
        }
        for (uuid, at) in &facts.uuids {
            match uuids.get(&uuid.to_uppercase()) {
                Some((file, first)) if *file != facts.file => {
                    found.push(("PayloadUUID", uuid.clone(), "profile", *at, *first));
                }
                Some(_) => {}
                None => {
                    uuids.insert(uuid.to_uppercase(), (facts.file, *at));
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
type SeenValue<'a> = (&'a Value, Span, Option<&'a BTreeSet<String>>);

/// Declaration identifier → the OS families (`macOS`, `iOS`, …) that the activations naming it
/// can activate it on; `None` when any device could (an activation without a family test, or
/// none among the files). A macOS and an iOS settings declaration never meet on one device.
fn families_reached(files: &[Facts]) -> BTreeMap<&str, Option<BTreeSet<String>>> {
    let mut reach: BTreeMap<&str, Option<BTreeSet<String>>> = BTreeMap::new();
    for facts in files.iter().filter(|f| f.is_activation()) {
        for (name, _) in &facts.activates {
            let entry = reach.entry(name).or_insert(Some(BTreeSet::new()));
            match (entry.as_mut(), &facts.families) {
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
