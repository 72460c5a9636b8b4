//! MDM adapters: the generic artifacts re-laid out the way one MDM imports them.
//!
//! In: the emitted artifacts, unsigned (Fleet's and Jamf Pro's APIs reject signed profiles,
//! and the DDM-only targets need no profile signature), plus the organisation's name. Out:
//! [`TargetFile`]s under `<target>/`, each saying where it is uploaded. Adapters only re-shape
//! what the core emitters produced: they never change a setting, read the clock or touch the
//! filesystem, so their output is as deterministic as the generic layout.
//!
//! An adapter works one group at a time ([`render_group`]), so a streamed build can lay out
//! each group as it is emitted and forget it; what spans groups (upload scripts, mapping
//! tables) comes back as [`Fragment`]s, which [`finish`] joins in group order.

mod fleet;
mod jamf;
mod kmfddm;
mod workspace_one;

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Artifact, ArtifactKind};
use crate::model::Platform;

/// An MDM whose import layout bsic writes beside the generic one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Fleet,
    Kmfddm,
    Jamf,
    WorkspaceOne,
}

impl Target {
    /// The directory name under the output directory, also the `--target` value.
    pub fn name(self) -> &'static str {
        match self {
            Target::Fleet => "fleet",
            Target::Kmfddm => "kmfddm",
            Target::Jamf => "jamf",
            Target::WorkspaceOne => "workspace-one",
        }
    }
}

/// One file of an MDM layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetFile {
    /// Path under the output directory, starting with the target's directory.
    pub path: String,
    pub bytes: Vec<u8>,
    /// Where and how the admin uploads it.
    pub upload: String,
    /// The generic artifact it carries, when it carries one.
    pub artifact: Option<String>,
}

/// What an adapter needs besides the artifacts.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub organization: &'a str,
    pub identifier_prefix: &'a str,
}

/// One group's text in a file that spans groups (an upload script, a mapping table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The spanning file, under the target's directory.
    pub path: &'static str,
    pub text: String,
}

/// What a target makes of one group: its own files, and its fragments of the spanning ones.
#[derive(Debug, Default)]
pub struct GroupLayout {
    pub files: Vec<TargetFile>,
    pub fragments: Vec<Fragment>,
}

impl GroupLayout {
    /// `files`, and the group's `text` of the one spanning file at `path`.
    fn with_fragment(files: Vec<TargetFile>, path: &'static str, text: String) -> Self {
        Self {
            files,
            fragments: vec![Fragment { path, text }],
        }
    }
}

/// The layout of `target` for one group: `members` are every artifact of `group`, unsigned,
/// sorted by path.
pub fn render_group(
    target: Target,
    group: &str,
    members: &[&Artifact],
    context: &Context<'_>,
) -> GroupLayout {
    match target {
        Target::Fleet => fleet::render_group(group, members, context),
        Target::Kmfddm => kmfddm::render_group(group, members, context),
        Target::Jamf => jamf::render_group(group, members),
        Target::WorkspaceOne => workspace_one::render_group(group, members),
    }
}

/// The spanning files of `target`, from every group's fragments in group order.
pub fn finish<'a>(
    target: Target,
    fragments: impl IntoIterator<Item = &'a Fragment>,
    context: &Context<'_>,
) -> Vec<TargetFile> {
    let mut bodies: BTreeMap<&'static str, String> = BTreeMap::new();
    for fragment in fragments {
        bodies
            .entry(fragment.path)
            .or_default()
            .push_str(&fragment.text);
    }
    let body = |path: &str| bodies.get(path).map_or("", String::as_str);
    match target {
        Target::Fleet => Vec::new(),
        Target::Kmfddm => kmfddm::finish(body, context),
        Target::Jamf => jamf::finish(body, context),
        Target::WorkspaceOne => workspace_one::finish(body, context),
    }
}

/// The files of `target` for `artifacts` (unsigned, sorted by path), sorted by path: each
/// group laid out in turn, then the spanning files.
pub fn render(target: Target, artifacts: &[Artifact], context: &Context<'_>) -> Vec<TargetFile> {
    let mut by_group: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
    for artifact in artifacts {
        by_group.entry(&artifact.group).or_default().push(artifact);
    }
    let mut files = Vec::new();
    let mut fragments = Vec::new();
    for (group, members) in by_group {
        let layout = render_group(target, group, &members, context);
        files.extend(layout.files);
        fragments.extend(layout.fragments);
    }
    files.extend(finish(target, &fragments, context));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The declaration `Type` of an artifact, if it is a declaration.
fn declaration_type(artifact: &Artifact) -> Option<&str> {
    match &artifact.kind {
        ArtifactKind::Declaration { declaration_type } => Some(declaration_type),
        ArtifactKind::Profile { .. } => None,
    }
}

fn is_profile(artifact: &Artifact) -> bool {
    matches!(artifact.kind, ArtifactKind::Profile { .. })
}

/// The artifact's file name (last path component).
fn file_name(artifact: &Artifact) -> &str {
    artifact.path.rsplit('/').next().unwrap_or(&artifact.path)
}

/// The profile's `PayloadDisplayName`, or its identifier: the name MDMs list it by.
fn display_name(artifact: &Artifact) -> String {
    plist::Value::from_reader(std::io::Cursor::new(&artifact.bytes))
        .ok()
        .and_then(|v| {
            v.as_dictionary()
                .and_then(|d| d.get("PayloadDisplayName"))
                .and_then(|n| n.as_string().map(str::to_string))
        })
        .unwrap_or_else(|| artifact.identifier.clone())
}

/// The declaration's JSON document, if it parses.
fn declaration_json(artifact: &Artifact) -> Option<Value> {
    serde_json::from_slice(&artifact.bytes).ok()
}

/// The declaration without its `ServerToken`, for MDMs that compute their own.
fn without_server_token(artifact: &Artifact) -> Vec<u8> {
    let mut document = declaration_json(artifact).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut document {
        map.remove("ServerToken");
    }
    let mut bytes = serde_json::to_vec_pretty(&document).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn yaml_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A shell single-quoted word.
fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// XML text with the five predefined entities escaped.
fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn has_mobile(platforms: &[Platform]) -> bool {
    platforms.iter().any(|p| *p != Platform::MacOs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(yaml_string("x: \"y\""), "\"x: \\\"y\\\"\"");
    }
}
