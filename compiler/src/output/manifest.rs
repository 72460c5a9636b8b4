//! `manifest.json`: every artifact with its hash, identity, groups and source policies.

use serde::Serialize;

use crate::emit::{Artifact, ArtifactKind, sha256_hex};
use crate::model::Platform;
use crate::source::Sources;
use crate::validate::Model;

pub const MANIFEST_FILE: &str = "manifest.json";

/// The manifest document. Its shape is an interface: tools and `bsic plan` read it.
#[derive(Debug, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Manifest {
    pub generator: String,
    pub organization: String,
    pub identifier_prefix: String,
    pub artifacts: Vec<ManifestArtifact>,
    /// The files of each MDM layout (`bsic build --target`), and where each is uploaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<ManifestTargetFile>,
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

#[derive(Debug, Serialize, serde::Deserialize)]
pub struct ManifestSource {
    pub policy: String,
    pub file: String,
    pub line: usize,
    pub column: usize,
}

/// Builds the manifest for `artifacts` (already sorted by path).
pub fn manifest(model: &Model, sources: &Sources, artifacts: &[Artifact]) -> Manifest {
    Manifest::new(
        model,
        artifacts
            .iter()
            .map(|artifact| entry(model, sources, artifact))
            .collect(),
    )
}

/// The manifest entry of one artifact (in its final form: signed when it will be).
pub fn entry(model: &Model, sources: &Sources, artifact: &Artifact) -> ManifestArtifact {
    ManifestArtifact {
        path: artifact.path.clone(),
        sha256: sha256_hex(&artifact.bytes),
        content_sha256: artifact.content_sha256.clone(),
        kind: artifact.kind.clone(),
        identifier: artifact.identifier.clone(),
        token: artifact.token.clone(),
        groups: vec![artifact.group.clone()],
        platforms: artifact.platforms.clone(),
        sources: artifact
            .sources
            .iter()
            .filter_map(|&index| model.policies.get(index))
            .map(|policy| {
                let span = model.key_span(&policy.at, "");
                let (line, column) = sources.line_col(span);
                ManifestSource {
                    policy: policy.value.name.to_string(),
                    file: sources.name(span.file).to_string(),
                    line,
                    column,
                }
            })
            .collect(),
    }
}

impl Manifest {
    /// The manifest of a project whose artifacts are `artifacts` (sorted by path).
    pub fn new(model: &Model, artifacts: Vec<ManifestArtifact>) -> Self {
        Self {
            generator: format!("bsic {}", env!("CARGO_PKG_VERSION")),
            organization: model.project.organization.clone(),
            identifier_prefix: model.project.identifier_prefix.to_string(),
            artifacts,
            targets: Vec::new(),
        }
    }

    /// Pretty JSON with a trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}
