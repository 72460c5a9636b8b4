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
    // The earlier build is read before the new one is rendered: rendering keeps only the
    // bytes of what changed.
    let against_text = against.map_or_else(|| "dist".to_string(), str::to_string);
    let old = match old_snapshot(&checked.project.root, against) {
        Ok(s) => s,
        Err(e) => return fail(e, ui.fancy),
    };
    let new = match pipeline::render_compared(checked, &old.needs_bytes_of()) {
        Ok(Some(compared)) => Snapshot::from_compared(compared),
        // Only a project with errors has no model, and those stopped above.
        Ok(None) => return ExitCode::from(ERROR),
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

/// A directory when `against` names one (or by default `dist/`), else a Git revision.
fn old_snapshot(root: &Path, against: Option<&str>) -> Result<Snapshot, OldError> {
    let Some(reference) = against else {
        return Ok(Snapshot::from_dist(&root.join("dist"))?);
    };
    let as_path = PathBuf::from(reference);
    if as_path.is_dir() {
        return Ok(Snapshot::from_dist(&as_path)?);
    }
    let exported = plan::git::export(root, reference)?;
    let checked = pipeline::check(exported.root())?;
    if checked.has_errors() {
        return Err(PlanError::OldProjectErrors {
            reference: reference.to_string(),
            errors: checked.diagnostics.error_count(),
        }
        .into());
    }
    let errors = checked.diagnostics.error_count();
    // Every artifact's bytes: what the new build changes is not known yet.
    let compared = pipeline::render_compared(checked, &|_| true)?;
    let compared = compared.ok_or_else(|| PlanError::OldProjectErrors {
        reference: reference.to_string(),
        errors,
    })?;
    Ok(Snapshot::from_compared(compared))
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
