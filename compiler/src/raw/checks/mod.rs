//! Checks beyond one file's schema: Apple availability facts per key ([`availability`]),
//! keys no platform the file reaches honours ([`scope`]), and the cross-file rules
//! ([`cross_file`]: duplicate identifiers, dangling activations, restrictions managed twice,
//! contradicting software-update settings).
//!
//! In: parsed [`Doc`]s and the options. Out: diagnostics only; nothing is read or written.

mod availability;
mod cross_file;
mod scope;

use serde_json::Value;

use crate::apple::Payload;
use crate::source::Span;
use crate::validate::{Projection, push_pointer};

use super::{Doc, DocKind, ValidateOptions};

pub(super) use availability::availability;
pub(super) use cross_file::{Facts, cross_file};
pub(super) use scope::scope;

/// `key` under the dotted Apple key `dotted` (`AutomaticActions` + `Download`).
pub(super) fn dotted_key(dotted: &str, key: &str) -> String {
    if dotted.is_empty() {
        key.to_string()
    } else {
        format!("{dotted}.{key}")
    }
}

/// Every object key of `value` as (dotted Apple key, JSON pointer), array items skipped.
pub(super) fn keys(value: &Value, dotted: &str, pointer: &str, out: &mut Vec<(String, String)>) {
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
pub(super) fn payloads(doc: &Doc) -> Vec<(&'static Payload, &str, String, &Value)> {
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

/// Where the key at `pointer` is written, else `fallback`.
pub(super) fn key_span(projection: &Projection, pointer: &str, fallback: Span) -> Span {
    projection.spans.key(pointer).unwrap_or(fallback)
}
