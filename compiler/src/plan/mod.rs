//! Plan stage: what building now would change compared with an earlier build.
//!
//! In: two [`Snapshot`]s — the manifest and files of a build, rendered in memory or read from
//! a previous output directory — and Out: a [`Plan`]: per artifact a change class (no-op,
//! in-place update, add, remove, replace, scope broadened) and the settings that change.
//! Matching uses identities, never paths alone, so a renamed file with the same identifier is
//! an update and a new identifier for the same group and kind is a replace. This stage reads
//! files only in [`Snapshot::from_dist`] and runs Git only in [`git`].

pub(crate) mod git;
mod settings;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::emit::ArtifactKind;
use crate::model::Platform;
use crate::output::{MANIFEST_FILE, ManifestArtifact};

use crate::source::Input;

pub(crate) use settings::SettingChange;

/// Why a plan could not be made (exit code 1).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum PlanError {
    #[error("`{}` has no readable manifest.json", dir.display())]
    #[diagnostic(
        code("bsic::plan::no-manifest"),
        help("pass a directory written by `bsic build`, or a Git revision such as `origin/main`")
    )]
    NoManifest {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a bsic manifest", path.display())]
    #[diagnostic(
        code("bsic::plan::bad-manifest"),
        help("rebuild that output with `bsic build`")
    )]
    BadManifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot read `{}`", path.display())]
    #[diagnostic(code("bsic::plan::read-failed"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{reference}` is neither an output directory nor a Git revision of this project")]
    #[diagnostic(code("bsic::plan::git"), help("{detail}"))]
    Git { reference: String, detail: String },
    #[error("the project at `{reference}` has {errors} policy error(s); nothing to compare with")]
    #[diagnostic(
        code("bsic::plan::old-project-errors"),
        help("compare with a revision that builds, or with a previous output directory")
    )]
    OldProjectErrors { reference: String, errors: usize },
}

/// A build: its artifacts' entries and where their bytes are.
#[derive(Debug)]
pub(crate) struct Snapshot {
    artifacts: Vec<Entry>,
    files: Files,
}

/// One artifact of a build as a plan compares it: its manifest entry without the source
/// policies (which a plan never shows) and with one digest, packed. A plan of a 10,000-policy
/// build holds some 50,000 of them through a check of the other build; as manifest entries
/// they took 30 MB.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    path: Box<str>,
    /// The content identity, blind to signatures: `content-sha256` for a profile, else
    /// `sha256`.
    content: Box<str>,
    kind: ArtifactKind,
    identifier: Box<str>,
    token: Box<str>,
    groups: Box<[Box<str>]>,
    platforms: Box<[Platform]>,
}

impl<S> From<ManifestArtifact<S>> for Entry {
    fn from(artifact: ManifestArtifact<S>) -> Self {
        Self {
            path: artifact.path.into(),
            content: artifact.content_sha256.unwrap_or(artifact.sha256).into(),
            kind: artifact.kind,
            identifier: artifact.identifier.into(),
            token: artifact.token.into(),
            groups: artifact.groups.into_iter().map(Box::from).collect(),
            platforms: artifact.platforms.into(),
        }
    }
}

impl Entry {
    /// Where the artifact is, relative to the output.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
}

/// Where a snapshot's artifacts are: rendered in memory (only those a change needs), or in an
/// output directory, read only when a change needs their settings. Reading all 50,000
/// artifacts of a 10,000-policy build up front held them all for a plan that compares
/// manifests' hashes.
#[derive(Debug)]
enum Files {
    Rendered(BTreeMap<String, Vec<u8>>),
    Dir(PathBuf),
}

/// The part of an earlier output's manifest a plan reads: the artifacts without their
/// source policies, half of a large manifest, which a plan never shows.
#[derive(serde::Deserialize)]
struct Listed {
    artifacts: Vec<ManifestArtifact<serde::de::IgnoredAny>>,
}

impl Snapshot {
    /// A build rendered in memory by [`crate::pipeline::render_compared`].
    pub(crate) fn from_compared(compared: crate::pipeline::Compared) -> Self {
        Self {
            artifacts: compared.artifacts,
            files: Files::Rendered(compared.files.into_iter().collect()),
        }
    }

    /// A previous output directory: its manifest, and every artifact it lists, which must
    /// be there (a file is read when a change needs it).
    pub(crate) fn from_dist(dir: &Path) -> Result<Self, PlanError> {
        let path = dir.join(MANIFEST_FILE);
        let no_manifest = |source| PlanError::NoManifest {
            dir: dir.to_path_buf(),
            source,
        };
        // Parsed as it is read: the text of a large build's manifest is never all in memory.
        let reader = crate::source::read::open(&path, Input::Manifest).map_err(no_manifest)?;
        let listed: Listed = serde_json::from_reader(reader)
            .map_err(|source| PlanError::BadManifest { path, source })?;
        let artifacts: Vec<Entry> = listed.artifacts.into_iter().map(Into::into).collect();
        for artifact in &artifacts {
            let path = dir.join(artifact.path());
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => {}
                Ok(_) => {
                    let source = std::io::Error::other("not a file");
                    return Err(PlanError::Read { path, source });
                }
                Err(source) => return Err(PlanError::Read { path, source }),
            }
        }
        Ok(Self {
            artifacts,
            files: Files::Dir(dir.to_path_buf()),
        })
    }

    /// The artifacts' manifest entries, sorted by path.
    pub(crate) fn artifacts(&self) -> impl Iterator<Item = &Entry> {
        self.artifacts.iter()
    }

    /// Whether a plan against this build needs the bytes of `artifact`: unless this build
    /// has it unchanged (same identifier, content and token), its settings may be shown.
    pub(crate) fn needs_bytes_of(&self) -> impl Fn(&Entry) -> bool + Sync + '_ {
        let by_identifier: BTreeMap<&str, &Entry> =
            self.artifacts.iter().map(|a| (&*a.identifier, a)).collect();
        move |artifact| {
            !by_identifier
                .get(&*artifact.identifier)
                .is_some_and(|before| {
                    before.content == artifact.content && before.token == artifact.token
                })
        }
    }

    /// The bytes of the artifact at `path` (relative to the output), if it can be had.
    fn bytes(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        match &self.files {
            Files::Rendered(files) => files.get(path).map(|bytes| Cow::Borrowed(&bytes[..])),
            Files::Dir(dir) => crate::source::read::read(&dir.join(path), Input::Apple)
                .ok()
                .map(Cow::Owned),
        }
    }
}

/// How one artifact changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ChangeClass {
    /// The same identifier and content: nothing is sent.
    NoOp,
    /// The same identifier with new content: devices get a new `ServerToken`/`PayloadUUID`.
    Update,
    /// The same identifier, now reaching more platforms or groups.
    ScopeBroadened,
    /// A new identifier for the same group and kind: the old one is removed from devices.
    Replace,
    /// A new artifact.
    Add,
    /// An artifact no longer built: devices lose it.
    Remove,
}

impl ChangeClass {
    pub(crate) fn label(self) -> &'static str {
        match self {
            ChangeClass::NoOp => "no-op",
            ChangeClass::Update => "update in place",
            ChangeClass::ScopeBroadened => "scope broadened",
            ChangeClass::Replace => "replace",
            ChangeClass::Add => "add",
            ChangeClass::Remove => "remove",
        }
    }
}

/// One artifact's change, borrowing from the two snapshots: a plan of a 10,000-policy build
/// lists some 50,000 artifacts, unchanged ones included, and owned copies of their names
/// cost 30 MB.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Change<'a> {
    pub class: ChangeClass,
    pub group: Cow<'a, str>,
    /// `com.apple.configuration.softwareupdate.settings`, or `profile`.
    pub kind: &'a str,
    /// The identifier now (absent when removed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<&'a str>,
    /// The identifier before (absent when added).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_identifier: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_path: Option<&'a str>,
    pub platforms: &'a [Platform],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms_added: Vec<Platform>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms_removed: Vec<Platform>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups_added: Vec<&'a str>,
    /// Setting-level differences (Apple keys, dotted).
    pub settings: Vec<SettingChange>,
}

/// Counts per class.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Summary {
    pub add: usize,
    pub update: usize,
    pub scope_broadened: usize,
    pub replace: usize,
    pub remove: usize,
    pub unchanged: usize,
}

impl Summary {
    /// Counts the changes per class.
    fn of(changes: &[Change<'_>]) -> Self {
        let mut summary = Summary::default();
        for change in changes {
            let count = match change.class {
                ChangeClass::NoOp => &mut summary.unchanged,
                ChangeClass::Update => &mut summary.update,
                ChangeClass::ScopeBroadened => &mut summary.scope_broadened,
                ChangeClass::Replace => &mut summary.replace,
                ChangeClass::Add => &mut summary.add,
                ChangeClass::Remove => &mut summary.remove,
            };
            *count += 1;
        }
        summary
    }
}

impl<'a> Change<'a> {
    /// An artifact only one side has: added (it is new) or removed (it is old).
    fn one_sided(class: ChangeClass, artifact: &'a Entry, settings: Vec<SettingChange>) -> Self {
        let (identifier, path) = (Some(&*artifact.identifier), Some(&*artifact.path));
        let added = class == ChangeClass::Add;
        Change {
            class,
            group: group_of(artifact),
            kind: kind_label(artifact),
            identifier: if added { identifier } else { None },
            previous_identifier: if added { None } else { identifier },
            path: if added { path } else { None },
            previous_path: if added { None } else { path },
            platforms: &artifact.platforms,
            platforms_added: Vec::new(),
            platforms_removed: Vec::new(),
            groups_added: Vec::new(),
            settings,
        }
    }
}

/// Everything a merge would change.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Plan<'a> {
    /// What the plan compares with: a directory or a Git revision.
    pub against: &'a str,
    pub summary: Summary,
    /// Every artifact, unchanged ones included, by group then path.
    pub changes: Vec<Change<'a>>,
}

impl Plan<'_> {
    /// True when applying the new build would change anything on devices.
    pub(crate) fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.class != ChangeClass::NoOp)
    }
}

fn kind_label(artifact: &Entry) -> &str {
    match &artifact.kind {
        ArtifactKind::Declaration { declaration_type } => declaration_type,
        ArtifactKind::Profile { .. } => "profile",
    }
}

/// The artifact's group, or its groups joined by commas (borrowed for the usual one).
fn group_of(artifact: &Entry) -> Cow<'_, str> {
    match &*artifact.groups {
        [group] => Cow::Borrowed(group),
        groups => Cow::Owned(groups.join(",")),
    }
}

/// Compares `old` with `new`.
pub(crate) fn diff<'a>(old: &'a Snapshot, new: &'a Snapshot, against: &'a str) -> Plan<'a> {
    let old_by_id: BTreeMap<&str, &Entry> =
        old.artifacts.iter().map(|a| (&*a.identifier, a)).collect();
    let new_ids: BTreeSet<&str> = new.artifacts.iter().map(|a| &*a.identifier).collect();
    let mut changes = Vec::new();
    let mut unmatched_new = Vec::new();
    for artifact in &new.artifacts {
        match old_by_id.get(&*artifact.identifier) {
            Some(before) => changes.push(compare(old, new, before, artifact)),
            None => unmatched_new.push(artifact),
        }
    }
    let mut unmatched_old: Vec<&Entry> = old
        .artifacts
        .iter()
        .filter(|a| !new_ids.contains(&*a.identifier))
        .collect();
    let (replacements, added) = pair_renamed(&unmatched_new, &mut unmatched_old);
    for (before, artifact) in replacements {
        let mut change = compare(old, new, before, artifact);
        change.class = ChangeClass::Replace;
        changes.push(change);
    }
    for artifact in added {
        let settings = settings::diff(None, new.bytes(&artifact.path).as_deref());
        changes.push(Change::one_sided(ChangeClass::Add, artifact, settings));
    }
    for artifact in unmatched_old {
        let settings = settings::diff(old.bytes(&artifact.path).as_deref(), None);
        changes.push(Change::one_sided(ChangeClass::Remove, artifact, settings));
    }
    changes.sort_by(|a, b| {
        (&a.group, a.path.as_ref().or(a.previous_path.as_ref()))
            .cmp(&(&b.group, b.path.as_ref().or(b.previous_path.as_ref())))
    });
    let summary = Summary::of(&changes);
    Plan {
        against,
        summary,
        changes,
    }
}

/// Pairs artifacts that are new by identifier with old ones they replace: the same group and
/// kind, for at least one of the same platforms. When several could pair (a group's two
/// enforcement declarations renamed together), the best pairs are taken first — identical
/// content, then most shared platforms, then the most similar identifiers — with ties broken
/// by identifier, so the pairing never depends on the order of the manifests. Returns the
/// pairs (old, new) and the new artifacts left unpaired; the old ones left stay in `old`.
fn pair_renamed<'a>(
    new: &[&'a Entry],
    old: &mut Vec<&'a Entry>,
) -> (Vec<(&'a Entry, &'a Entry)>, Vec<&'a Entry>) {
    let mut candidates = Vec::new();
    for (n, after) in new.iter().enumerate() {
        for (o, before) in old.iter().enumerate() {
            let shared = before
                .platforms
                .iter()
                .filter(|p| after.platforms.contains(p))
                .count();
            if shared == 0
                || group_of(before) != group_of(after)
                || kind_label(before) != kind_label(after)
            {
                continue;
            }
            let same_content = before.content == after.content;
            let likeness = strsim::normalized_levenshtein(&before.identifier, &after.identifier);
            candidates.push((same_content, shared, likeness, n, o));
        }
    }
    candidates.sort_by(|a, b| {
        (b.0, b.1)
            .cmp(&(a.0, a.1))
            .then(b.2.total_cmp(&a.2))
            .then_with(|| new[a.3].identifier.cmp(&new[b.3].identifier))
            .then_with(|| old[a.4].identifier.cmp(&old[b.4].identifier))
    });
    let mut new_taken = vec![false; new.len()];
    let mut old_taken = vec![false; old.len()];
    let mut pairs = Vec::new();
    for (_, _, _, n, o) in candidates {
        if !new_taken[n] && !old_taken[o] {
            new_taken[n] = true;
            old_taken[o] = true;
            pairs.push((old[o], new[n]));
        }
    }
    let added = new
        .iter()
        .zip(&new_taken)
        .filter(|(_, taken)| !**taken)
        .map(|(a, _)| *a)
        .collect();
    let mut taken = old_taken.into_iter();
    old.retain(|_| !taken.next().unwrap_or(false));
    (pairs, added)
}

fn compare<'a>(old: &Snapshot, new: &Snapshot, before: &'a Entry, after: &'a Entry) -> Change<'a> {
    let platforms_added: Vec<Platform> = after
        .platforms
        .iter()
        .filter(|p| !before.platforms.contains(p))
        .copied()
        .collect();
    let platforms_removed: Vec<Platform> = before
        .platforms
        .iter()
        .filter(|p| !after.platforms.contains(p))
        .copied()
        .collect();
    let groups_added: Vec<&str> = after
        .groups
        .iter()
        .filter(|g| !before.groups.contains(g))
        .map(|g| &**g)
        .collect();
    let same = before.content == after.content && before.token == after.token;
    let class = if !platforms_added.is_empty() || !groups_added.is_empty() {
        ChangeClass::ScopeBroadened
    } else if same && platforms_removed.is_empty() {
        ChangeClass::NoOp
    } else {
        ChangeClass::Update
    };
    let settings = if same {
        Vec::new()
    } else {
        settings::diff(
            old.bytes(&before.path).as_deref(),
            new.bytes(&after.path).as_deref(),
        )
    };
    Change {
        class,
        group: group_of(after),
        kind: kind_label(after),
        identifier: Some(&after.identifier),
        previous_identifier: (before.identifier != after.identifier).then_some(&*before.identifier),
        path: Some(&after.path),
        previous_path: (before.path != after.path).then_some(&*before.path),
        platforms: &after.platforms,
        platforms_added,
        platforms_removed,
        groups_added,
        settings,
    }
}

/// The plan as Markdown: a heading with the counts, then one section per changed group.
/// Reads well in a terminal and as a pull-request comment.
pub(crate) fn to_markdown(plan: &Plan<'_>) -> String {
    use std::fmt::Write as _;
    let s = &plan.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## bsic plan against `{}`\n\n**{} to add, {} to update, {} broadened, {} to replace, {} to remove**, {} unchanged\n",
        plan.against, s.add, s.update, s.scope_broadened, s.replace, s.remove, s.unchanged
    );
    if !plan.has_changes() {
        let _ = writeln!(out, "No changes: devices get exactly what they have now.");
        return out;
    }
    let mut group = None;
    for change in plan.changes.iter().filter(|c| c.class != ChangeClass::NoOp) {
        if group != Some(&change.group) {
            if group.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "### group `{}`\n", change.group);
            group = Some(&change.group);
        }
        let id = change
            .identifier
            .or(change.previous_identifier)
            .unwrap_or_default();
        let platforms: Vec<&str> = change.platforms.iter().map(|p| p.name()).collect();
        let _ = write!(
            out,
            "- **{}** `{id}` ({}; {})",
            change.class.label(),
            short_kind(change.kind),
            platforms.join(", ")
        );
        if change.class == ChangeClass::Replace
            && let Some(previous) = change.previous_identifier
        {
            let _ = write!(out, ", replacing `{previous}`");
        }
        if !change.platforms_added.is_empty() {
            let added: Vec<&str> = change.platforms_added.iter().map(|p| p.name()).collect();
            let _ = write!(out, ", now also for {}", added.join(", "));
        }
        if !change.platforms_removed.is_empty() {
            let removed: Vec<&str> = change.platforms_removed.iter().map(|p| p.name()).collect();
            let _ = write!(out, ", no longer for {}", removed.join(", "));
        }
        out.push('\n');
        for setting in &change.settings {
            let _ = writeln!(
                out,
                "  - {}: `{}` {} → {}",
                change.group,
                setting.key,
                setting
                    .old
                    .as_deref()
                    .map_or("∅".to_string(), |v| format!("`{v}`")),
                setting
                    .new
                    .as_deref()
                    .map_or("∅".to_string(), |v| format!("`{v}`")),
            );
        }
    }
    out
}

fn short_kind(kind: &str) -> &str {
    kind.strip_prefix("com.apple.configuration.")
        .or_else(|| kind.strip_prefix("com.apple."))
        .unwrap_or(kind)
}

#[cfg(test)]
impl crate::diag::Examples for PlanError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::NoManifest {
                dir: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::BadManifest {
                path: "x".into(),
                source: serde_json::from_str::<()>("x").unwrap_err(),
            },
            Self::Read {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Git {
                reference: "x".into(),
                detail: "x".into(),
            },
            Self::OldProjectErrors {
                reference: "x".into(),
                errors: 0,
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::NoManifest { .. }
                | Self::BadManifest { .. }
                | Self::Read { .. }
                | Self::Git { .. }
                | Self::OldProjectErrors { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enforcement(identifier: &str, content: &str) -> Entry {
        Entry {
            path: format!("ddm/lab/{identifier}.json").into(),
            content: content.into(),
            kind: ArtifactKind::Declaration {
                declaration_type: crate::apple::types::ENFORCEMENT.into(),
            },
            identifier: identifier.into(),
            token: content.into(),
            groups: Box::new(["lab".into()]),
            platforms: Box::new([Platform::MacOs]),
        }
    }

    /// A group's base and BSI enforcement declarations renamed together (a second platform
    /// was added): each pairs with its own predecessor, in whatever order they are listed.
    #[test]
    fn renamed_artifacts_pair_by_content_then_identity_never_crosswise() {
        let old = [
            enforcement("com.example.lab.enforce.base", "base"),
            enforcement("com.example.lab.enforce.bsi", "bsi"),
        ];
        let new = [
            enforcement("com.example.lab.macos.enforce.base", "base"),
            enforcement("com.example.lab.macos.enforce.bsi", "bsi"),
        ];
        for reversed in [false, true] {
            let mut new_refs: Vec<&Entry> = new.iter().collect();
            let mut old_refs: Vec<&Entry> = old.iter().collect();
            if reversed {
                new_refs.reverse();
                old_refs.reverse();
            }
            let (pairs, added) = pair_renamed(&new_refs, &mut old_refs);
            assert!(added.is_empty() && old_refs.is_empty());
            for (before, after) in pairs {
                assert_eq!(before.token, after.token, "paired crosswise");
            }
        }
        // With changed content, the most similar identifiers pair.
        let changed = [
            enforcement("com.example.lab.macos.enforce.bsi", "bsi-2"),
            enforcement("com.example.lab.macos.enforce.base", "base-2"),
        ];
        let new_refs: Vec<&Entry> = changed.iter().collect();
        let mut old_refs: Vec<&Entry> = old.iter().collect();
        let (pairs, _) = pair_renamed(&new_refs, &mut old_refs);
        for (before, after) in pairs {
            assert_eq!(
                before.identifier.rsplit('.').next(),
                after.identifier.rsplit('.').next()
            );
        }
    }
}
