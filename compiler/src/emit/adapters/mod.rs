//! MDM adapters: the generic artifacts re-laid out the way one MDM imports them.
//!
//! In: the emitted artifacts, unsigned (Fleet's and Jamf Pro's APIs reject signed profiles,
//! and the DDM-only targets need no profile signature), plus the organisation's name. Out:
//! [`TargetFile`]s under `<target>/`, each saying where it is uploaded. Adapters only re-shape
//! what the core emitters produced: they never change a setting, read the clock or touch the
//! filesystem, so their output is as deterministic as the generic layout.
//!
//! Each MDM is one module implementing [`MdmTarget`], listed once in the registry below; the
//! [`Target`] handle, the `--target` values and their order all come from that list. Upload
//! scripts are templates under `compiler/templates/<target>/`, rendered by [`Templates`].
//!
//! An adapter works one group at a time ([`render_group`]), so a streamed build can lay out
//! each group as it is emitted and forget it; what spans groups (upload scripts, mapping
//! tables) comes back as [`Fragment`]s, which [`finish`] joins in group order.

/// Declares each target's module (`module::Type`: `<module>.rs` beside this file implements
/// [`MdmTarget`] for `Type`) and makes [`Target`], one variant per `Type`, in list order.
macro_rules! registry {
    ($($module:ident :: $target:ident),* $(,)?) => {
        $(mod $module;)*

        /// An MDM whose import layout bsic writes beside the generic one: a handle on one
        /// [`MdmTarget`] of the registry. Targets order as registered, which is the order
        /// `--target` lists them in and layouts are written and listed in.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Target {
            $($target),*
        }

        impl Target {
            /// Every target, in registry order.
            pub const ALL: &[Target] = &[$(Target::$target),*];

            /// The implementation behind the handle.
            fn mdm(self) -> &'static dyn MdmTarget {
                match self {
                    $(Target::$target => &$module::$target),*
                }
            }
        }
    };
}

/// A [`Template`] bundled into the binary: `compiler/templates/<name>`.
macro_rules! template {
    ($name:literal) => {
        $crate::emit::adapters::Template {
            name: $name,
            text: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $name)),
        }
    };
}

mod templates;

// The registry: every MDM target, one line each (see docs/architecture.md).
registry! {
    fleet::Fleet,
    kmfddm::Kmfddm,
    jamf::Jamf,
    workspace_one::WorkspaceOne,
    intune::Intune,
    filewave::FileWave,
    addigy::Addigy,
}

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

pub use templates::{Template, TemplateError, Templates};

use super::{Artifact, ArtifactKind};
use crate::emit::ddm::{ACTIVATION_TYPE, STATUS_TYPE};
use crate::emit::profile::DISPLAY_NAME_PREFIX;
use crate::model::Platform;
use crate::resolve::GroupGraph;

/// One MDM's layout: how it is named and introduced, and what it makes of each group and of
/// all of them. Implemented once per module and listed once in the registry of this module.
pub trait MdmTarget: Sync {
    /// The directory under the output directory, also the `--target` value.
    fn name(&self) -> &'static str;

    /// What the layout holds, in one line: the help of its `--target` value.
    fn about(&self) -> &'static str;

    /// What the admin runs next; `out` is the output directory with a trailing `/`, or empty
    /// for paths relative to it.
    fn next_step(&self, out: &str) -> String;

    /// The templates it renders, each `compiler/templates/<name>/…`.
    fn templates(&self) -> &'static [Template] {
        &[]
    }

    /// The template of its upload script, `<name>/upload.sh`, if it has one: the default
    /// [`finish`](Self::finish) renders it to the same path around the groups' parts of it.
    fn upload_script(&self) -> Option<Template> {
        None
    }

    /// The layout of one group: `members` are every artifact of `group`, unsigned, sorted by
    /// path.
    fn render_group(
        &self,
        group: &str,
        members: &[&Artifact],
        context: &Context<'_>,
    ) -> Result<GroupLayout, TemplateError>;

    /// The files that span groups, from the groups' fragments (`bodies`): by default the
    /// upload script, if there is one.
    fn finish(
        &self,
        bodies: &Bodies,
        context: &Context<'_>,
    ) -> Result<Vec<TargetFile>, TemplateError> {
        let next_step = self.next_step("");
        self.upload_script()
            .map(|script| render_upload_script(script, &next_step, bodies, context))
            .into_iter()
            .collect()
    }
}

impl Target {
    /// The target whose [`name`](Self::name) is `name`.
    pub fn named(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The directory name under the output directory, also the `--target` value.
    pub fn name(self) -> &'static str {
        self.mdm().name()
    }

    /// What the layout holds, in one line (the help of its `--target` value).
    pub fn about(self) -> &'static str {
        self.mdm().about()
    }

    /// What the admin runs next; `out` is the output directory (empty: paths relative to it).
    pub fn next_step(self, out: &str) -> String {
        if out.is_empty() || out.ends_with('/') {
            self.mdm().next_step(out)
        } else {
            self.mdm().next_step(&format!("{out}/"))
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
    /// Group → every group its devices are members of: itself, the groups that include it
    /// (transitively) and `all`. A device listed for a group must get what each of these
    /// gets, as `bsic explain` says; `all` maps to itself only.
    pub member_of: BTreeMap<String, BTreeSet<String>>,
    /// The upload-script templates, loaded on first use.
    templates: Templates,
}

impl<'a> Context<'a> {
    /// The context of a project's `bsic.kdl` and its resolved group graph.
    pub fn of(
        project: &'a crate::model::ProjectFile,
        graph: &GroupGraph,
    ) -> Result<Self, TemplateError> {
        let member_of = graph
            .groups()
            .map(|group| {
                let containers = graph.containers(group).into_keys().collect();
                (group.to_string(), containers)
            })
            .collect();
        Ok(Self {
            organization: &project.organization,
            identifier_prefix: project.identifier_prefix.as_str(),
            member_of,
            templates: Templates::new()?,
        })
    }

    /// The bundled template `name` rendered with `values`.
    fn render(&self, name: &str, values: minijinja::Value) -> Result<String, TemplateError> {
        self.templates.render(name, values)
    }
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

/// The groups' fragments of each spanning file, joined in group order.
#[derive(Debug, Default)]
pub struct Bodies(BTreeMap<&'static str, String>);

impl Bodies {
    /// Every group's text of the spanning file at `path`, or nothing.
    pub fn get(&self, path: &str) -> &str {
        self.0.get(path).map_or("", String::as_str)
    }
}

/// The layout of `target` for one group: `members` are every artifact of `group`, unsigned,
/// sorted by path.
pub fn render_group(
    target: Target,
    group: &str,
    members: &[&Artifact],
    context: &Context<'_>,
) -> Result<GroupLayout, TemplateError> {
    target.mdm().render_group(group, members, context)
}

/// The spanning files of `target`, from every group's fragments in group order.
pub fn finish<'a>(
    target: Target,
    fragments: impl IntoIterator<Item = &'a Fragment>,
    context: &Context<'_>,
) -> Result<Vec<TargetFile>, TemplateError> {
    let mut bodies = Bodies::default();
    for fragment in fragments {
        bodies
            .0
            .entry(fragment.path)
            .or_default()
            .push_str(&fragment.text);
    }
    target.mdm().finish(&bodies, context)
}

/// `targets` in [`Target`] order, each once: the order layouts are written and listed in.
pub fn distinct(targets: &[Target]) -> Vec<Target> {
    let mut targets = targets.to_vec();
    targets.sort();
    targets.dedup();
    targets
}

/// The files of `target` for `artifacts` (unsigned, sorted by path), sorted by path: each
/// group laid out in turn, then the spanning files.
pub fn render(
    target: Target,
    artifacts: &[Artifact],
    context: &Context<'_>,
) -> Result<Vec<TargetFile>, TemplateError> {
    let mut by_group: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
    for artifact in artifacts {
        by_group.entry(&artifact.group).or_default().push(artifact);
    }
    let mut files = Vec::new();
    let mut fragments = Vec::new();
    for (group, members) in by_group {
        let layout = render_group(target, group, &members, context)?;
        files.extend(layout.files);
        fragments.extend(layout.fragments);
    }
    files.extend(finish(target, &fragments, context)?);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// An upload script: the template `script` (`<target>/upload.sh`, written to the same path)
/// around every group's part of it (`bodies`), run as `next_step` says. Every upload script
/// may name `organization`, `identifier_prefix`, `groups` (the groups' parts, in group order),
/// `display_name_prefix` (how bsic's profile names start) and `description_stem` (how the
/// descriptions of this project's profiles start).
fn render_upload_script(
    script: Template,
    next_step: &str,
    bodies: &Bodies,
    context: &Context<'_>,
) -> Result<TargetFile, TemplateError> {
    let text = context.render(
        script.name,
        minijinja::context! {
            organization => context.organization,
            identifier_prefix => context.identifier_prefix,
            groups => bodies.get(script.name),
            display_name_prefix => DISPLAY_NAME_PREFIX,
            description_stem => mdm_description_stem(context),
        },
    )?;
    Ok(TargetFile {
        path: script.name.into(),
        bytes: text.into_bytes(),
        upload: format!("run it: {next_step}"),
        artifact: None,
    })
}

/// The description of a profile bsic creates through an MDM's API. It tells admins where to
/// make changes; it starts with [`mdm_description_stem`], by which the upload scripts'
/// pruning knows this project's profiles, and it carries a digest of the profile, by which
/// they leave a profile that did not change alone (an update is sent to every device again).
fn mdm_description(context: &Context<'_>, profile: &[u8]) -> String {
    let digest = crate::emit::sha256_hex(profile);
    format!(
        "{}content {}); edit the policies, not this profile",
        mdm_description_stem(context),
        digest.get(..16).unwrap_or(&digest)
    )
}

/// How the descriptions of this project's profiles start: the identifier prefix, closed, so
/// `com.example.it` does not also claim `com.example.it.labs`.
fn mdm_description_stem(context: &Context<'_>) -> String {
    format!("Generated by bsic for {} (", context.identifier_prefix)
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

/// Whether a declaration is one an admin configures in an MDM's console or API: a settings or
/// enforcement configuration, not the activation or status subscription the MDM makes itself
/// when the configuration is assigned.
fn is_configuration(artifact: &Artifact) -> bool {
    declaration_type(artifact).is_some_and(|kind| kind != ACTIVATION_TYPE && kind != STATUS_TYPE)
}

/// A configuration declaration of `group` under `<target>/declarations/<group>/`, without its
/// `ServerToken` (every MDM that takes declarations assigns its own), uploaded as `upload`
/// says.
fn declaration_file(target: &str, group: &str, artifact: &Artifact, upload: String) -> TargetFile {
    TargetFile {
        path: format!("{target}/declarations/{group}/{}", file_name(artifact)),
        bytes: without_server_token(artifact),
        upload,
        artifact: Some(artifact.path.clone()),
    }
}

/// An (unsigned) profile of `group` as it is, under `<target>/profiles/<group>/`, uploaded as
/// `upload` says.
fn profile_file(target: &str, group: &str, artifact: &Artifact, upload: String) -> TargetFile {
    TargetFile {
        path: format!("{target}/profiles/{group}/{}", file_name(artifact)),
        bytes: artifact.bytes.clone(),
        upload,
        artifact: Some(artifact.path.clone()),
    }
}

/// The layout of an MDM whose console imports the files and no API is documented for them:
/// each (unsigned) profile of `group` as it is, and each configuration declaration without
/// its `ServerToken`, uploaded as `profile_upload` and `declaration_upload` say.
fn console_layout(
    target: &str,
    group: &str,
    members: &[&Artifact],
    profile_upload: &str,
    declaration_upload: &str,
) -> GroupLayout {
    let files = members
        .iter()
        .filter_map(|artifact| {
            if is_profile(artifact) {
                Some(profile_file(target, group, artifact, profile_upload.into()))
            } else if is_configuration(artifact) {
                Some(declaration_file(
                    target,
                    group,
                    artifact,
                    declaration_upload.into(),
                ))
            } else {
                None
            }
        })
        .collect();
    GroupLayout {
        files,
        fragments: Vec::new(),
    }
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
    #[cfg(bsic_repo)]
    use std::path::Path;

    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(xml_escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(yaml_string("x: \"y\""), "\"x: \\\"y\\\"\"");
    }

    /// The repository's own project, checked, and its artifacts, unsigned.
    #[cfg(bsic_repo)]
    fn reference() -> (crate::pipeline::Checked, Vec<Artifact>) {
        let checked = crate::pipeline::check(&crate::repo::root()).unwrap();
        assert!(!checked.has_errors());
        let model = checked.model.as_ref().unwrap();
        let check = crate::emit::AppleCheck::new().unwrap();
        let artifacts = crate::emit::emit(model, &checked.resolution.plans, &check).unwrap();
        (checked, artifacts)
    }

    /// The files under `compiler/templates/<name>/`, named as the templates are.
    #[cfg(bsic_repo)]
    fn template_files(name: &str) -> BTreeSet<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return BTreeSet::new();
        };
        entries
            .map(|entry| format!("{name}/{}", entry.unwrap().file_name().to_string_lossy()))
            .collect()
    }

    /// What holds for every registered target, so a new one is held to it too: a unique
    /// `--target` name, help, a next step naming its directory, every file (and every
    /// fragment of a spanning file) under that directory, its templates exactly the files of
    /// `compiler/templates/<name>/` and each of them rendered, and a section in the docs.
    #[cfg(bsic_repo)]
    #[test]
    fn every_registered_target_keeps_the_rules() {
        let (checked, artifacts) = reference();
        let project = &checked.model.as_ref().unwrap().project;
        let group = &artifacts[0].group;
        let members: Vec<&Artifact> = artifacts.iter().filter(|a| &a.group == group).collect();
        let docs = crate::repo::read("docs/targets.md");
        let mut names = BTreeSet::new();
        for &target in Target::ALL {
            let name = target.name();
            assert!(names.insert(name), "`{name}` is registered twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{name}"
            );
            assert_eq!(Target::named(name), Some(target));
            assert!(!target.about().is_empty(), "{name} has no --target help");
            let step = target.next_step("dist");
            assert!(step.contains(&format!("dist/{name}/")), "{name}: {step}");
            assert!(
                docs.contains(&format!("## `{name}`")),
                "docs/targets.md: {name}"
            );

            let context = Context::of(project, &checked.resolution.graph).unwrap();
            let layout = render_group(target, group, &members, &context).unwrap();
            for fragment in &layout.fragments {
                assert!(
                    fragment.path.starts_with(&format!("{name}/")),
                    "{name}: {fragment:?}"
                );
            }
            let files = render(target, &artifacts, &context).unwrap();
            assert!(!files.is_empty(), "{name} wrote nothing");
            for file in &files {
                assert!(
                    file.path.starts_with(&format!("{name}/")),
                    "{name}: {}",
                    file.path
                );
            }

            let declared: BTreeSet<String> = target
                .mdm()
                .templates()
                .iter()
                .map(|t| t.name.to_string())
                .collect();
            assert_eq!(
                declared,
                template_files(name),
                "{name}: templates vs compiler/templates/"
            );
            let loaded: BTreeSet<String> = context.templates.loaded().into_iter().collect();
            let unused: Vec<_> = declared.difference(&loaded).collect();
            assert!(unused.is_empty(), "{name} never renders {unused:?}");
        }
        let directories: BTreeSet<String> =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates"))
                .unwrap()
                .map(|entry| entry.unwrap())
                .filter(|entry| entry.path().is_dir() && entry.file_name() != "init")
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect();
        let registered = names.iter().map(|n| n.to_string()).collect();
        assert!(
            directories.is_subset(&registered),
            "template directories of no target: {directories:?}"
        );
    }

    /// Targets order and deduplicate as registered, whatever order they were asked for in.
    #[test]
    fn distinct_follows_the_registry() {
        let mut asked: Vec<Target> = Target::ALL.iter().rev().copied().collect();
        asked.extend(Target::ALL);
        assert_eq!(distinct(&asked), Target::ALL);
        assert_eq!(Target::named("generic"), None);
    }
}
