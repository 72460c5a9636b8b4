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

#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestArtifact {
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
    pub sources: Vec<ManifestSource>,
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
fn locate_policies(model: &Model, sources: &Sources) -> Vec<ManifestSource> {
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
    path: Box<str>,
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
        Self {
            path: artifact.path.as_str().into(),
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
    pub fn finish_unlocated(self) -> ManifestArtifact {
        self.finish(&[])
    }

    /// The entry with the file, line and column of each source policy (`located`, from
    /// [`locate_policies`]).
    fn finish(self, located: &[ManifestSource]) -> ManifestArtifact {
        ManifestArtifact {
            path: self.path.into(),
            sha256: hex(&self.sha256),
            content_sha256: self.content_sha256.map(String::from),
            kind: self.kind,
            identifier: self.identifier.into(),
            token: self.token.into(),
            groups: vec![self.group.into()],
            platforms: self.platforms.into(),
            sources: self
                .policies
                .iter()
                .filter_map(|&index| located.get(index).cloned())
                .collect(),
        }
    }
}

/// Pending entries (sorted by path) that serialize as the finished list, completing one entry
/// at a time.
pub struct PendingEntries {
    entries: std::cell::RefCell<Vec<PendingEntry>>,
    located: Vec<ManifestSource>,
}

impl Serialize for PendingEntries {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entries = std::mem::take(&mut *self.entries.borrow_mut());
        serializer.collect_seq(
            entries
                .into_iter()
                .map(|pending| pending.finish(&self.located)),
        )
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
    artifact: Option<Box<str>>,
}

impl PendingTarget {
    fn finish(self) -> ManifestTargetFile {
        ManifestTargetFile {
            target: self.target.name().to_string(),
            path: self.path.into(),
            sha256: hex(&self.sha256),
            upload: self.upload.to_string(),
            artifact: self.artifact.map(String::from),
        }
    }
}

/// Makes packed target entries, keeping one copy of each upload note (one per thread, joined
/// with [`TargetEntries::append`]).
#[derive(Debug, Default)]
pub struct TargetEntries {
    entries: Vec<PendingTarget>,
    notes: std::collections::HashSet<Arc<str>>,
}

impl TargetEntries {
    pub fn push(&mut self, target: Target, file: &TargetFile) {
        let upload = match self.notes.get(file.upload.as_str()) {
            Some(note) => Arc::clone(note),
            None => {
                let note: Arc<str> = file.upload.as_str().into();
                self.notes.insert(Arc::clone(&note));
                note
            }
        };
        self.entries.push(PendingTarget {
            target,
            path: file.path.as_str().into(),
            sha256: sha256(&file.bytes),
            upload,
            artifact: file.artifact.as_deref().map(Box::from),
        });
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Takes over the entries another thread made.
    pub fn append(&mut self, other: TargetEntries) {
        self.entries.extend(other.entries);
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The finished entries, for a manifest rendered in memory.
    pub fn finish(self) -> Vec<ManifestTargetFile> {
        self.into_pending()
            .entries
            .into_inner()
            .into_iter()
            .map(PendingTarget::finish)
            .collect()
    }

    /// The entries sorted by target, then path, serializing as the finished list.
    pub fn into_pending(self) -> PendingTargets {
        let mut entries = self.entries;
        entries.sort_by(|a, b| (a.target, &a.path).cmp(&(b.target, &b.path)));
        PendingTargets {
            entries: std::cell::RefCell::new(entries),
        }
    }
}

/// Pending target entries (sorted) that serialize as the finished list, one at a time.
#[derive(Default)]
pub struct PendingTargets {
    entries: std::cell::RefCell<Vec<PendingTarget>>,
}

impl Listed for PendingTargets {
    fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }
}

impl Serialize for PendingTargets {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entries = std::mem::take(&mut *self.entries.borrow_mut());
        serializer.collect_seq(entries.into_iter().map(PendingTarget::finish))
    }
}

impl Manifest<PendingEntries, PendingTargets> {
    /// The manifest of a streamed build: `entries` and `targets` in any order, sorted here.
    pub fn pending(
        model: &Model,
        sources: &Sources,
        mut entries: Vec<PendingEntry>,
        targets: TargetEntries,
    ) -> Self {
        entries.sort_by(|a, b| a.path().cmp(b.path()));
        let artifacts = PendingEntries {
            entries: std::cell::RefCell::new(entries),
            located: locate_policies(model, sources),
        };
        let mut manifest = Manifest::new(model, artifacts);
        manifest.targets = targets.into_pending();
        manifest
    }

    /// Writes the manifest, completing each entry as it goes. Writes it once: the entries are
    /// consumed.
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
