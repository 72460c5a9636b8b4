//! Runs the stages in order. The CLI, tests and the future language server call these.

use std::path::Path;
use std::sync::Arc;

use crate::clock::{self, ClockError};
use crate::diag::Diagnostics;
use crate::emit::adapters::{self, Target};
use crate::emit::{self, AppleCheck, Artifact, ArtifactKind, EmitError};
use crate::output::{self, MANIFEST_FILE, OutputError};
use crate::resolve::{self, GroupPlan, Resolution};
use crate::sign::{SignError, Signer};
use crate::source::{self, FileId, Overlay, ParseCache, Project, SourceError};
use crate::validate::{self, Model, ProjectedFile, Validators};

/// Failures that stop a run outright (exit code 2, or 3 for internal errors).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Source(#[from] SourceError),
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
    #[error(transparent)]
    #[diagnostic(transparent)]
    Raw(#[from] crate::raw::RawError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Catalog(#[from] crate::catalog::CatalogError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Template(#[from] adapters::TemplateError),
}

/// Told how a build advances, so a front end can show it (the CLI draws a progress bar on a
/// terminal). Called from the worker threads.
pub trait Progress: Sync {
    /// The build will write the artifacts of `groups` groups.
    fn start(&self, groups: usize);
    /// One more group is written.
    fn advance(&self);
    /// Everything is written; the manifest and the swap into place follow.
    fn finish(&self);
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: usize) {}
    fn advance(&self) {}
    fn finish(&self) {}
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
        matches!(
            self,
            Error::Emit(_) | Error::Template(_) | Error::Raw(crate::raw::RawError::Schema { .. })
        )
    }
}

/// The result of checking a project: everything read, every diagnostic, and what resolved.
#[derive(Debug)]
pub struct Checked {
    /// Everything read; each policy file that parsed is kept as its id.
    pub project: Project<FileId>,
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
    check_with(root, overlay, Validators::shared(), None)
}

/// Like [`check_with_overlay`], with schemas compiled once by the caller and, with a `cache`,
/// only the files whose text changed parsed again: a long-running process (the language
/// server) re-checks on every keystroke without redoing either.
pub fn check_with(
    root: &Path,
    overlay: &Overlay,
    validators: &Validators,
    cache: Option<&ParseCache<ProjectedFile>>,
) -> Result<Checked, Error> {
    let mut diagnostics = Diagnostics::default();
    let project = source::load_project_mapped(root, overlay, cache, &mut diagnostics, &|parsed| {
        validators.project_policy_file(&parsed)
    })?;
    let (project, mut model) = validate::validate(project, validators, &mut diagnostics);
    if let Some(model) = &mut model {
        model.catalog = crate::catalog::load_pinned(root, model, &mut diagnostics);
    }
    let resolution = model
        .as_ref()
        .map(|m| resolve::resolve(m, &mut diagnostics))
        .unwrap_or_default();
    if let Some(model) = &model {
        let now = clock::now()?;
        crate::catalog::check(model, &resolution, now, &mut diagnostics);
        let complete = !diagnostics.has_errors();
        resolve::lint(model, &resolution, now, complete, &mut diagnostics);
        diagnostics.apply_levels(model.project.lints.as_ref().unwrap_or(&Default::default()));
    }
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
    render_targets(checked, signing, &[])
}

/// [`render`], plus the layout of each MDM in `targets` under `<target>/`, listed in the
/// manifest with where each file is uploaded.
pub fn render_targets(
    checked: &Checked,
    signing: Option<&Signing>,
    targets: &[Target],
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let Some(model) = &checked.model else {
        return Ok(Vec::new());
    };
    let mut artifacts: Vec<Artifact> =
        emit::emit(model, &checked.resolution.plans, &AppleCheck::new()?)?;
    let context = adapters::Context::of(&model.project, &checked.resolution.graph)?;
    let mut target_files: Vec<(Target, adapters::TargetFile)> = Vec::new();
    for target in adapters::distinct(targets) {
        let files = adapters::render(target, &artifacts, &context)?;
        target_files.extend(files.into_iter().map(|f| (target, f)));
    }
    if let Some(signing) = signing {
        sign_profiles(&mut artifacts, signing)?;
    }
    let mut manifest = output::manifest(model, &checked.project.sources, &artifacts);
    let mut entries = output::TargetEntries::default();
    for (target, file) in &target_files {
        entries.push(*target, file, &[]);
    }
    manifest.targets = entries.finish();
    let mut files: Vec<(String, Vec<u8>)> =
        artifacts.into_iter().map(|a| (a.path, a.bytes)).collect();
    files.extend(target_files.into_iter().map(|(_, f)| (f.path, f.bytes)));
    files.push((MANIFEST_FILE.to_string(), manifest.to_bytes()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// What `bsic plan` compares of a build: every artifact's manifest entry (without its source
/// policies) and the bytes of those `keep` asks for.
#[derive(Debug, Default)]
pub(crate) struct Compared {
    /// Sorted by path.
    pub artifacts: Vec<crate::plan::Entry>,
    pub files: Vec<(String, Vec<u8>)>,
}

/// The build of `checked` (which has no errors), unsigned and without targets, emitted like
/// [`build_targets`] group by group on every core, each group's plan dropped once emitted;
/// an artifact's bytes are kept only when `keep` wants them (a change to show). `None` when
/// the project has no model. Rendering the whole build in memory held a 10,000-policy
/// project's plans, artifacts and manifest at once (300 MB).
pub(crate) fn render_compared(
    checked: Checked,
    keep: &(dyn Fn(&crate::plan::Entry) -> bool + Sync),
) -> Result<Option<Compared>, Error> {
    // Only the model and the plans are needed; the sources, diagnostics and group graph go.
    let Checked {
        project,
        diagnostics,
        model,
        resolution: Resolution { graph, plans },
    } = checked;
    drop((project, diagnostics, graph));
    let Some(model) = &model else {
        return Ok(None);
    };
    let check = AppleCheck::new()?;
    let parts = crate::parallel::map(plans, 8, |_, plan| {
        let artifacts = emit::emit_plan(model, &plan, &check)?;
        drop(plan);
        let kept: Vec<_> = artifacts
            .into_iter()
            .map(|artifact| {
                let entry = crate::plan::Entry::from(
                    output::PendingEntry::new(&artifact).finish_unlocated(),
                );
                let bytes = keep(&entry).then_some(artifact.bytes);
                (entry, bytes)
            })
            .collect();
        Ok::<_, Error>(kept)
    });
    let mut compared = Compared::default();
    for part in parts {
        for (entry, bytes) in part? {
            if let Some(bytes) = bytes {
                compared.files.push((entry.path().to_string(), bytes));
            }
            compared.artifacts.push(entry);
        }
    }
    compared.artifacts.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(Some(compared))
}

/// Signs every profile in place, on all cores. Each profile's signature depends only on its
/// own bytes, the key and the signing time, so the output is the same on any number of cores.
fn sign_profiles(artifacts: &mut [Artifact], signing: &Signing) -> Result<(), Error> {
    let profiles: Vec<&mut Artifact> = artifacts
        .iter_mut()
        .filter(|a| matches!(a.kind, ArtifactKind::Profile { .. }))
        .collect();
    crate::parallel::map(profiles, 32, |_, artifact| sign_profile(artifact, signing))
        .into_iter()
        .collect()
}

/// Signs `artifact` in place if it is a profile; declarations are left as they are.
fn sign_profile(artifact: &mut Artifact, signing: &Signing) -> Result<(), Error> {
    if let ArtifactKind::Profile { signed } = &mut artifact.kind {
        artifact.bytes = signing.signer.sign(&artifact.bytes, signing.time)?;
        *signed = true;
    }
    Ok(())
}

/// What a build writes besides the generic layout, and how it may replace the old output.
pub struct BuildOptions<'a> {
    pub signing: Option<&'a Signing>,
    /// The MDM layouts written beside the generic one.
    pub targets: &'a [Target],
    /// Lets a build without artifacts replace an output that had some.
    pub allow_empty: bool,
}

/// Renders and writes the output tree atomically, with the layouts of `options.targets`.
///
/// `out` must be new, empty, or a previous bsic output that is not the project or one of its
/// ancestors; a build without artifacts replaces a non-empty output only with
/// `allow_empty`, because that is how a bad glob would wipe a fleet's configuration.
///
/// The build streams: each group is emitted, checked, laid out for each target, signed and
/// written on one of the cores, then its plan is dropped and only its manifest entries (and
/// its lines of the targets' upload scripts) are kept, so memory does not grow with the size
/// of the output. The files that span groups and the manifest are written last.
pub fn build_targets(
    checked: Checked,
    out: &Path,
    options: &BuildOptions<'_>,
    progress: &dyn Progress,
) -> Result<usize, Error> {
    let BuildOptions {
        signing,
        targets,
        allow_empty,
    } = *options;
    // Only what emission needs stays alive; each plan is dropped once written.
    let Checked {
        project,
        mut model,
        resolution,
        diagnostics,
    } = checked;
    drop(diagnostics);
    let writer = output::TreeWriter::begin(out, &project.root)?;
    let Some(model) = &mut model else {
        refuse_empty(&writer, allow_empty)?;
        writer.commit()?;
        return Ok(0);
    };
    // Where each policy is written, for the manifest, found now: the source texts and spans
    // that tell it go before the build's entries pile up (25 MB at 10,000 policies).
    let located = output::locate_policies(model, &project.sources);
    drop(project);
    model.forget_spans();
    let model = &*model;
    let targets = adapters::distinct(targets);
    // The adapters keep what they need of the group graph (who is a member of what).
    let context = adapters::Context::of(&model.project, &resolution.graph)?;
    drop(resolution.graph);
    let check = AppleCheck::new()?;
    let emitter = GroupEmitter {
        model,
        targets: &targets,
        context: &context,
        check: &check,
        signing,
        writer: &writer,
    };
    progress.start(resolution.plans.len());
    // At least 8 groups per core: fewer are not worth a thread.
    let parts = crate::parallel::map(resolution.plans, 8, |_, plan| {
        let written = emitter.emit_and_write(plan);
        progress.advance();
        written
    });
    progress.finish();
    let mut all = Written::default();
    for part in parts {
        let part = part?;
        all.entries.append(part.entries);
        all.targets.append(part.targets);
        all.fragments.extend(part.fragments);
    }
    emitter.write_cross_group_files(&mut all)?;
    if all.entries.is_empty() {
        refuse_empty(&writer, allow_empty)?;
    }
    let count = all.entries.len() + all.targets.len() + 1;
    let manifest = output::Manifest::pending(model, located, all.entries, all.targets);
    writer.write_with(MANIFEST_FILE, |file| manifest.write_to(file))?;
    writer.commit()?;
    Ok(count)
}

/// What writing one group's files needs, shared by the workers of a build.
struct GroupEmitter<'a> {
    model: &'a Model,
    targets: &'a [Target],
    context: &'a adapters::Context<'a>,
    check: &'a AppleCheck,
    signing: Option<&'a Signing>,
    writer: &'a output::TreeWriter,
}

impl GroupEmitter<'_> {
    /// Emits one group's artifacts, writes them (signed profiles when signing) and each
    /// target's layout of them, and returns what the manifest and the cross-group files need.
    fn emit_and_write(&self, plan: GroupPlan) -> Result<Written, Error> {
        let mut written = Written::default();
        let mut artifacts = emit::emit_plan(self.model, &plan, self.check)?;
        artifacts.sort_by(|a, b| a.path.cmp(&b.path));
        let paths: Vec<Arc<str>> = artifacts.iter().map(|a| a.path.as_str().into()).collect();
        if !artifacts.is_empty() {
            let members: Vec<&Artifact> = artifacts.iter().collect();
            for &target in self.targets {
                let layout = adapters::render_group(target, &plan.group, &members, self.context)?;
                for file in &layout.files {
                    self.writer.write(&file.path, &file.bytes)?;
                    written.targets.push(target, file, &paths);
                }
                written
                    .fragments
                    .push((plan.group.clone(), target, layout.fragments));
            }
        }
        for (mut artifact, path) in artifacts.into_iter().zip(paths) {
            if let Some(signing) = self.signing {
                sign_profile(&mut artifact, signing)?;
            }
            self.writer.write(&artifact.path, &artifact.bytes)?;
            written
                .entries
                .push(output::PendingEntry::sharing(&artifact, path));
        }
        Ok(written)
    }

    /// The files that span groups (a target's upload script, its index), from the groups'
    /// fragments in group order.
    fn write_cross_group_files(&self, all: &mut Written) -> Result<(), Error> {
        all.fragments.sort_by(|a, b| a.0.cmp(&b.0));
        for &target in self.targets {
            let fragments = all
                .fragments
                .iter()
                .filter(|(_, t, _)| *t == target)
                .flat_map(|(_, _, fragments)| fragments);
            for file in adapters::finish(target, fragments, self.context)? {
                self.writer.write(&file.path, &file.bytes)?;
                all.targets.push(target, &file, &[]);
            }
        }
        Ok(())
    }
}

/// Refuses to let a build without artifacts replace an output that has some, unless allowed.
fn refuse_empty(writer: &output::TreeWriter, allow_empty: bool) -> Result<(), OutputError> {
    if allow_empty || writer.previous_files() == 0 {
        return Ok(());
    }
    Err(OutputError::EmptyBuild {
        path: writer.out().to_path_buf(),
        previous: writer.previous_files(),
    })
}

/// What one core of a streamed build keeps of the groups it wrote.
#[derive(Default)]
struct Written {
    entries: output::Batches<output::PendingEntry>,
    targets: output::TargetEntries,
    /// (group, target, that group's fragments of the target's spanning files)
    fragments: Vec<(String, Target, Vec<adapters::Fragment>)>,
}
