//! `bsic validate` and `bsic import`: argument handling, reporting and the one file write of
//! import (atomic, never over an existing file without `--force`). The work is in `raw`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::model::{OsVersion, Platform, ProjectFile};
use crate::pipeline::{self, Error};
use crate::raw::{self, RawError, ValidateOptions};
use crate::source;

use super::args::{Format, ValidateArgs};
use super::{POLICY_ERRORS, Ui, plural, print_for_code_review, report};

/// Runs `bsic validate`.
pub(super) fn run(paths: &[PathBuf], args: &ValidateArgs, ui: Ui) -> Result<ExitCode, Error> {
    let explicit = args.platform.is_some() || args.min_os.is_some();
    let options = ValidateOptions {
        paths: paths.to_vec(),
        platform: args.platform,
        min_os: args.min_os.clone(),
        fleet: if explicit {
            Vec::new()
        } else {
            project_fleet()
        },
    };
    let outcome = raw::validate(&options)?;
    match args.format {
        Format::Human => {
            report::human(&outcome.diagnostics, &outcome.sources, ui.limit, ui.fancy);
            if ui.quiet {
                return Ok(exit_code(&outcome));
            }
            let errors = outcome.diagnostics.error_count();
            let warnings = outcome.diagnostics.warning_count();
            let skipped = if outcome.skipped > 0 {
                format!(" ({} other files skipped)", outcome.skipped)
            } else {
                String::new()
            };
            say!(
                "validated {} {}{skipped}: {errors} {}, {warnings} {}",
                outcome.checked,
                plural(outcome.checked, "file", "files"),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            );
        }
        Format::Json => report::json_lines(&outcome.diagnostics, &outcome.sources, ui.limit),
        Format::Sarif | Format::Github => {
            // File names are shown as given, relative to the working directory.
            let cwd = std::env::current_dir()
                .and_then(std::fs::canonicalize)
                .unwrap_or_default();
            print_for_code_review(
                &outcome.diagnostics,
                &outcome.sources,
                &cwd,
                args.format,
                ui.limit,
            );
        }
    }
    Ok(exit_code(&outcome))
}

/// The platforms and oldest versions `fleet` states in the `bsic.kdl` above the working
/// directory, if there is one. A project file that does not parse or validate is reported by
/// `bsic check`; here it only means no fleet, said once on stderr. One without a `fleet` node
/// is not validated at all (8–11 page faults and 1 % of a one-file `validate`).
fn project_fleet() -> Vec<(Platform, Option<OsVersion>)> {
    let Ok(root) = source::find_project_root(Path::new(".")) else {
        return Vec::new();
    };
    let path = root.join(source::PROJECT_FILE);
    let Ok(text) = crate::source::read::read_to_string(&path, source::Input::Kdl) else {
        return Vec::new();
    };
    let document = source::parse_kdl(source::FileId(0), &text);
    if document.as_ref().is_ok_and(|document| {
        !document
            .nodes()
            .iter()
            .any(|node| node.name().value() == "fleet")
    }) {
        return Vec::new();
    }
    let parsed = document.ok().and_then(|document| {
        let parsed = source::ParsedFile {
            file: source::FileId(0),
            document: document.into(),
        };
        let mut diagnostics = crate::diag::Diagnostics::default();
        crate::validate::validate_document::<ProjectFile>(&parsed, &mut diagnostics)
    });
    let Some((project, _)) = parsed else {
        say!(
            "warning: {} has errors (see `bsic check`); validating without its `fleet`",
            path.display()
        );
        return Vec::new();
    };
    let Some(fleet) = project.fleet else {
        return Vec::new();
    };
    Platform::ALL
        .iter()
        .filter_map(|&p| fleet.minimum(p).map(|v| (p, Some(v.clone()))))
        .collect()
}

fn exit_code(outcome: &raw::Report) -> ExitCode {
    if outcome.diagnostics.has_errors() {
        ExitCode::from(POLICY_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs `bsic import`.
pub(super) fn import(
    files: &[PathBuf],
    out: &Path,
    group: &str,
    force: bool,
    ui: Ui,
) -> Result<ExitCode, Error> {
    let shown = out.display().to_string();
    if out.exists() && !force {
        return Err(RawError::Exists { path: shown }.into());
    }
    let define_group = !project_defines(out, group);
    let (mut outcome, result) = raw::import(files, group, define_group)?;
    let Some(result) = result else {
        report::human(&outcome.diagnostics, &outcome.sources, ui.limit, ui.fancy);
        say!("nothing written: fix the errors above first");
        return Ok(ExitCode::from(POLICY_ERRORS));
    };
    outcome.diagnostics.extend(result.diagnostics);
    report::human(&outcome.diagnostics, &outcome.sources, ui.limit, ui.fancy);
    if result.policies == 0 {
        say!("nothing written: none of the files holds settings bsic can express");
        return Ok(ExitCode::from(POLICY_ERRORS));
    }
    write_atomically(out, result.text.as_bytes(), force)?;
    let _ = writeln!(
        std::io::stdout().lock(),
        "wrote {} {} to {shown}",
        result.policies,
        plural(result.policies, "policy", "policies")
    );
    Ok(ExitCode::SUCCESS)
}

/// True when the project around `out` already defines `group` in another file (or it is
/// the built-in `all`), so the import must not define it again.
fn project_defines(out: &Path, group: &str) -> bool {
    if group == crate::resolve::ALL {
        return true;
    }
    let start = out
        .parent()
        .filter(|p| p.is_dir())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let Ok(root) = source::find_project_root(&start) else {
        return false;
    };
    let Ok(checked) = pipeline::check(&root) else {
        return false;
    };
    let target = out.canonicalize().ok();
    checked.model.as_ref().is_some_and(|model| {
        model.groups.iter().any(|g| {
            let file = checked
                .project
                .sources
                .get(g.at.file)
                .and_then(|f| f.path.canonicalize().ok());
            g.value.name.as_str() == group && (target.is_none() || file != target)
        })
    })
}

fn write_atomically(out: &Path, bytes: &[u8], force: bool) -> Result<(), RawError> {
    use crate::output::{Existing, write_file};
    let existing = if force {
        Existing::Replace
    } else {
        Existing::Refuse
    };
    write_file(out, bytes, existing).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            RawError::Exists {
                path: out.display().to_string(),
            }
        } else {
            RawError::Write {
                path: out.display().to_string(),
                source,
            }
        }
    })
}
