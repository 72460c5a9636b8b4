//! `bsic import`: software-update declarations and Restrictions / `com.apple.SoftwareUpdate`
//! profiles → a bsic policy file, the reverse of `model::knobs::KNOBS`, `emit::ddm` and
//! `emit::profile`.
//!
//! In: files already parsed and validated by `raw::load_and_check`. Out: KDL text in the
//! layout `bsic fmt` uses, plus a warning for every key bsic has no syntax for, so nothing is
//! dropped silently. This module renders text only; the CLI writes it.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::diag::Diagnostic;
use crate::model::knobs::{
    ENFORCE_KEYS, KNOBS, LEGACY_PAYLOADS, SECTIONS, is_legacy_enabler, knob_for, knob_for_legacy,
};
use crate::raw::diags::RawKind;
use crate::source::Span;
use crate::validate::push_pointer;

use super::{Doc, DocKind};

use crate::apple::types::{
    ENFORCEMENT as ENFORCEMENT_TYPE, SETTINGS as SETTINGS_TYPE,
    SOFTWARE_UPDATE as SOFTWARE_UPDATE_TYPE,
};

/// One policy to write.
#[derive(Debug, Default)]
struct Imported {
    name: String,
    source: String,
    /// Apple settings key → value, as in the settings declaration payload.
    settings: BTreeMap<String, Value>,
    /// `enforce` properties in order.
    enforce: Vec<(&'static str, String)>,
    /// True when a key only macOS honours came from a macOS-only payload.
    macos_only: bool,
}

/// What an import produced: the KDL text and the keys left behind.
#[derive(Debug, Default)]
pub struct ImportResult {
    pub text: String,
    pub policies: usize,
    pub diagnostics: Vec<Diagnostic>,
}

/// What one document turns into, worked out on the core that checked it (which then frees
/// the document): its policy, when it carries anything bsic can express, and a warning for
/// each key left out.
#[derive(Debug)]
pub(crate) struct Converted {
    policy: Option<Imported>,
    diagnostics: Vec<Diagnostic>,
}

/// Converts one parsed document; its policy is named later, in file order.
pub(crate) fn convert(doc: &Doc) -> Converted {
    let mut converted = Converted {
        policy: None,
        diagnostics: Vec::new(),
    };
    let mut policy = Imported::default();
    let value = &doc.projection.value;
    let mut skipped: Vec<String> = Vec::new();
    match &doc.kind {
        DocKind::Declaration { declaration_type } if declaration_type == SETTINGS_TYPE => {
            if let Some(payload) = value.get("Payload") {
                settings_from_payload(payload, "", "/Payload", &mut policy, &mut skipped);
            }
        }
        DocKind::Declaration { declaration_type } if declaration_type == ENFORCEMENT_TYPE => {
            enforce_from_payload(value.get("Payload"), &mut policy, &mut skipped);
        }
        DocKind::Declaration { declaration_type } => {
            converted.diagnostics.push(Diagnostic::warning(
                RawKind::NotImported {
                    key: declaration_type.clone(),
                },
                doc.projection
                    .spans
                    .value("/Type")
                    .unwrap_or(Span::start_of(doc.file)),
                "bsic has no policy syntax for this declaration type",
            ));
            return converted;
        }
        DocKind::Profile => profile_into(value, &mut policy, &mut skipped),
    }
    for pointer in skipped {
        let key = pointer
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace("~1", "/")
            .replace("~0", "~");
        converted.diagnostics.push(Diagnostic::warning(
            RawKind::NotImported { key },
            doc.projection
                .spans
                .key(&pointer)
                .unwrap_or(Span::start_of(doc.file)),
            "left out of the policy",
        ));
    }
    if !(policy.settings.is_empty() && policy.enforce.is_empty()) {
        converted.policy = Some(policy);
    }
    converted
}

/// Turns converted documents, each with its file's display name, into a policy file for
/// `group`; `define_group` adds its `group` node. Policies are named after their files, in
/// file order.
pub(crate) fn import(
    converted: Vec<(Converted, String)>,
    group: &str,
    define_group: bool,
) -> ImportResult {
    let mut result = ImportResult::default();
    let mut policies = Vec::new();
    let mut used = HashSet::new();
    for (converted, display) in converted {
        result.diagnostics.extend(converted.diagnostics);
        if let Some(mut policy) = converted.policy {
            policy.name = unique_name(&display, &mut used);
            policy.source = display;
            policies.push(policy);
        }
    }
    result.policies = policies.len();
    result.text = render(&policies, group, define_group);
    result
}

/// A policy name from a file name, unlike every name in `used` (which keeps them lower-case:
/// names differing only in case would be one to a reader).
fn unique_name(display: &str, used: &mut HashSet<String>) -> String {
    let stem = std::path::Path::new(display)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut base: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    base = base.trim_start_matches(['-', '_', '.']).to_string();
    if base.is_empty() {
        base = "imported".into();
    }
    base.truncate(56);
    let mut name = base.clone();
    let mut n = 2;
    while !used.insert(name.to_ascii_lowercase()) {
        name = format!("{base}-{n}");
        n += 1;
    }
    name
}

fn settings_from_payload(
    value: &Value,
    dotted: &str,
    pointer: &str,
    policy: &mut Imported,
    skipped: &mut Vec<String>,
) {
    let Value::Object(map) = value else { return };
    for (key, inner) in map {
        let name = if dotted.is_empty() {
            key.clone()
        } else {
            format!("{dotted}.{key}")
        };
        let child = push_pointer(pointer, key);
        if knob_for(&name).is_some() {
            policy.settings.insert(name, inner.clone());
        } else if inner.is_object()
            && KNOBS
                .iter()
                .any(|k| k.apple_key.starts_with(&format!("{name}.")))
        {
            settings_from_payload(inner, &name, &child, policy, skipped);
        } else {
            skipped.push(child);
        }
    }
}

fn enforce_from_payload(payload: Option<&Value>, policy: &mut Imported, skipped: &mut Vec<String>) {
    let Some(Value::Object(map)) = payload else {
        return;
    };
    for (key, value) in map {
        let Some((property, _)) = ENFORCE_KEYS.iter().find(|(_, apple)| apple == key) else {
            skipped.push(push_pointer("/Payload", key));
            continue;
        };
        if let Some(text) = value.as_str() {
            policy.enforce.push((property, text.to_string()));
        }
    }
    policy
        .enforce
        .sort_by_key(|(p, _)| ENFORCE_KEYS.iter().position(|(o, _)| o == p));
}

/// The reverse of `emit::profile`: legacy keys back to settings keys, through each knob's
/// [`Legacy`](crate::model::knobs::Legacy) equivalent.
fn profile_into(value: &Value, policy: &mut Imported, skipped: &mut Vec<String>) {
    let Some(Value::Array(items)) = value.get("PayloadContent") else {
        return;
    };
    for (index, item) in items.iter().enumerate() {
        let root = format!("/PayloadContent/{index}");
        let payload_type = item
            .get("PayloadType")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(map) = item.as_object() else {
            continue;
        };
        if !LEGACY_PAYLOADS.contains(&payload_type) {
            skipped.push(push_pointer(&root, "PayloadType"));
            continue;
        }
        for (key, inner) in map {
            if key.starts_with("Payload") {
                continue;
            }
            // Set to `true` alongside the value it enables: implied by that value.
            if inner.as_bool() == Some(true) && is_legacy_enabler(payload_type, key) {
                continue;
            }
            let target = knob_for_legacy(payload_type, key).and_then(|knob| {
                let value = knob.legacy?.from_profile(inner)?;
                Some((knob.apple_key, value))
            });
            // A macOS-only payload's key is kept only if its DDM equivalent works on macOS:
            // the policy it becomes must build.
            let target = target.filter(|(apple_key, _)| {
                payload_type != SOFTWARE_UPDATE_TYPE || available_on_macos(apple_key)
            });
            match target {
                Some((apple_key, value)) => {
                    if payload_type == SOFTWARE_UPDATE_TYPE {
                        policy.macos_only = true;
                    }
                    policy.settings.insert(apple_key.to_string(), value);
                }
                None => skipped.push(push_pointer(&root, key)),
            }
        }
    }
}

/// Whether Apple's settings declaration honours `apple_key` on macOS.
fn available_on_macos(apple_key: &str) -> bool {
    crate::apple::declaration_key(SETTINGS_TYPE, apple_key)
        .and_then(|key| key.platforms.get("macOS"))
        .is_some_and(crate::apple::OsSupport::available)
}

/// `AlwaysOn` → `always-on`.
fn kebab(apple: &str) -> String {
    let mut out = String::new();
    for (i, c) in apple.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Bool(b) => format!("#{b}"),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.chars().any(|c| c.is_ascii_uppercase()) => quote(&kebab(s)),
        Value::String(s) => quote(s),
        Value::Null => "#null".into(),
        other => quote(&other.to_string()),
    }
}

fn program(value: &Value) -> String {
    let text = |k: &str| quote(value.get(k).and_then(Value::as_str).unwrap_or(""));
    format!(
        "description={} token={}",
        text("Description"),
        text("Token")
    )
}

/// Platforms on which every imported key has an effect, when that is not all of them.
fn platforms(policy: &Imported) -> Option<Vec<&'static str>> {
    if policy.macos_only {
        return Some(vec!["macOS"]);
    }
    let all = ["macOS", "iOS", "iPadOS", "tvOS", "visionOS"];
    let kept: Vec<&'static str> = all
        .into_iter()
        .filter(|p| {
            let column = if *p == "iPadOS" { "iOS" } else { p };
            policy.settings.keys().all(|key| {
                crate::apple::declaration_key(SETTINGS_TYPE, key)
                    .and_then(|k| k.platforms.get(column))
                    .is_none_or(crate::apple::OsSupport::available)
            })
        })
        .collect();
    (kept.len() < all.len() && !kept.is_empty()).then_some(kept)
}

fn render(policies: &[Imported], group: &str, define_group: bool) -> String {
    let mut out = String::from("// Imported by `bsic import`; review before building.\n");
    if define_group {
        out.push_str(&format!(
            "group {} description=\"Devices that had the imported declarations\"\n",
            quote(group)
        ));
    }
    for policy in policies {
        out.push('\n');
        out.push_str(&format!("// From {}\n", policy.source));
        out.push_str(&format!("policy {} {{\n", quote(&policy.name)));
        out.push_str(&format!("    applies-to {}\n", quote(group)));
        if let Some(platforms) = platforms(policy) {
            let list: Vec<String> = platforms.iter().map(|p| quote(p)).collect();
            out.push_str(&format!("    platforms {}\n", list.join(" ")));
        }
        for section in SECTIONS {
            let mut lines = Vec::new();
            let mut defer = Vec::new();
            for knob in KNOBS
                .iter()
                .filter(|k| k.kdl.starts_with(&format!("{section}.")))
            {
                let Some(value) = policy.settings.get(knob.apple_key) else {
                    continue;
                };
                let rest = &knob.kdl[section.len() + 1..];
                if let Some(which) = rest.strip_prefix("defer.") {
                    defer.push(format!("{which}={}", scalar(value)));
                } else if rest == "offer-program" {
                    for item in value.as_array().into_iter().flatten() {
                        lines.push(format!("offer-program {}", program(item)));
                    }
                } else if rest == "require-program" {
                    lines.push(format!("require-program {}", program(value)));
                } else {
                    lines.push(format!("{rest} {}", scalar(value)));
                }
            }
            if !defer.is_empty() {
                lines.push(format!("defer {}", defer.join(" ")));
            }
            if lines.is_empty() {
                continue;
            }
            out.push_str(&format!("    {section} {{\n"));
            for line in lines {
                out.push_str(&format!("        {line}\n"));
            }
            out.push_str("    }\n");
        }
        if !policy.enforce.is_empty() {
            let props: Vec<String> = policy
                .enforce
                .iter()
                .map(|(k, v)| format!("{k}={}", quote(v)))
                .collect();
            out.push_str(&format!("    enforce {}\n", props.join(" ")));
        }
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use serde_json::{Map, json};

    use crate::diag::Diagnostics;
    use crate::model::knobs::{every_knob_policy, settings_of};
    use crate::model::{Platform, PolicyFile};
    use crate::source::{FileId, ParsedFile, parse_kdl};

    /// Renders `imported` as a policy file, reads it back through the validate stage's
    /// schema and model, and returns the settings the policy sets.
    fn settings_after_import(mut imported: Imported) -> BTreeMap<&'static str, Value> {
        imported.name = "every-knob".into();
        let text = render(&[imported], "all", false);
        let file = FileId(0);
        let document = parse_kdl(file, &text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let parsed = ParsedFile {
            file,
            document: Arc::new(document),
        };
        let mut diagnostics = Diagnostics::default();
        let read = crate::validate::validate_document::<PolicyFile>(&parsed, &mut diagnostics);
        let (policies, _) = read.unwrap_or_else(|| panic!("{diagnostics:?}\n{text}"));
        settings_of(&policies.policy[0])
            .into_iter()
            .map(|(knob, value)| (knob.apple_key, value))
            .collect()
    }

    /// The forward mappings (policy → settings declaration key, policy → profile key) and the
    /// reverse ones (`bsic import`: declaration or profile key → policy) agree for every
    /// knob: a policy that sets each knob comes back with the same values.
    #[test]
    fn every_knob_round_trips() {
        let set: BTreeMap<&'static str, Value> = settings_of(&every_knob_policy())
            .into_iter()
            .map(|(knob, value)| (knob.apple_key, value))
            .collect();
        assert_eq!(set.len(), KNOBS.len(), "the policy sets every knob");

        // The settings declaration payload: dotted Apple keys nested.
        let mut payload = json!({});
        for (key, value) in &set {
            match key.split_once('.') {
                Some((parent, leaf)) => payload[parent][leaf] = value.clone(),
                None => payload[*key] = value.clone(),
            }
        }
        let mut imported = Imported::default();
        let mut skipped = Vec::new();
        settings_from_payload(&payload, "", "/Payload", &mut imported, &mut skipped);
        assert!(skipped.is_empty(), "{skipped:?}");
        assert_eq!(settings_after_import(imported), set);

        // The macOS profile, which takes every legacy key.
        let mut payloads: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
        for knob in KNOBS {
            let Some(legacy) = knob.legacy else { continue };
            let keys = legacy.profile_keys(&set[knob.apple_key], Platform::MacOs);
            let keys = keys.unwrap_or_else(|| panic!("{} writes no profile key", knob.kdl));
            let content = payloads.entry(legacy.payload).or_default();
            content.insert("PayloadType".into(), legacy.payload.into());
            for (key, value) in keys {
                content.insert(key.into(), value.into());
            }
        }
        let profile = json!({ "PayloadContent": payloads.into_values().collect::<Vec<_>>() });
        let mut imported = Imported::default();
        profile_into(&profile, &mut imported, &mut skipped);
        assert!(skipped.is_empty(), "{skipped:?}");
        let with_legacy: BTreeMap<_, _> = set
            .into_iter()
            .filter(|(key, _)| knob_for(key).is_some_and(|k| k.legacy.is_some()))
            .collect();
        assert_eq!(settings_after_import(imported), with_legacy);
    }

    #[test]
    fn names_differing_only_in_case_get_a_number() {
        let mut used = HashSet::new();
        let names: Vec<String> = [
            "ddm/A.json",
            "profiles/a.mobileconfig",
            "x/a.json",
            "!.json",
        ]
        .iter()
        .map(|display| unique_name(display, &mut used))
        .collect();
        assert_eq!(names, ["A", "a-2", "a-3", "imported"]);
    }

    #[test]
    fn converts_apple_enums() {
        assert_eq!(kebab("AlwaysOn"), "always-on");
        assert_eq!(kebab("Oldest"), "oldest");
        assert_eq!(scalar(&Value::from(true)), "#true");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
