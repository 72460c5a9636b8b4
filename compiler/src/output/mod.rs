//! Output stage: the manifest, and writing a whole output tree atomically.
//!
//! In: validated artifacts. Out: a directory that is either the complete new build or, on any
//! failure, exactly what was there before. Nothing else in bsic writes files.

mod cleanup;
mod file;
mod guard;
mod manifest;
mod write;

pub use file::{Existing, write_file};
pub use guard::{Destination, UPLOAD_STATE_FILES, check_destination};
pub use manifest::{
    Listed, MANIFEST_FILE, Manifest, ManifestArtifact, ManifestSource, ManifestTargetFile,
    PendingEntries, PendingEntry, PendingTargets, TargetEntries, manifest,
};
pub use write::{OutputError, TreeWriter, write_tree};
