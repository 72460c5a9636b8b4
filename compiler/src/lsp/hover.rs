//! Hover text: Apple's facts for a knob, or what a device in a group gets.
//!
//! In: the buffer, the cursor's context and the last checked project. Out: Markdown. Apple's
//! facts (values, default, availability, combine rule) come from the generated Apple data the
//! `bsic keys` command reads; the prose is ours. Never reads files.

use std::fmt::Write;

use serde_json::Value;

use crate::apple::{self, Key};
use crate::model::knobs::{ENFORCE_KEYS, KNOBS};
use crate::pipeline::Checked;
use crate::resolve::{self, DeviceQuery};
use crate::validate::SchemaDoc;

use super::context::Context;

use crate::apple::types::ENFORCEMENT;
use crate::apple::types::SETTINGS;
const SETTINGS_DOC: &str =
    "https://developer.apple.com/documentation/devicemanagement/softwareupdatesettings";
const ENFORCEMENT_DOC: &str =
    "https://developer.apple.com/documentation/devicemanagement/softwareupdateenforcementspecific";

/// What a knob does, and the Background Security Improvement fact worth knowing, per KDL path.
const FACTS: &[(&str, &str, &str)] = &[
    (
        "os-updates.notifications",
        "Whether the device tells the user about pending updates.",
        "A BSI installs quietly either way; this only affects OS update prompts.",
    ),
    (
        "os-updates.defer.combined",
        "Days to hold back every update from users after Apple releases it (one period for all kinds).",
        "BSIs ignore deferrals: a deferral never delays a Background Security Improvement.",
    ),
    (
        "os-updates.defer.major",
        "Days to hold back a new major OS release from users.",
        "BSIs ignore deferrals: a deferral never delays a Background Security Improvement.",
    ),
    (
        "os-updates.defer.minor",
        "Days to hold back minor OS updates (x.y and x.y.z) from users.",
        "BSIs ignore deferrals: a deferral never delays a Background Security Improvement.",
    ),
    (
        "os-updates.defer.system",
        "Days to hold back system and non-OS updates (such as data files) from users.",
        "BSIs ignore deferrals: a deferral never delays a Background Security Improvement.",
    ),
    (
        "os-updates.recommended-cadence",
        "Which update Software Update recommends when both a minor update and a new major release are out.",
        "BSIs follow the installed OS version, whatever the cadence.",
    ),
    (
        "os-updates.download",
        "Whether the device downloads OS updates in the background on its own.",
        "BSIs have their own switch: `background-security.automatic-install`.",
    ),
    (
        "os-updates.install",
        "Whether the device installs downloaded OS updates on its own.",
        "BSIs have their own switch: `background-security.automatic-install`.",
    ),
    (
        "background-security.automatic-install",
        "Whether Background Security Improvements install automatically, with no user action.",
        "A BSI applies on top of its base OS build only: a device on another build first needs the base update.",
    ),
    (
        "background-security.offer",
        "Whether the device is offered Background Security Improvements at all.",
        "Turning this off keeps devices on the plain OS build until the next full update.",
    ),
    (
        "background-security.allow-rollback",
        "Whether the user may remove an installed Background Security Improvement.",
        "Removing a BSI returns the device to its base build; the fix it carried is gone until re-installed.",
    ),
    (
        "os-updates.allow-standard-user-updates",
        "Whether users without admin rights may install OS updates.",
        "BSIs install without an admin either way.",
    ),
    (
        "beta.enrollment",
        "Whether the device may enroll in Apple's beta programs.",
        "Beta builds receive their own BSIs; a build pinned by `enforce` must not be a beta.",
    ),
    (
        "beta.offer-program",
        "Beta programs offered to the user (description and token).",
        "Beta builds receive their own BSIs.",
    ),
    (
        "beta.require-program",
        "A beta program the device is enrolled in, with no choice for the user.",
        "Beta builds receive their own BSIs.",
    ),
    (
        "enforce.version",
        "The OS version the device must reach by the deadline.",
        "To enforce a BSI, give its base version here and the BSI build in `build`: bsic stages the base first.",
    ),
    (
        "enforce.build",
        "The exact build to install, e.g. a BSI build such as `25D771280a`.",
        "A BSI build installs on top of its base version only, so bsic enforces the base build first.",
    ),
    (
        "enforce.by",
        "The local date and time by which the device installs the target (no offset: the device's time zone).",
        "After the deadline the device installs and restarts on its own.",
    ),
    (
        "enforce.details",
        "A web page that tells users about the update.",
        "Shown in Software Update beside the enforced target.",
    ),
];

/// The KDL path of the node or property under the cursor, e.g. `background-security.offer`:
/// the enclosing blocks (without the top-level `policy`), the statement's node, the word.
pub(crate) fn knob_path(cx: &Context, word: &str, property: bool) -> String {
    let mut parts: Vec<&str> = cx.parents.iter().skip(1).map(String::as_str).collect();
    if property && let Some(head) = cx.head() {
        parts.push(head);
    }
    parts.push(word);
    parts.join(".")
}

/// The Apple payload type, key and documentation page a KDL path sets.
fn apple_key_of(path: &str) -> Option<(&'static str, &'static str, &'static str)> {
    if let Some(knob) = KNOBS.iter().find(|k| k.kdl == path) {
        return Some((SETTINGS, knob.apple_key, SETTINGS_DOC));
    }
    let property = path.strip_prefix("enforce.")?;
    let (_, key) = ENFORCE_KEYS.iter().find(|(p, _)| *p == property)?;
    Some((ENFORCEMENT, key, ENFORCEMENT_DOC))
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn values(key: &Key) -> Option<String> {
    if let Some(list) = &key.rangelist {
        let shown: Vec<String> = list.iter().map(|v| format!("`{}`", show(v))).collect();
        return Some(shown.join(", "));
    }
    let range = key.range.as_ref()?;
    let bound = |k: &str| range.get(k).map_or_else(|| "…".to_string(), show);
    Some(format!("{}..{}", bound("min"), bound("max")))
}

/// Markdown for a knob, or `None` when the path sets no Apple key.
pub(crate) fn knob(path: &str, schema: &SchemaDoc<'_>, pointer: &str) -> Option<String> {
    let (payload, key_name, doc) = apple_key_of(path)?;
    let key = apple::declaration_key(payload, key_name);
    let mut md = format!("**`{path}`** → Apple `{key_name}`\n\n");
    if let Some((_, what, bsi)) = FACTS.iter().find(|(p, _, _)| *p == path) {
        let _ = writeln!(md, "{what}\n\n**BSI:** {bsi}\n");
    }
    if let Some(description) = schema
        .at(pointer)
        .and_then(|s| s.get("description"))
        .and_then(Value::as_str)
    {
        let _ = writeln!(md, "_{}_\n", description.replace('\n', " "));
    }
    if let Some(key) = key {
        if let Some(title) = &key.title {
            let _ = writeln!(md, "- Apple: {title} (`{payload}`)");
        }
        if let Some(values) = values(key) {
            let _ = writeln!(md, "- Values: {values}");
        } else if let Some(t) = &key.value_type {
            let _ = writeln!(md, "- Type: {t}");
        }
        if let Some(default) = &key.default {
            let _ = writeln!(md, "- Default: `{}`", show(default));
        }
        if let Some(rule) = &key.combinetype {
            let _ = writeln!(
                md,
                "- Combine rule: `{rule}` (when several declarations set it)"
            );
        }
        let platforms: Vec<String> = key
            .platforms
            .iter()
            .filter(|(os, _)| os.as_str() != "watchOS")
            .map(|(os, support)| format!("{os} {}", support.summary()))
            .collect();
        if !platforms.is_empty() {
            let _ = writeln!(md, "- Availability: {}", platforms.join("; "));
        }
    }
    legacy_keys(path, &mut md);
    let _ = writeln!(md, "\n[Apple documentation]({doc})");
    Some(md)
}

/// The legacy profile keys a knob also sets for older devices, with Apple's current
/// availability (deprecations and removals included) and what Apple says to use instead.
fn legacy_keys(path: &str, md: &mut String) {
    for legacy in KNOBS
        .iter()
        .filter(|k| k.kdl == path)
        .filter_map(|k| k.legacy)
    {
        let (payload, key_name) = (legacy.payload, legacy.key);
        let Some(key) = apple::profile_key(payload, key_name) else {
            continue;
        };
        let platforms: Vec<String> = key
            .platforms
            .iter()
            .filter(|(os, support)| os.as_str() != "watchOS" && support.available())
            .map(|(os, support)| format!("{os} {}", support.summary()))
            .collect();
        let _ = write!(
            md,
            "- Legacy profile key `{key_name}` (`{payload}`): {}",
            platforms.join("; ")
        );
        if let Some(replacement) = apple::profile_replacement(payload, key_name) {
            let _ = write!(md, "; Apple: use {replacement} instead");
        }
        md.push('\n');
    }
}

/// Markdown for a node that sets no key itself: its schema description.
pub(crate) fn node(path: &str, schema: &SchemaDoc<'_>, pointer: &str) -> Option<String> {
    let description = schema.at(pointer)?.get("description")?.as_str()?;
    let mut md = format!("**`{path}`**\n\n{description}\n");
    let children: Vec<&str> = KNOBS
        .iter()
        .filter_map(|k| k.kdl.strip_prefix(path)?.strip_prefix('.'))
        .collect();
    if !children.is_empty() {
        let _ = writeln!(md, "\nSets: {}", children.join(", "));
    }
    if path == "enforce" {
        let _ = writeln!(md, "\n[Apple documentation]({ENFORCEMENT_DOC})");
    } else if !children.is_empty() {
        let _ = writeln!(md, "\n[Apple documentation]({SETTINGS_DOC})");
    }
    Some(md)
}

/// Markdown for a group: what `bsic explain --group NAME` computes.
pub(crate) fn group(checked: &Checked, name: &str) -> Option<String> {
    let model = checked.model.as_ref()?;
    if !checked.resolution.graph.groups().any(|g| g == name) && name != resolve::ALL {
        return None;
    }
    let query = DeviceQuery {
        groups: vec![name.to_string()],
        platforms: Vec::new(),
        os: None,
        model: None,
    };
    let e = resolve::explain(model, &checked.resolution, &checked.project.sources, &query);
    let mut md = format!("**group `{name}`**: what a device in it gets\n\n");
    if let Some(g) = model
        .groups
        .iter()
        .find(|g| g.value.name.to_string() == name)
        && let Some(d) = &g.value.description
    {
        let _ = writeln!(md, "{d}\n");
    }
    let _ = writeln!(md, "Member of: {}\n", e.member_of.join(", "));
    if e.platforms.is_empty() {
        let _ = writeln!(md, "No policy reaches it: Apple's defaults apply.");
    }
    for platform in &e.platforms {
        let _ = writeln!(md, "**{}**\n", platform.platform.name());
        if platform.settings.is_empty() && platform.enforcement.is_empty() {
            let _ = writeln!(md, "nothing managed\n");
            continue;
        }
        let _ = writeln!(md, "| key | value | from |\n|---|---|---|");
        for key in &platform.settings {
            let from: Vec<String> = key
                .from
                .iter()
                .map(|s| format!("{} ({}:{})", s.policy, s.file, s.line))
                .collect();
            let _ = writeln!(
                md,
                "| `{}` | `{}` | ← {} |",
                key.key,
                show(&key.value),
                from.join(", ")
            );
        }
        for target in &platform.enforcement {
            let build = target
                .build
                .as_ref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default();
            let s = &target.source;
            let _ = writeln!(
                md,
                "| enforce | `{}{build}` by {} | ← {} ({}:{}) |",
                target.version, target.deadline, s.policy, s.file, s.line
            );
        }
        md.push('\n');
    }
    Some(md)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A knob's hover names its legacy profile key, from the knob table, with Apple's facts.
    #[test]
    fn a_knob_hover_names_its_legacy_profile_key() {
        let mut md = String::new();
        legacy_keys("background-security.allow-rollback", &mut md);
        assert!(
            md.contains("Legacy profile key `allowRapidSecurityResponseRemoval` (`com.apple.applicationaccess`)"),
            "{md}"
        );
        let mut none = String::new();
        legacy_keys("enforce.version", &mut none);
        assert!(none.is_empty(), "{none}");
    }
}
