//! `bsic fmt`: rewrites policy files and bsic.kdl in canonical form, or with `--check` lists
//! those that are not (exit 1). Files are replaced atomically, and only when they change.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::diag::Diagnostics;
use crate::formatter;
use crate::source;

use super::Ui;

/// The files to format: those given (directories searched for `*.kdl`), or the project's.
fn files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, String)>, String> {
    if paths.is_empty() {
        let root = source::find_project_root(Path::new(".")).map_err(|e| e.to_string())?;
        let mut diagnostics = Diagnostics::default();
        return source::project_files(&root, &mut diagnostics).map_err(|e| e.to_string());
    }
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            for entry in walkdir::WalkDir::new(path)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    let name = e.file_name().to_string_lossy();
                    e.depth() == 0 || !(name.starts_with('.') || name == "target" || name == "dist")
                })
                .flatten()
            {
                if entry.file_type().is_file()
                    && entry.path().extension().is_some_and(|e| e == "kdl")
                {
                    let path = entry.path().to_path_buf();
                    let shown = path.display().to_string();
                    found.push((path, shown));
                }
            }
        } else {
            found.push((path.clone(), path.display().to_string()));
        }
    }
    Ok(found)
}

/// What formatting one file came to.
enum Outcome {
    Unchanged,
    /// Rewritten, or with `--check` found to need it.
    Changed,
    Failed(String),
}

/// Formats one file, and unless `check` replaces it atomically when it changes. Runs on any
/// core: it touches nothing but its own file.
fn format_file(path: &Path, shown: &str, check: bool) -> Outcome {
    let text = match crate::source::read::read_to_string(path, crate::source::Input::Kdl) {
        Ok(t) => t,
        Err(e) => return Outcome::Failed(format!("cannot read `{shown}`: {e}")),
    };
    let formatted = match formatter::format(&text) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(format!("`{shown}`: {e} (run `bsic check` for details)")),
    };
    if formatted == text {
        return Outcome::Unchanged;
    }
    if !check
        && let Err(e) =
            crate::output::write_file(path, formatted.as_bytes(), crate::output::Existing::Replace)
    {
        return Outcome::Failed(format!("cannot write `{shown}`: {e}"));
    }
    Outcome::Changed
}

pub(super) fn run(paths: &[PathBuf], check: bool, ui: Ui) -> ExitCode {
    let files = match files(paths) {
        Ok(f) => f,
        Err(message) => {
            say!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let count = files.len();
    // Every file on its own core; what each came to is reported in file order.
    let outcomes = crate::parallel::map(files, 4, |_, (path, shown)| {
        let outcome = format_file(&path, &shown, check);
        (shown, outcome)
    });
    let mut stdout = std::io::stdout().lock();
    let (mut changed, mut failed) = (0usize, 0usize);
    for (shown, outcome) in outcomes {
        match outcome {
            Outcome::Unchanged if ui.verbose => say!("unchanged {shown}"),
            Outcome::Unchanged => {}
            Outcome::Failed(message) => {
                say!("error: {message}");
                failed += 1;
            }
            Outcome::Changed => {
                changed += 1;
                if check {
                    let _ = writeln!(stdout, "{shown}");
                } else if ui.verbose {
                    say!("formatted {shown}");
                }
            }
        }
    }
    if !ui.quiet {
        let verb = if check {
            "need formatting"
        } else {
            "formatted"
        };
        say!("{count} files checked, {changed} {verb}");
    }
    if failed > 0 || (check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
