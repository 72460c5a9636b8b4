//! Completion: node names, property names and values valid at the cursor.
//!
//! What is valid comes from the JSON Schema of the file kind (policy file or `bsic.kdl`) read
//! through [`SchemaDoc`], so completion cannot drift from what `bsic check` accepts. Group
//! names come from the last checked project. Never reads files.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation};
use serde_json::Value;

use crate::pipeline::Checked;
use crate::resolve::ALL;
use crate::validate::{SchemaDoc, Shape};

use super::context::Context;

/// The JSON pointer of the object the cursor's enclosing blocks stand for, e.g.
/// `/policy/0/background-security` for `policy "x" { background-security { | } }`.
pub(crate) fn pointer_of(schema: &SchemaDoc<'_>, names: &[String]) -> Option<String> {
    let mut pointer = String::new();
    for name in names {
        pointer = format!("{pointer}/{name}");
        if let Shape::Array { .. } = schema.shape(schema.at(&pointer)?) {
            pointer.push_str("/0");
        }
    }
    Some(pointer)
}

/// The description of the schema at `pointer`, for completion details.
fn description(schema: &SchemaDoc<'_>, pointer: &str) -> Option<Documentation> {
    let text = schema.at(pointer)?.get("description")?.as_str()?;
    Some(Documentation::String(text.to_string()))
}

/// The enum values a scalar (or an array of scalars) at `pointer` accepts, with descriptions.
pub(crate) fn enum_values(schema: &SchemaDoc<'_>, pointer: &str) -> Vec<(String, Option<String>)> {
    let Some(mut at) = schema.at(pointer) else {
        return Vec::new();
    };
    if let Shape::Array { items } = schema.shape(at) {
        at = schema.resolve(items);
    }
    let mut values = Vec::new();
    if let Some(list) = at.get("enum").and_then(Value::as_array) {
        values.extend(
            list.iter()
                .filter_map(|v| Some((v.as_str()?.to_string(), None))),
        );
    }
    for key in ["oneOf", "anyOf"] {
        for branch in at.get(key).and_then(Value::as_array).into_iter().flatten() {
            let branch = schema.resolve(branch);
            if let Some(value) = branch.get("const").and_then(Value::as_str) {
                let doc = branch
                    .get("description")
                    .and_then(Value::as_str)
                    .map(String::from);
                values.push((value.to_string(), doc));
            }
        }
    }
    if at.get("type").and_then(Value::as_str) == Some("boolean") {
        values.push(("#true".into(), None));
        values.push(("#false".into(), None));
    }
    values
}

fn item(label: String, kind: CompletionItemKind, insert: Option<String>) -> CompletionItem {
    CompletionItem {
        label,
        kind: Some(kind),
        insert_text: insert,
        ..CompletionItem::default()
    }
}

/// Completion items at the cursor.
pub(crate) fn complete(
    cx: &Context,
    schema: &SchemaDoc<'_>,
    checked: Option<&Checked>,
) -> Vec<CompletionItem> {
    let Some(block) = pointer_of(schema, &cx.parents) else {
        return Vec::new();
    };
    let Some(head) = cx.head() else {
        if cx.in_string {
            return Vec::new();
        }
        // A node name.
        return schema
            .property_names(&block)
            .into_iter()
            .map(|name| {
                let pointer = format!("{block}/{name}");
                CompletionItem {
                    documentation: description(schema, &pointer),
                    ..item(name, CompletionItemKind::PROPERTY, None)
                }
            })
            .collect();
    };
    let node = format!("{block}/{head}");
    let quote = |v: &str| {
        if cx.in_string || v.starts_with('#') {
            v.to_string()
        } else {
            format!("\"{v}\"")
        }
    };
    if matches!(head, "applies-to" | "includes") {
        let mut groups: Vec<String> = checked
            .map(|c| c.resolution.graph.groups().map(String::from).collect())
            .unwrap_or_default();
        if head == "applies-to" && !groups.iter().any(|g| g == ALL) {
            groups.push(ALL.to_string());
        }
        return groups
            .into_iter()
            .map(|g| {
                let insert = quote(&g);
                item(g, CompletionItemKind::REFERENCE, Some(insert))
            })
            .collect();
    }
    if let Some((property, _)) = cx.partial.split_once('=') {
        let pointer = format!("{node}/{property}");
        return enum_values(schema, &pointer)
            .into_iter()
            .map(|(v, doc)| {
                let insert = format!("{property}={}", quote(&v));
                CompletionItem {
                    documentation: doc.map(Documentation::String),
                    filter_text: Some(insert.clone()),
                    ..item(v, CompletionItemKind::ENUM_MEMBER, Some(insert))
                }
            })
            .collect();
    }
    let mut items: Vec<CompletionItem> = enum_values(schema, &node)
        .into_iter()
        .map(|(v, doc)| {
            let insert = quote(&v);
            CompletionItem {
                documentation: doc.map(Documentation::String),
                ..item(v, CompletionItemKind::ENUM_MEMBER, Some(insert))
            }
        })
        .collect();
    if !cx.in_string {
        let node_pointer = match schema.at(&node).map(|s| schema.shape(s)) {
            Some(Shape::Array { .. }) => format!("{node}/0"),
            _ => node.clone(),
        };
        let argument = match schema.at(&node_pointer).map(|s| schema.shape(s)) {
            Some(Shape::Object { argument, .. }) => argument,
            _ => None,
        };
        let written: Vec<&str> = cx
            .tokens
            .iter()
            .filter_map(|t| t.text.split_once('=').map(|(k, _)| k))
            .collect();
        for name in schema.property_names(&node_pointer) {
            if written.contains(&name.as_str()) || Some(name.as_str()) == argument {
                continue;
            }
            let pointer = format!("{node_pointer}/{name}");
            items.push(CompletionItem {
                documentation: description(schema, &pointer),
                ..item(
                    format!("{name}="),
                    CompletionItemKind::FIELD,
                    Some(format!("{name}=")),
                )
            });
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::super::context::context_at;
    use super::*;

    fn labels(text: &str) -> Vec<String> {
        let schema_value = crate::model::policy_schema();
        let schema = SchemaDoc::new(&schema_value);
        let offset = text.find('|').unwrap();
        let cx = context_at(&text.replace('|', ""), offset);
        complete(&cx, &schema, None)
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    #[test]
    fn node_names_follow_the_schema() {
        let top = labels("|");
        assert!(top.contains(&"policy".into()) && top.contains(&"group".into()));
        let policy = labels("policy \"p\" {\n  |");
        for want in ["applies-to", "platforms", "background-security", "enforce"] {
            assert!(policy.contains(&want.into()), "{want} in {policy:?}");
        }
        assert!(!policy.contains(&"name".into()));
        let bsi = labels("policy \"p\" {\n  background-security {\n    |\n  }\n}");
        for want in ["automatic-install", "offer", "allow-rollback"] {
            assert!(bsi.contains(&want.into()), "{want} in {bsi:?}");
        }
    }

    #[test]
    fn values_and_properties_after_a_knob() {
        let modes = labels("policy \"p\" { background-security { automatic-install |");
        assert_eq!(modes, ["allowed", "always-on", "always-off"]);
        let platforms = labels("policy \"p\" { platforms \"macOS\" |");
        assert!(platforms.contains(&"iPadOS".into()), "{platforms:?}");
        let defer = labels("policy \"p\" { os-updates { defer major=30 |");
        assert!(defer.contains(&"minor=".into()) && !defer.contains(&"major=".into()));
        let enforce = labels("policy \"p\" {\n  enforce |");
        assert!(enforce.contains(&"version=".into()), "{enforce:?}");
        let bools = labels("policy \"p\" { background-security { offer |");
        assert_eq!(bools, ["#true", "#false"]);
    }
}
