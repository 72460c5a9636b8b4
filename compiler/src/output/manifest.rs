//! `manifest.json`: every artifact with its hash, identity, groups and source policies.

use serde::Serialize;

use std::sync::Arc;

use crate::emit::adapters::{Target, TargetFile};
use crate::emit::{Artifact, ArtifactKind, hex, sha256};
use crate::model::Platform;
use crate::resolve::PolicyIndex;
use crate::source::Sources;
use crate::validate::Model;

pub(crate) const MANIFEST_FILE: &str = "manifest.json";

/// The manifest document. Its shape is an interface: tools and `bsic plan` read it.
///
/// `A` and `T` are how the artifacts and the MDM layouts' files are held: lists, or, while a
/// streamed build writes the manifest, [`PendingEntries`] and [`PendingTargets`] that are
/// completed one at a time as they are written.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(
    rename_all = "kebab-case",
    bound(serialize = "A: Serialize, T: Serialize + Listed")
)]
pub struct Manifest<A = Vec<ManifestArtifact>, T = Vec<ManifestTargetFile>> {
    pub generator: String,
    pub organization: String,
    pub identifier_prefix: String,
    pub artifacts: A,
    /// The files of each MDM layout (`bsic build --target`), and where each is uploaded.
    #[serde(default, skip_serializing_if = "Listed::is_empty")]
    pub targets: T,
}

/// A list of manifest entries, held finished or pending.
pub trait Listed {
    fn is_empty(&self) -> bool;
}

impl<E> Listed for Vec<E> {
    fn is_empty(&self) -> bool {
        Vec::is_empty(self)
    }
}

/// One file of an MDM layout under `<target>/`.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestTargetFile {
    pub target: String,
    pub path: String,
    pub sha256: String,
    /// Where and how the admin uploads it.
    pub upload: String,
    /// The generic artifact it carries, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact: Option<String>,
}

/// One artifact's manifest entry. `S` is how its source policies are kept: a list, or
/// `serde::de::IgnoredAny` for a reader that skips them (half of a large manifest).
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestArtifact<S = Vec<ManifestSource>> {
    pub path: String,
    pub sha256: String,
    /// For profiles: the SHA-256 of the plist inside (equal to `sha256` when unsigned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_sha256: Option<String>,
    #[serde(flatten)]
    pub kind: ArtifactKind,
    pub identifier: String,
    /// `ServerToken` for declarations, `PayloadUUID` for profiles.
    pub token: String,
    pub groups: Vec<String>,
    pub platforms: Vec<Platform>,
    pub sources: S,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ManifestSource {
    pub policy: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// Builds the manifest for `artifacts` (already sorted by path).
pub(crate) fn manifest(model: &Model, sources: &Sources, artifacts: &[Artifact]) -> Manifest {
    let located = locate_policies(model, sources);
    Manifest::new(
        model,
        artifacts
            .iter()
            .map(|artifact| PendingEntry::new(artifact).finish(&located))
            .collect(),
    )
}

/// Where each policy is written, by policy index: found once per manifest rather than once
/// per artifact, since finding a line means scanning the file up to it.
pub(crate) fn locate_policies(model: &Model, sources: &Sources) -> Vec<ManifestSource> {
    model
        .policies
        .iter()
        .map(|policy| {
            let span = model.key_span(&policy.at, crate::model::path::Field::Item);
            let (line, column) = sources.line_col(span);
            ManifestSource {
                policy: policy.value.name.to_string(),
                file: sources.name(span.file).to_string(),
                line,
                column,
            }
        })
        .collect()
}

/// A manifest entry not completed yet: what a streamed build keeps of each artifact it has
/// written (tens of thousands in a large build) until the manifest is written, packed; the
/// source locations are looked up and the digests spelled out only then.
#[derive(Debug)]
pub struct PendingEntry {
    /// Shared with the target entries of the files made from this artifact.
    path: Arc<str>,
    sha256: [u8; 32],
    content_sha256: Option<Box<str>>,
    kind: ArtifactKind,
    identifier: Box<str>,
    token: Box<str>,
    group: Box<str>,
    platforms: Box<[Platform]>,
    policies: Box<[PolicyIndex]>,
}

impl PendingEntry {
    pub fn new(artifact: &Artifact) -> Self {
        Self::sharing(artifact, artifact.path.as_str().into())
    }

    /// The entry of `artifact`, whose `path` its target entries share.
    pub fn sharing(artifact: &Artifact, path: Arc<str>) -> Self {
        Self {
            path,
            sha256: sha256(&artifact.bytes),
            content_sha256: artifact.content_sha256.as_deref().map(Box::from),
            kind: artifact.kind.clone(),
            identifier: artifact.identifier.as_str().into(),
            token: artifact.token.as_str().into(),
            group: artifact.group.as_str().into(),
            platforms: artifact.platforms.as_slice().into(),
            policies: artifact.sources.as_slice().into(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The finished entry without its source policies: what `bsic plan` compares, which never
    /// shows where policies are written (half of a large manifest's memory).
    pub fn finish_unlocated(&self) -> ManifestArtifact {
        self.finish(&[])
    }

    /// The entry with the file, line and column of each source policy (`located`, from
    /// [`locate_policies`]).
    fn finish(&self, located: &[ManifestSource]) -> ManifestArtifact {
        ManifestArtifact {
            path: self.path.to_string(),
            sha256: hex(&self.sha256),
            content_sha256: self.content_sha256.as_deref().map(String::from),
            kind: self.kind.clone(),
            identifier: self.identifier.to_string(),
            token: self.token.to_string(),
            groups: vec![self.group.to_string()],
            platforms: self.platforms.to_vec(),
            sources: self
                .policies
                .iter()
                .filter_map(|&index| located.get(index).cloned())
                .collect(),
        }
    }
}

/// Pending entries in path order that serialize as the finished list, completing one entry at
/// a time.
pub struct PendingEntries {
    entries: Sorted<PendingEntry>,
    located: Vec<ManifestSource>,
}

impl Serialize for PendingEntries {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            self.entries
                .iter()
                .map(|pending| pending.finish(&self.located)),
        )
    }
}

/// Items made on several threads: each thread's batch stays where it was made
/// ([`Batches::append`] moves batches, never items) and an index puts them in order. Merging
/// the batches into one list copied some 40 MB for a 10,000-policy build with every MDM
/// layout, and held both copies at the build's peak.
#[derive(Debug)]
pub struct Batches<T> {
    batches: Vec<Vec<T>>,
}

impl<T> Default for Batches<T> {
    fn default() -> Self {
        Self {
            batches: Vec::new(),
        }
    }
}

impl<T> Batches<T> {
    pub fn push(&mut self, item: T) {
        match self.batches.last_mut() {
            Some(batch) => batch.push(item),
            None => self.batches.push(vec![item]),
        }
    }

    /// Takes over the batches another thread made, each trimmed to its length.
    pub fn append(&mut self, other: Batches<T>) {
        for mut batch in other.batches {
            batch.shrink_to_fit();
            self.batches.push(batch);
        }
    }

    pub fn len(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.batches.iter().all(Vec::is_empty)
    }

    fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.batches.iter_mut().flatten()
    }

    /// The items in the order `compare` gives (stable: equal items keep their order).
    fn sorted_by(self, compare: impl Fn(&T, &T) -> std::cmp::Ordering) -> Sorted<T> {
        let batches = self.batches;
        let mut order: Vec<(usize, usize)> = Vec::with_capacity(batches.iter().map(Vec::len).sum());
        for (b, batch) in batches.iter().enumerate() {
            order.extend((0..batch.len()).map(|i| (b, i)));
        }
        order.sort_by(|&(xb, xi), &(yb, yi)| compare(&batches[xb][xi], &batches[yb][yi]));
        Sorted { batches, order }
    }
}

/// [`Batches`] put in order.
#[derive(Debug)]
pub(super) struct Sorted<T> {
    batches: Vec<Vec<T>>,
    /// (batch, index) of each item, in order.
    order: Vec<(usize, usize)>,
}

impl<T> Default for Sorted<T> {
    fn default() -> Self {
        Self {
            batches: Vec::new(),
            order: Vec::new(),
        }
    }
}

impl<T> Sorted<T> {
    fn iter(&self) -> impl Iterator<Item = &T> {
        self.order.iter().map(|&(b, i)| &self.batches[b][i])
    }

    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// A target file's manifest entry, packed like [`PendingEntry`]: a large build with targets
/// writes several files per artifact. Equal upload notes share one allocation.
#[derive(Debug)]
struct PendingTarget {
    target: Target,
    path: Box<str>,
    sha256: [u8; 32],
    upload: Arc<str>,
    /// The artifact's path, shared with its entry.
    artifact: Option<Arc<str>>,
}

impl PendingTarget {
    fn finish(&self) -> ManifestTargetFile {
        ManifestTargetFile {
            target: self.target.name().to_string(),
            path: self.path.to_string(),
            sha256: hex(&self.sha256),
            upload: self.upload.to_string(),
            artifact: self.artifact.as_deref().map(String::from),
        }
    }
}

/// Makes packed target entries, in [`Batches`], keeping one copy of each upload note.
#[derive(Debug, Default)]
pub struct TargetEntries {
    entries: Batches<PendingTarget>,
    notes: std::collections::HashSet<Arc<str>>,
}

impl TargetEntries {
    /// Adds the entry of `file`, sharing its artifact's path when `artifacts` (the paths of
    /// [`PendingEntry::sharing`]) has it: a build with every MDM layout names each artifact
    /// in several target entries.
    pub fn push(&mut self, target: Target, file: &TargetFile, artifacts: &[Arc<str>]) {
        let upload = self.note(&file.upload);
        let artifact = file.artifact.as_deref().map(|path| {
            artifacts
                .iter()
                .find(|shared| ***shared == *path)
                .map_or_else(|| path.into(), Arc::clone)
        });
        self.entries.push(PendingTarget {
            target,
            path: file.path.as_str().into(),
            sha256: sha256(&file.bytes),
            upload,
            artifact,
        });
    }

    /// The one shared copy of upload note `text`.
    fn note(&mut self, text: &str) -> Arc<str> {
        match self.notes.get(text) {
            Some(note) => Arc::clone(note),
            None => {
                let note: Arc<str> = text.into();
                self.notes.insert(Arc::clone(&note));
                note
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Takes over the entries another thread made, sharing this list's copies of their
    /// upload notes.
    pub fn append(&mut self, mut other: TargetEntries) {
        for entry in other.entries.iter_mut() {
            entry.upload = self.note(&entry.upload);
        }
        self.entries.append(other.entries);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The finished entries, for a manifest rendered in memory.
    pub fn finish(self) -> Vec<ManifestTargetFile> {
        self.into_pending()
            .entries
            .iter()
            .map(PendingTarget::finish)
            .collect()
    }

    /// The entries sorted by target, then path, serializing as the finished list.
    pub fn into_pending(self) -> PendingTargets {
        PendingTargets {
            entries: self
                .entries
                .sorted_by(|a, b| (a.target, &a.path).cmp(&(b.target, &b.path))),
        }
    }
}

/// Pending target entries in order, serializing as the finished list, one at a time.
#[derive(Default)]
pub struct PendingTargets {
    entries: Sorted<PendingTarget>,
}

impl Listed for PendingTargets {
    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for PendingTargets {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.entries.iter().map(PendingTarget::finish))
    }
}

impl Manifest<PendingEntries, PendingTargets> {
    /// The manifest of a streamed build: `entries` and `targets` in any order, sorted here;
    /// `located` from [`locate_policies`].
    pub fn pending(
        model: &Model,
        located: Vec<ManifestSource>,
        entries: Batches<PendingEntry>,
        targets: TargetEntries,
    ) -> Self {
        let artifacts = PendingEntries {
            entries: entries.sorted_by(|a, b| a.path().cmp(b.path())),
            located,
        };
        let mut manifest = Manifest::new(model, artifacts);
        manifest.targets = targets.into_pending();
        manifest
    }

    /// Writes the manifest, completing each entry as it goes.
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        write_pretty(self, out)
    }
}

fn generator() -> String {
    format!("bsic {}", env!("CARGO_PKG_VERSION"))
}

/// Pretty JSON with a trailing newline, streamed.
fn write_pretty(value: &impl Serialize, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

impl<A, T: Default> Manifest<A, T> {
    /// The manifest of a project whose artifacts are `artifacts` (sorted by path).
    pub fn new(model: &Model, artifacts: A) -> Self {
        Self {
            generator: generator(),
            organization: model.project.organization.clone(),
            identifier_prefix: model.project.identifier_prefix.to_string(),
            artifacts,
            targets: T::default(),
        }
    }
}

impl Manifest {
    /// Pretty JSON with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        // Writing into a Vec cannot fail, and the manifest has only string keys.
        let _ = self.write_to(&mut bytes);
        bytes
    }

    /// Writes [`Manifest::to_bytes`] to `out` without holding the text in memory: a
    /// 10,000-policy build has a manifest of tens of megabytes.
    pub fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        write_pretty(self, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches made on several threads come out in one order, equal items in the order their
    /// batches were appended, whatever the batches' sizes.
    #[test]
    fn batches_come_out_sorted_and_stable_across_batches() {
        let mut all: Batches<(u8, &str)> = Batches::default();
        for batch in [
            vec![(2, "a"), (1, "b")],
            vec![],
            vec![(1, "c"), (0, "d"), (2, "e")],
        ] {
            let mut part = Batches::default();
            for item in batch {
                part.push(item);
            }
            all.append(part);
        }
        assert_eq!(all.len(), 5);
        let sorted = all.sorted_by(|a, b| a.0.cmp(&b.0));
        let order: Vec<&str> = sorted.iter().map(|item| item.1).collect();
        assert_eq!(order, ["d", "b", "c", "a", "e"]);
    }
}
