//! Emit stage: resolved group plans → artifacts (bytes plus metadata), nothing written.
//!
//! In: the [`Model`] and the [`GroupPlan`]s. Out: [`Artifact`]s for DDM declarations and
//! configuration profiles, each validated against Apple's schema for its type. Emit never
//! reads the clock or the filesystem, so the same input always gives the same bytes.

pub mod adapters;
mod apple_check;
mod ddm;
mod ids;
mod predicate;
mod profile;

use std::collections::BTreeMap;

use crate::model::Platform;
use crate::resolve::{GroupPlan, PolicyIndex};
use crate::validate::Model;

pub use apple_check::{AppleCheck, EmitError};
pub use ids::{hex, server_token, sha256, sha256_hex};

/// What an artifact is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ArtifactKind {
    /// A DDM declaration of the given `Type`.
    Declaration {
        #[serde(rename = "type")]
        declaration_type: String,
    },
    /// A configuration profile.
    Profile { signed: bool },
}

/// One output file, before it is written.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Path under the output directory, `/`-separated.
    pub path: String,
    pub bytes: Vec<u8>,
    pub kind: ArtifactKind,
    /// The declaration `Identifier` or profile `PayloadIdentifier`.
    pub identifier: String,
    /// The declaration `ServerToken` or profile `PayloadUUID`.
    pub token: String,
    pub group: String,
    pub platforms: Vec<Platform>,
    /// The policies whose settings the artifact carries.
    pub sources: Vec<PolicyIndex>,
    /// For profiles: the SHA-256 of the plist itself, which stays the same when signed.
    pub content_sha256: Option<String>,
}

/// Emits every artifact of every group, checked against Apple's schemas, sorted by path.
pub fn emit(
    model: &Model,
    plans: &[GroupPlan],
    check: &AppleCheck,
) -> Result<Vec<Artifact>, EmitError> {
    let mut artifacts = Vec::new();
    for plan in plans {
        artifacts.extend(emit_plan(model, plan, check)?);
    }
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(artifacts)
}

/// Emits the artifacts of one group, checked against Apple's schemas. Groups are independent,
/// so a build can emit them one at a time (or on several cores) and write each as it goes.
pub fn emit_plan(
    model: &Model,
    plan: &GroupPlan,
    check: &AppleCheck,
) -> Result<Vec<Artifact>, EmitError> {
    let mut artifacts = ddm::emit_group(model, plan);
    artifacts.extend(profile::emit_group(model, plan));
    for artifact in &artifacts {
        check.check(artifact)?;
    }
    Ok(artifacts)
}

/// Splits platforms into runs that share the same value, in platform order.
fn partition<T: PartialEq + Clone>(by_platform: &BTreeMap<Platform, T>) -> Vec<(Vec<Platform>, T)> {
    let mut groups: Vec<(Vec<Platform>, T)> = Vec::new();
    for (platform, value) in by_platform {
        match groups.iter_mut().find(|(_, v)| v == value) {
            Some((platforms, _)) => platforms.push(*platform),
            None => groups.push((vec![*platform], value.clone())),
        }
    }
    groups
}
