//! Completion: node names, property names and values valid at the cursor.
//!
//! What is valid comes from the JSON Schema of the file kind (policy file or `bsic.kdl`) read
//! through [`SchemaDoc`], so completion cannot drift from what `bsic check` accepts. Group
//! names come from the last checked project; OS versions and builds for `enforce` from the
//! project's pinned build catalog, which the server loads. Never reads files.

use std::collections::BTreeMap;

use lsp_types::{CompletionItem, CompletionItemKind, CompletionTextEdit, Documentation, TextEdit};
use serde_json::Value;

use crate::catalog::{Catalog, Release};
use crate::model::{OsVersion, Platform};
use crate::pipeline::Checked;
use crate::resolve::ALL;
use crate::validate::{SchemaDoc, Shape};

use super::context::{Context, Statement, enclosing, outline};
use super::position::range_of;

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

/// Completion items at the cursor: node names on an empty line, else what the node's head
/// takes (groups, models, enum values, property names).
pub(crate) fn complete(
    cx: &Context,
    schema: &SchemaDoc<'_>,
    checked: Option<&Checked>,
) -> Vec<CompletionItem> {
    let Some(block) = pointer_of(schema, &cx.parents) else {
        return Vec::new();
    };
    let Some(head) = cx.head() else {
        return if cx.in_string {
            Vec::new()
        } else {
            node_names(schema, &block)
        };
    };
    let node = format!("{block}/{head}");
    if matches!(head, "applies-to" | "includes") {
        return group_names(cx, head, checked);
    }
    if head == "models" && cx.parents == ["group"] {
        return model_identifiers(cx, checked);
    }
    if let Some((property, _)) = cx.partial.split_once('=') {
        return property_values(cx, schema, &node, property);
    }
    let mut items: Vec<CompletionItem> = enum_values(schema, &node)
        .into_iter()
        .map(|(v, doc)| {
            let insert = quoted(cx, &v);
            CompletionItem {
                documentation: doc.map(Documentation::String),
                ..item(v, CompletionItemKind::ENUM_MEMBER, Some(insert))
            }
        })
        .collect();
    if !cx.in_string {
        items.extend(property_names(cx, schema, &node));
    }
    items
}

/// A value as it is inserted at the cursor: in quotes unless the cursor is already inside
/// them or the value is a KDL keyword (`#true`).
fn quoted(cx: &Context, value: &str) -> String {
    if cx.in_string || value.starts_with('#') {
        value.to_string()
    } else {
        format!("\"{value}\"")
    }
}

/// The nodes the block at `block` may hold.
fn node_names(schema: &SchemaDoc<'_>, block: &str) -> Vec<CompletionItem> {
    schema
        .property_names(block)
        .into_iter()
        .map(|name| {
            let pointer = format!("{block}/{name}");
            CompletionItem {
                documentation: description(schema, &pointer),
                ..item(name, CompletionItemKind::PROPERTY, None)
            }
        })
        .collect()
}

/// The groups of the last check, for `applies-to` (with `all`) and `includes`.
fn group_names(cx: &Context, head: &str, checked: Option<&Checked>) -> Vec<CompletionItem> {
    let mut groups: Vec<String> = checked
        .map(|c| c.resolution.graph.groups().map(String::from).collect())
        .unwrap_or_default();
    if head == "applies-to" && !groups.iter().any(|g| g == ALL) {
        groups.push(ALL.to_string());
    }
    groups
        .into_iter()
        .map(|g| {
            let insert = quoted(cx, &g);
            item(g, CompletionItemKind::REFERENCE, Some(insert))
        })
        .collect()
}

/// The model identifiers the pinned catalog's releases support (Macs' board IDs mapped to
/// model identifiers), when the last check loaded one.
fn model_identifiers(cx: &Context, checked: Option<&Checked>) -> Vec<CompletionItem> {
    let catalog = checked.and_then(|c| c.model.as_ref()?.catalog.clone());
    catalog
        .map(|c| c.all_models())
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let insert = quoted(cx, &m);
            item(m, CompletionItemKind::VALUE, Some(insert))
        })
        .collect()
}

/// The values of `property=` on the node at `node`, inserted as the whole property.
fn property_values(
    cx: &Context,
    schema: &SchemaDoc<'_>,
    node: &str,
    property: &str,
) -> Vec<CompletionItem> {
    enum_values(schema, &format!("{node}/{property}"))
        .into_iter()
        .map(|(v, doc)| {
            let insert = format!("{property}={}", quoted(cx, &v));
            CompletionItem {
                documentation: doc.map(Documentation::String),
                filter_text: Some(insert.clone()),
                ..item(v, CompletionItemKind::ENUM_MEMBER, Some(insert))
            }
        })
        .collect()
}

/// The properties the node at `node` may still take: not its argument, not those written.
fn property_names(cx: &Context, schema: &SchemaDoc<'_>, node: &str) -> Vec<CompletionItem> {
    let node_pointer = match schema.at(node).map(|s| schema.shape(s)) {
        Some(Shape::Array { .. }) => format!("{node}/0"),
        _ => node.to_string(),
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
    schema
        .property_names(&node_pointer)
        .into_iter()
        .filter(|name| !written.contains(&name.as_str()) && Some(name.as_str()) != argument)
        .map(|name| {
            let pointer = format!("{node_pointer}/{name}");
            CompletionItem {
                documentation: description(schema, &pointer),
                ..item(
                    format!("{name}="),
                    CompletionItemKind::FIELD,
                    Some(format!("{name}=")),
                )
            }
        })
        .collect()
}

/// How a value is written at the cursor.
enum Form {
    /// Inside quotes: the value itself.
    InString,
    /// `key=` and maybe some of the value, unquoted: the whole property.
    Property(&'static str),
    /// An argument, unquoted so far: the value in quotes.
    Bare,
}

/// Which `enforce` value the cursor is on, and how it is written there.
struct ReleaseSlot {
    build: bool,
    form: Form,
    /// What is typed before the cursor and will be replaced, as it stands in the buffer.
    typed: String,
}

impl ReleaseSlot {
    fn write(&self, value: &str) -> String {
        match self.form {
            Form::InString => value.to_string(),
            Form::Property(key) => format!("{key}=\"{value}\""),
            Form::Bare => format!("\"{value}\""),
        }
    }

    fn filter(&self, value: &str) -> String {
        match self.form {
            Form::Property(key) => format!("{key}={value}"),
            Form::InString | Form::Bare => value.to_string(),
        }
    }
}

/// The slot at the cursor: `enforce version="|"`, `enforce build=|`, or `version "|"` /
/// `build |` in an `enforce` block.
fn release_slot(cx: &Context) -> Option<ReleaseSlot> {
    let key = |k: &str| match k {
        "version" => Some("version"),
        "build" => Some("build"),
        _ => None,
    };
    let typed = cx.partial.clone();
    if cx.parents == ["policy"] && cx.head() == Some("enforce") {
        let (key, form) = if cx.in_string {
            let last = cx
                .tokens
                .last()
                .filter(|t| !t.quoted && cx.tokens.len() > 1)?;
            (key(last.text.strip_suffix('=')?)?, Form::InString)
        } else {
            let key = key(cx.partial.split_once('=')?.0)?;
            (key, Form::Property(key))
        };
        return Some(ReleaseSlot {
            build: key == "build",
            form,
            typed,
        });
    }
    let key = key(cx.head()?)?;
    if cx.parents != ["policy", "enforce"] || cx.tokens.len() != 1 {
        return None;
    }
    Some(ReleaseSlot {
        build: key == "build",
        form: if cx.in_string {
            Form::InString
        } else {
            Form::Bare
        },
        typed,
    })
}

/// Newest first: by version, then a BSI after its base (`(a)` before `(b)`), then date, build.
fn newest_first(a: &Release, b: &Release) -> std::cmp::Ordering {
    let key = |r: &Release| {
        (
            version_key(&r.version),
            r.extra.clone(),
            r.date.clone(),
            r.build.clone(),
        )
    };
    key(b).cmp(&key(a))
}

fn version_key(version: &str) -> (Option<OsVersion>, String) {
    (version.parse::<OsVersion>().ok(), version.to_string())
}

/// The platforms an `enforce` targets as written around the cursor: its `platform`, else the
/// enclosing policy's `platforms`. Empty when neither names a known platform.
fn written_platforms(policy: Option<&Statement>, enforce: &Statement) -> Vec<Platform> {
    let named = |name: &str| Platform::ALL.into_iter().find(|p| p.name() == name);
    if let Some(platform) = enforce.value("platform").and_then(named) {
        return vec![platform];
    }
    policy
        .and_then(|p| p.children.iter().find(|c| c.name() == Some("platforms")))
        .map(|p| p.arguments().into_iter().filter_map(named).collect())
        .unwrap_or_default()
}

/// OS versions or builds from the pinned `catalog` when the cursor is on the `version` or
/// `build` of an `enforce` in `text` (at byte `offset`): only the releases of the platforms
/// the `enforce` or its policy names, newest first, and for a build those of the `version`
/// already written on the same `enforce` first. `None` elsewhere.
pub(crate) fn releases(
    cx: &Context,
    text: &str,
    offset: usize,
    catalog: &Catalog,
) -> Option<Vec<CompletionItem>> {
    let slot = release_slot(cx)?;
    let statements = outline(text);
    let chain = enclosing(&statements, offset);
    let at = chain.iter().rposition(|s| s.name() == Some("enforce"))?;
    let enforce = chain[at];
    let policy = at.checked_sub(1).map(|i| chain[i]);
    let platforms = written_platforms(policy, enforce);
    let mut known: Vec<&Release> = if platforms.is_empty() {
        catalog.releases.iter().collect()
    } else {
        platforms.iter().flat_map(|p| catalog.on(*p)).collect()
    };
    known.sort_by(|a, b| newest_first(a, b));
    let choices = if slot.build {
        build_choices(known, enforce.value("version"))
    } else {
        version_choices(&known)
    };

    // Replace what is typed of the value, when it stands as typed in the buffer.
    let start = offset.checked_sub(slot.typed.len());
    let replace = start.filter(|s| text.get(*s..offset) == Some(slot.typed.as_str()));
    let items = choices
        .into_iter()
        .enumerate()
        .map(|(i, choice)| {
            let new_text = slot.write(&choice.value);
            CompletionItem {
                kind: Some(CompletionItemKind::VALUE),
                detail: Some(choice.detail),
                documentation: Some(Documentation::String(choice.doc)),
                sort_text: Some(format!("{i:05}")),
                filter_text: Some(slot.filter(&choice.value)),
                text_edit: replace.map(|s| {
                    CompletionTextEdit::Edit(TextEdit::new(
                        range_of(text, s, offset - s),
                        new_text.clone(),
                    ))
                }),
                insert_text: replace.is_none().then_some(new_text),
                label: choice.value,
                ..CompletionItem::default()
            }
        })
        .collect();
    Some(items)
}

/// One release value offered for an `enforce`, with its one-line detail and documentation.
struct ReleaseChoice {
    value: String,
    detail: String,
    doc: String,
}

/// Each build once, newest first; those of the `version` already written first.
fn build_choices(mut known: Vec<&Release>, version: Option<&str>) -> Vec<ReleaseChoice> {
    // Stable: the written version's builds first, each part newest first.
    known.sort_by_key(|r| version.is_some_and(|v| r.version != v));
    let mut seen = std::collections::BTreeSet::new();
    let mut choices = Vec::new();
    for release in known {
        if release.build.is_empty() || !seen.insert(release.build.as_str()) {
            continue;
        }
        let extra = release
            .extra
            .as_ref()
            .map(|e| format!(" {e}"))
            .unwrap_or_default();
        let detail = if release.is_supplemental() {
            format!(
                "{}{extra} — Background Security Improvement",
                release.version
            )
        } else {
            format!("{} — {}", release.version, release.platform)
        };
        let date = release
            .date
            .as_ref()
            .map(|d| format!(", posted {d}"))
            .unwrap_or_default();
        let doc = format!(
            "{} {}{extra}, build {}{date} (from the pinned catalog).",
            release.platform, release.version, release.build
        );
        choices.push(ReleaseChoice {
            value: release.build.clone(),
            detail,
            doc,
        });
    }
    choices
}

/// Each version once, newest first, with the platforms and builds the catalog has for it.
fn version_choices(known: &[&Release]) -> Vec<ReleaseChoice> {
    let mut versions: BTreeMap<&str, Vec<&Release>> = BTreeMap::new();
    let mut order = Vec::new();
    for release in known {
        let builds = versions.entry(release.version.as_str()).or_default();
        if builds.is_empty() {
            order.push(release.version.as_str());
        }
        builds.push(release);
    }
    order
        .into_iter()
        .map(|version| {
            let builds = &versions[version];
            let mut platforms: Vec<&str> = builds.iter().map(|r| r.platform.as_str()).collect();
            platforms.sort_unstable();
            platforms.dedup();
            let list: Vec<String> = builds
                .iter()
                .map(|r| match &r.extra {
                    Some(extra) => format!("{} {extra}", r.build),
                    None => r.build.clone(),
                })
                .collect();
            ReleaseChoice {
                value: version.to_string(),
                detail: platforms.join(", "),
                doc: format!("Builds in the pinned catalog: {}.", list.join(", ")),
            }
        })
        .collect()
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
        let group = labels("group \"g\" { |");
        assert!(group.contains(&"models".into()), "{group:?}");
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
