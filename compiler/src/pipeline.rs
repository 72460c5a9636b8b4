//! Runs the stages in order. The CLI, tests and the future language server call these.

use std::path::Path;

use crate::clock::ClockError;
use crate::diag::Diagnostics;
use crate::emit::{self, AppleCheck, Artifact, ArtifactKind, EmitError};
use crate::output::{self, MANIFEST_FILE, OutputError};
use crate::resolve::{self, Resolution};
use crate::sign::{SignError, Signer};
use crate::source::{self, Overlay, Project, SourceError};
use crate::validate::{self, Model, SchemaBuildError, Validators};

/// Failures that stop a run outright (exit code 2, or 3 for internal errors).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Schema(#[from] SchemaBuildError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Emit(#[from] EmitError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Sign(#[from] SignError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Clock(#[from] ClockError),
}

/// A loaded signing identity and the signing time to stamp.
pub struct Signing {
    pub signer: Signer,
    /// Unix seconds; `SOURCE_DATE_EPOCH` when set.
    pub time: i64,
}

impl Error {
    /// True for bsic's own bugs, as opposed to the environment's failures.
    pub fn is_internal(&self) -> bool {
        matches!(self, Error::Schema(_) | Error::Emit(_))
    }
}

/// The result of checking a project: everything read, every diagnostic, and what resolved.
#[derive(Debug)]
pub struct Checked {
    pub project: Project,
    pub diagnostics: Diagnostics,
    pub model: Option<Model>,
    pub resolution: Resolution,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.has_errors()
    }
}

/// Loads, validates and resolves the project whose `bsic.kdl` is in `root`.
pub fn check(root: &Path) -> Result<Checked, Error> {
    check_with_overlay(root, &Overlay::new())
}

/// Like [`check`], with unsaved editor buffers (`overlay`, by absolute path) standing in for
/// the files on disk. The language server re-checks through this on every change.
pub fn check_with_overlay(root: &Path, overlay: &Overlay) -> Result<Checked, Error> {
    check_with(root, overlay, &Validators::new()?)
}

/// Like [`check_with_overlay`], with schemas compiled once by the caller: a long-running
/// process (the language server) re-checks without compiling them on every keystroke.
pub fn check_with(
    root: &Path,
    overlay: &Overlay,
    validators: &Validators,
) -> Result<Checked, Error> {
    let mut diagnostics = Diagnostics::default();
    let project = source::load_project_with(root, overlay, &mut diagnostics)?;
    let model = validate::validate(&project, validators, &mut diagnostics);
    let resolution = model
        .as_ref()
        .map(|m| resolve::resolve(m, &mut diagnostics))
        .unwrap_or_default();
    Ok(Checked {
        project,
        diagnostics,
        model,
        resolution,
    })
}

/// Emits every artifact of a checked project (profiles signed when `signing` is given) plus
/// its manifest, as (path, bytes), sorted. Call only when [`Checked::has_errors`] is false.
pub fn render(
    checked: &Checked,
    signing: Option<&Signing>,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let Some(model) = &checked.model else {
        return Ok(Vec::new());
    };
    let mut artifacts: Vec<Artifact> =
        emit::emit(model, &checked.resolution.plans, &AppleCheck::new()?)?;
    if let Some(signing) = signing {
        sign_profiles(&mut artifacts, signing)?;
    }
    let manifest = output::manifest(model, &checked.project.sources, &artifacts);
    let mut files: Vec<(String, Vec<u8>)> =
        artifacts.into_iter().map(|a| (a.path, a.bytes)).collect();
    files.push((MANIFEST_FILE.to_string(), manifest.to_bytes()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Signs every profile in place.
fn sign_profiles(artifacts: &mut [Artifact], signing: &Signing) -> Result<(), Error> {
    for artifact in artifacts.iter_mut() {
        if let ArtifactKind::Profile { signed } = &mut artifact.kind {
            artifact.bytes = signing.signer.sign(&artifact.bytes, signing.time)?;
            *signed = true;
        }
    }
    Ok(())
}

/// Renders and writes the output tree atomically.
pub fn build(checked: &Checked, out: &Path, signing: Option<&Signing>) -> Result<usize, Error> {
    let files = render(checked, signing)?;
    output::write_tree(out, &files)?;
    Ok(files.len())
}
