//! The command line: parses arguments, runs the pipeline, reports, and maps outcomes to exit
//! codes (0 ok, 1 policy errors, 2 usage or I/O errors, 3 internal errors).
#![allow(clippy::print_stdout, clippy::print_stderr)]

/// `eprintln!` that ignores a closed stderr: a reader that stops early
/// (`bsic check 2>&1 | head -1`) is not an error, and `eprintln!` would panic. The line is
/// formatted first and written whole: stderr is unbuffered, and `writeln!` would issue one
/// write per piece (eleven for the summary line), each a wake-up for the reader of a pipe.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut line = format!($($arg)*);
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }};
}

mod args;
mod build;
mod catalog;
mod excerpt;
mod explain;
mod fmt;
mod format;
mod init;
mod keys;
mod man;
mod panic;
mod plan;
mod progress;
mod report;
mod signing;
mod status;
mod validate;
mod verify;
mod version;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::diag::Limit;
use crate::model;
use crate::pipeline::{self, Checked, Error};
use crate::source;

pub use args::{Cli, ColorChoice, Command, Format, PlanFormat, SignArgs, TargetArg, ValidateArgs};
pub use report::{to_json, write_human};

/// Exit code for policy errors.
pub(super) const POLICY_ERRORS: u8 = 1;
/// Exit code for usage and I/O errors.
const USAGE_ERROR: u8 = 2;
/// Exit code for bsic's own bugs.
const INTERNAL_ERROR: u8 = 3;

/// Runs bsic with the process arguments. A panic anywhere below is reported as one
/// `internal error, please report` line and exit code 3 (see `cli/panic.rs`).
pub fn run() -> ExitCode {
    panic::install_hook();
    match std::panic::catch_unwind(run_unguarded) {
        Ok(code) => code,
        // A write to a closed pipe that still panicked somewhere: the reader has gone, so
        // stop quietly, as ripgrep does.
        Err(payload) if panic::is_broken_pipe(&panic::payload_text(payload.as_ref())) => {
            ExitCode::SUCCESS
        }
        Err(_) => ExitCode::from(INTERNAL_ERROR),
    }
}

fn run_unguarded() -> ExitCode {
    if std::env::var_os(panic::TEST_PANIC_ENV).is_some() {
        panic!("deliberate panic requested by {}", panic::TEST_PANIC_ENV);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { USAGE_ERROR } else { 0 });
        }
    };
    let fancy = report::fancy(cli.options.color);
    let ui = Ui {
        fancy,
        quiet: cli.options.quiet,
        verbose: cli.options.verbose,
        limit: Limit::per_file(cli.options.max_diagnostics),
    };
    match execute(&cli.command, ui) {
        Ok(code) => code,
        Err(error) => {
            let code = if error.is_internal() {
                INTERNAL_ERROR
            } else {
                USAGE_ERROR
            };
            say!("{}", report::fatal(&error, fancy));
            ExitCode::from(code)
        }
    }
}

/// How chatty and colourful stderr is, and how many diagnostics it reports.
#[derive(Debug, Clone, Copy)]
struct Ui {
    fancy: bool,
    quiet: bool,
    verbose: bool,
    limit: Limit,
}

/// Runs one command: a thin dispatch, each command's work in a function of its own.
fn execute(command: &Command, ui: Ui) -> Result<ExitCode, Error> {
    match command {
        Command::Check {
            dir,
            format,
            explain_overrides,
        } => check(dir.as_deref(), *format, *explain_overrides, ui),
        Command::Plan {
            dir,
            against,
            format,
        } => Ok(plan::run(dir.as_deref(), against.as_deref(), *format, ui)),
        Command::Fmt { files, check } => Ok(fmt::run(files, *check, ui)),
        Command::Init {
            dir,
            organization,
            identifier_prefix,
        } => Ok(init::run(
            dir.as_deref(),
            organization,
            identifier_prefix,
            ui,
        )),
        Command::Completions { shell } => Ok(print_completions(*shell)),
        Command::Man { command } => Ok(man::print(command)),
        Command::Version { json } => Ok(version::print(*json)),
        Command::Build {
            dir,
            out,
            format,
            targets,
            allow_empty,
            sign,
        } => build::run(
            dir.as_deref(),
            &build::BuildArgs {
                out: out.as_deref(),
                format: *format,
                targets,
                allow_empty: *allow_empty,
                sign,
            },
            ui,
        ),
        Command::Verify {
            paths,
            ca,
            allow_unsigned,
        } => verify::run(paths, ca.as_deref(), *allow_unsigned),
        Command::Explain { dir, args } => with_clean_project(dir.as_deref(), ui, |checked| {
            let mut args = args.clone();
            args.json = args.format == args::ExplainFormat::Json;
            Ok(explain::run(checked, &args))
        }),
        Command::Test { dir } => {
            with_clean_project(dir.as_deref(), ui, |checked| run_policy_tests(checked, ui))
        }
        Command::Catalog(args::CatalogCommand::Import {
            feeds,
            out,
            platform,
        }) => catalog::import(feeds, out.as_deref(), *platform, ui),
        Command::Status { dir, args } => with_clean_project(dir.as_deref(), ui, |checked| {
            Ok(status::run(checked, args, ui.fancy, ui.limit))
        }),
        Command::Validate { paths, args } => validate::run(paths, args, ui),
        Command::Import {
            files,
            out,
            group,
            force,
        } => validate::import(files, out, group, *force, ui),
        Command::Keys { json, platform } => {
            keys::run(*json, *platform);
            Ok(ExitCode::SUCCESS)
        }
        Command::Lsp => Ok(serve_lsp(ui)),
        Command::Schema { project } => Ok(print_schema(*project)),
    }
}

/// `bsic check`: report every diagnostic, then (asked for and clean) the overrides.
fn check(
    dir: Option<&Path>,
    format: Format,
    explain_overrides: bool,
    ui: Ui,
) -> Result<ExitCode, Error> {
    let checked = load(dir)?;
    report(&checked, format, ui);
    if explain_overrides && !checked.has_errors() {
        explain::overrides(&checked);
    }
    let code = outcome(&checked);
    // The process ends now: the system takes the memory back at once, where dropping the
    // checked project frees its maps node by node on one core (a tenth of the wall time of
    // checking 1,000 policies).
    std::mem::forget(checked);
    Ok(code)
}

/// Loads the project and runs `command` on it when it checks clean; otherwise reports the
/// errors and exits with [`POLICY_ERRORS`] (`explain`, `test` and `status` need a valid model).
fn with_clean_project(
    dir: Option<&Path>,
    ui: Ui,
    command: impl FnOnce(&mut Checked) -> Result<ExitCode, Error>,
) -> Result<ExitCode, Error> {
    let mut checked = load(dir)?;
    if checked.has_errors() {
        report(&checked, Format::Human, ui);
        return Ok(ExitCode::from(POLICY_ERRORS));
    }
    command(&mut checked)
}

/// `bsic test`: runs the policy tests, one `ok`/`FAIL` line each on stdout, then a count.
fn run_policy_tests(checked: &mut Checked, ui: Ui) -> Result<ExitCode, Error> {
    let mut diagnostics = crate::diag::Diagnostics::default();
    let outcomes = crate::policytest::run(checked, &mut diagnostics)?;
    report::human(&diagnostics, &checked.project.sources, ui.limit, ui.fancy);
    let mut out = std::io::stdout().lock();
    for outcome in &outcomes {
        let tag = if outcome.passed { "ok  " } else { "FAIL" };
        let _ = writeln!(
            out,
            "{tag} {} ({}:{})",
            outcome.name, outcome.file, outcome.line
        );
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    if outcomes.is_empty() && !diagnostics.has_errors() {
        let _ = writeln!(out, "no policy tests found (add tests/*.test.kdl)");
    } else {
        let _ = writeln!(out, "{} passed, {failed} failed", outcomes.len() - failed);
    }
    let bad = failed > 0 || diagnostics.has_errors();
    Ok(if bad {
        ExitCode::from(POLICY_ERRORS)
    } else {
        ExitCode::SUCCESS
    })
}

/// `bsic completions <shell>`: the completion script on stdout.
fn print_completions(shell: clap_complete::Shell) -> ExitCode {
    let mut command = Cli::command();
    // Into a buffer first: `generate` panics when it cannot write.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "bsic", &mut script);
    let _ = std::io::stdout().lock().write_all(&script);
    ExitCode::SUCCESS
}

/// `bsic lsp`: serves the language server on stdio until the editor leaves.
fn serve_lsp(ui: Ui) -> ExitCode {
    match crate::lsp::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            say!("{}", report::fatal(&error, ui.fancy));
            ExitCode::from(USAGE_ERROR)
        }
    }
}

/// `bsic schema [--project]`: the JSON Schema of policy (or project) files on stdout.
fn print_schema(project: bool) -> ExitCode {
    let schema = if project {
        model::generate_project_schema()
    } else {
        model::generate_policy_schema()
    };
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    ExitCode::SUCCESS
}

fn load(dir: Option<&Path>) -> Result<Checked, Error> {
    let start = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let root = source::find_project_root(&start)?;
    pipeline::check(&root)
}

fn report(checked: &Checked, format: Format, ui: Ui) {
    let sources = &checked.project.sources;
    print_for_code_review(
        &checked.diagnostics,
        sources,
        &checked.project.root,
        format,
        ui.limit,
    );
    match format {
        Format::Human | Format::Sarif | Format::Github => {
            if format == Format::Human {
                report::human(&checked.diagnostics, sources, ui.limit, ui.fancy);
            }
            if ui.quiet {
                return;
            }
            let errors = checked.diagnostics.error_count();
            let warnings = checked.diagnostics.warning_count();
            say!(
                "checked {}: {errors} {}, {warnings} {}",
                read_summary(checked),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            );
        }
        Format::Json => report::json_lines(&checked.diagnostics, sources, ui.limit),
    }
}

/// What a check read, counting what it rejected too: "3 policy files (1 did not parse), 5
/// policies (2 rejected)".
fn read_summary(checked: &Checked) -> String {
    // Every file read but `bsic.kdl` is a policy file.
    let files = checked.project.sources.len().saturating_sub(1);
    let unparsed = files.saturating_sub(checked.project.policy_files.len());
    let (read, valid) = checked
        .model
        .as_ref()
        .map_or((0, 0), |m| (m.policies_read, m.policies.len()));
    let mut text = format!("{files} policy {}", plural(files, "file", "files"));
    if unparsed > 0 {
        text.push_str(&format!(" ({unparsed} did not parse)"));
    }
    text.push_str(&format!(", {read} {}", plural(read, "policy", "policies")));
    if valid < read {
        text.push_str(&format!(" ({} rejected)", read - valid));
    }
    text
}

/// The `sarif` and `github` formats, on stdout; paths are made relative to the Git checkout
/// that holds `root`, as code-scanning and annotations expect. At most `limit` diagnostics;
/// how many were left out goes to stderr.
fn print_for_code_review(
    diagnostics: &crate::diag::Diagnostics,
    sources: &crate::source::Sources,
    root: &Path,
    format: Format,
    limit: Limit,
) {
    let sarif = match format {
        Format::Sarif => true,
        Format::Github => false,
        // Nothing to find then: the repository is found by walking up to `/` for `.git`.
        Format::Human | Format::Json => return,
    };
    let prefix = format::repo_prefix(root);
    let capped = diagnostics.capped(limit);
    let stdout = &mut std::io::stdout().lock();
    // A closed stdout (`| head`) ends the report quietly.
    let _ = if sarif {
        format::write_sarif(stdout, &capped.shown, sources, &prefix)
    } else {
        format::write_github_commands(stdout, &capped.shown, sources, &prefix)
    };
    let _ = report::write_omitted(&mut std::io::stderr().lock(), &capped, sources, limit);
}

pub(super) fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn outcome(checked: &Checked) -> ExitCode {
    if checked.has_errors() {
        ExitCode::from(POLICY_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}
