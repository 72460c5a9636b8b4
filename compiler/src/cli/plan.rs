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
    let rendered = match pipeline::render(&checked, None) {
        Ok(r) => r,
        Err(e) => return fail(e, ui.fancy),
    };
    let new = match Snapshot::from_rendered(&rendered) {
        Ok(s) => s,
        Err(e) => return fail(e, ui.fancy),
    };
    let root = &checked.project.root;
    let against_text = against.map_or_else(|| "dist".to_string(), str::to_string);
    let old = match old_snapshot(root, against) {
        Ok(s) => s,
        Err(e) => return fail(e, ui.fancy),
    };
    let plan = plan::diff(&old, &new, &against_text);
    let text = match format {
        PlanFormat::Human => plan::to_markdown(&plan),
        PlanFormat::Json => {
            let mut t = serde_json::to_string_pretty(&plan).unwrap_or_default();
            t.push('\n');
            t
        }
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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
    let rendered = pipeline::render(&checked, None)?;
    Ok(Snapshot::from_rendered(&rendered)?)
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
