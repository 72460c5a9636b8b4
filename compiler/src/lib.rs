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
//! verify   → a written output checked against its manifest        (FileReport)
//! lsp      → the same check, hover and completion for editors      (stdio)
//! cli      → the `bsic` command line over all of it
//! ```
//!
//! Every stage reports problems into one [`diag::Diagnostics`] sink and keeps going, so a
//! run shows every problem at once.

// The library's surface is what the `bsic` binary, the benchmarks (`compiler/benches`), the
// fuzz targets (`fuzz/`) and the end-to-end tests (`tests/`) use; every other module is
// `pub(crate)`, and `unreachable_pub` (with dead-code analysis) then finds what nobody uses.
#![warn(unreachable_pub)]

pub(crate) mod apple;
pub(crate) mod catalog;
pub mod cli;
pub(crate) mod clock;
pub mod diag;
pub mod emit;
pub mod formatter;
pub mod lsp;
pub mod model;
pub(crate) mod output;
mod parallel;
pub mod pipeline;
pub(crate) mod plan;
pub(crate) mod policytest;
pub mod raw;
pub mod resolve;
pub mod sign;
pub mod source;
pub mod status;
pub mod validate;
pub(crate) mod verify;

#[cfg(test)]
mod layout {
    use std::path::Path;

    /// The pipeline stages in order; a stage may use an earlier one and the shared modules
    /// (`apple`, `model`, `diag`, `clock`, `parallel`), never a later stage nor a feature built
    /// on the pipeline (`raw`, `status`, `lsp`, `plan`, `cli`, …).
    const STAGES: [&str; 6] = ["source", "validate", "resolve", "emit", "sign", "output"];
    const FEATURES: [&str; 10] = [
        "raw",
        "status",
        "lsp",
        "plan",
        "catalog",
        "policytest",
        "formatter",
        "cli",
        "verify",
        "pipeline",
    ];

    fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn no_stage_imports_a_later_stage_or_a_feature() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offences = Vec::new();
        for (index, stage) in STAGES.iter().enumerate() {
            let mut files = Vec::new();
            rust_files(&src.join(stage), &mut files);
            assert!(!files.is_empty(), "no files under src/{stage}");
            let forbidden: Vec<&str> = STAGES[index + 1..]
                .iter()
                .chain(FEATURES.iter())
                .copied()
                .collect();
            for file in files {
                let text = std::fs::read_to_string(&file).expect("a readable source file");
                // A stage's tests may drive the whole pipeline.
                let text = text.split("#[cfg(test)]").next().unwrap_or("");
                // `crate::x` paths and the names inside `use crate::{x, …}` groups.
                let mut used: Vec<&str> = text
                    .split("crate::")
                    .skip(1)
                    .filter_map(|rest| {
                        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                    })
                    .collect();
                for group in text.split("use crate::{").skip(1) {
                    let inner = group.split('}').next().unwrap_or("");
                    used.extend(inner.split(',').filter_map(|item| {
                        item.trim()
                            .split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                    }));
                }
                for module in used.into_iter().filter(|m| forbidden.contains(m)) {
                    offences.push(format!("{} uses crate::{module}", file.display()));
                }
            }
        }
        offences.sort();
        offences.dedup();
        assert!(offences.is_empty(), "{offences:#?}");
    }
}

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
