//! `bsic plan`: renders the project in memory and compares it with a previous output
//! directory or a Git revision. Exit 0 no change, 2 changes, 1 error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::pipeline;
use crate::plan::{self, PlanError, Snapshot};

use super::{PlanFormat, Ui, load};

const CHANGES: u8 = 2;
const ERROR: u8 = 1;

fn fail(error: impl miette::Diagnostic, fancy: bool) -> ExitCode {
    say!("{}", super::report::fatal(&error, fancy));
    ExitCode::from(ERROR)
}

pub(super) fn run(
    dir: Option<&Path>,
    against: Option<&str>,
    format: PlanFormat,
    ui: Ui,
) -> ExitCode {
    let checked = match load(dir) {
        Ok(c) => c,
        Err(e) => return fail(e, ui.fancy),
    };
    if checked.has_errors() {
        super::report(&checked, super::Format::Human, ui);
        say!("no plan: fix the errors above first");
        return ExitCode::from(ERROR);
    }
    let against_text = against.map_or_else(|| "dist".to_string(), str::to_string);
    let root = checked.project.root.clone();
    let snapshots = match earlier_output(&root, against) {
        Some(dir) => against_output(checked, &dir),
        None => against_revision(checked, &root, &against_text),
    };
    let (old, new) = match snapshots {
        Ok(snapshots) => snapshots,
        Err(e) => return fail(e, ui.fancy),
    };
    let plan = plan::diff(&old, &new, &against_text);
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    // A closed stdout (`| head`) ends the output quietly; the exit code still tells.
    let _ = match format {
        PlanFormat::Human => stdout.write_all(plan::to_markdown(&plan).as_bytes()),
        PlanFormat::Json => serde_json::to_writer_pretty(&mut stdout, &plan)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout)),
    };
    let _ = stdout.flush();
    if plan.has_changes() {
        ExitCode::from(CHANGES)
    } else {
        ExitCode::SUCCESS
    }
}

/// The output directory `against` names (by default `dist/`), if it names one; else it
/// names a Git revision.
fn earlier_output(root: &Path, against: Option<&str>) -> Option<PathBuf> {
    match against {
        None => Some(root.join("dist")),
        Some(reference) => Some(PathBuf::from(reference)).filter(|path| path.is_dir()),
    }
}

/// The earlier output in `dir` and the new build, rendered keeping only the bytes of what
/// changed.
fn against_output(
    checked: pipeline::Checked,
    dir: &Path,
) -> Result<(Snapshot, Snapshot), OldError> {
    let old = Snapshot::from_dist(dir)?;
    let new = render(checked, &old.needs_bytes_of())?;
    Ok((old, new))
}

/// The build of the Git revision `reference` and the new build. A checked project is the
/// largest thing a plan holds, so the two are never checked at once (that peaked at 316 MB
/// for 10,000 policies): the new build is rendered without bytes, the old one with the bytes
/// of what differs from it, then, only when something did, the new one again with its own
/// (checked again: a project edited into errors meanwhile is reported as such).
fn against_revision(
    checked: pipeline::Checked,
    root: &Path,
    reference: &str,
) -> Result<(Snapshot, Snapshot), OldError> {
    let first = render(checked, &|_| false)?;
    let old = revision_snapshot(root, reference, &first.needs_bytes_of())?;
    if !first.artifacts().any(old.needs_bytes_of()) {
        return Ok((old, first));
    }
    drop(first);
    let checked = pipeline::check(root)?;
    if checked.has_errors() {
        // Edited into errors since the first check, a moment ago.
        return Err(PlanError::OldProjectErrors {
            reference: "the working tree, edited during the plan".into(),
            errors: checked.diagnostics.error_count(),
        }
        .into());
    }
    let new = render(checked, &old.needs_bytes_of())?;
    Ok((old, new))
}

/// `checked` (without errors) rendered in memory, keeping the bytes `keep` asks for; a
/// project without a model renders as an empty build.
fn render(
    checked: pipeline::Checked,
    keep: &(dyn Fn(&plan::Entry) -> bool + Sync),
) -> Result<Snapshot, OldError> {
    let compared = pipeline::render_compared(checked, keep)?;
    Ok(Snapshot::from_compared(compared.unwrap_or_default()))
}

/// The build of the Git revision `reference` of the project at `root`, rendered in memory
/// keeping the bytes `keep` asks for.
fn revision_snapshot(
    root: &Path,
    reference: &str,
    keep: &(dyn Fn(&plan::Entry) -> bool + Sync),
) -> Result<Snapshot, OldError> {
    let exported = plan::git::export(root, reference)?;
    let checked = pipeline::check(exported.root())?;
    if checked.has_errors() || checked.model.is_none() {
        return Err(PlanError::OldProjectErrors {
            reference: reference.to_string(),
            errors: checked.diagnostics.error_count(),
        }
        .into());
    }
    render(checked, keep)
}

/// A failure to obtain the earlier build.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum OldError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Pipeline(#[from] pipeline::Error),
}
