//! bsic: a policy-as-code compiler for Apple software-update and Background Security
//! Improvement (BSI) settings.
//!
//! The pipeline, one module per stage, each handing the next a plain type:
//!
//! ```text
//! source   → project discovery, file loading, KDL parsing          (Project)
//! validate → KDL → JSON → JSON Schema → typed model, semantic lints (Model)
//! resolve  → groups, priorities, conflicts per platform             (GroupPlan)
//! emit     → DDM declarations and profiles, checked against Apple   (Artifact)
//! output   → manifest and atomic writes                             (files)
//! plan     → what a build changes against an earlier one            (Plan)
//! formatter→ canonical text of policy files, comments kept         (fmt)
//! status   → device status reports judged against the resolver   (Status)
//! lsp      → the same check, hover and completion for editors      (stdio)
//! cli      → the `bsic` command line over all of it
//! ```
//!
//! Every stage reports problems into one [`diag::Diagnostics`] sink and keeps going, so a
//! run shows every problem at once.

pub mod apple;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod diag;
pub mod emit;
pub mod formatter;
pub mod lsp;
pub mod model;
pub mod output;
mod parallel;
pub mod pipeline;
pub mod plan;
pub mod policytest;
pub mod raw;
pub mod resolve;
pub mod sign;
pub mod source;
pub mod status;
pub mod validate;

/// The repository around the crate, for the unit tests that hold the crate to its docs,
/// schemas and reference project. They are compiled only inside the repository (the
/// `bsic_repo` cfg, set by `build.rs`): a packaged crate has none of it.
#[cfg(all(test, bsic_repo))]
pub(crate) mod repo {
    use std::path::{Path, PathBuf};

    /// The repository's root: the workspace around `compiler/`.
    pub(crate) fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The text of the repository file at `path` (`docs/language.md`).
    pub(crate) fn read(path: &str) -> String {
        std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}
