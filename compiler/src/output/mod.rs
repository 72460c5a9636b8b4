//! Output stage: the manifest, and writing a whole output tree atomically.
//!
//! In: validated artifacts. Out: a directory that is either the complete new build or, on any
//! failure, exactly what was there before. Nothing else in bsic writes files.

mod cleanup;
mod file;
mod guard;
mod manifest;
mod write;

pub(crate) use file::{Existing, write_file};
pub(crate) use manifest::{
    Batches, MANIFEST_FILE, Manifest, ManifestArtifact, PendingEntry, TargetEntries,
    locate_policies, manifest,
};
pub(crate) use write::{OutputError, TreeWriter};
