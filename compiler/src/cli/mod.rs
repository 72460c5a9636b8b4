//! The command line: parses arguments, runs the pipeline, reports, and maps outcomes to exit
//! codes (0 ok, 1 policy errors, 2 usage or I/O errors, 3 internal errors).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod explain;
mod keys;
mod report;
mod signing;
mod verify;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Parser;

use crate::model;
use crate::pipeline::{self, Checked, Error};
use crate::source;

pub use args::{Cli, ColorChoice, Command, Format, SignArgs};
pub use report::to_json;

/// Exit code for policy errors.
const POLICY_ERRORS: u8 = 1;
/// Exit code for usage and I/O errors.
const USAGE_ERROR: u8 = 2;
/// Exit code for bsic's own bugs.
const INTERNAL_ERROR: u8 = 3;

/// Runs bsic with the process arguments.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { USAGE_ERROR } else { 0 });
        }
    };
    let fancy = report::fancy(cli.color);
    match execute(&cli.command, fancy) {
        Ok(code) => code,
        Err(error) => {
            let code = if error.is_internal() {
                INTERNAL_ERROR
            } else {
                USAGE_ERROR
            };
            eprintln!("{:?}", miette::Report::new(error));
            ExitCode::from(code)
        }
    }
}

fn execute(command: &Command, fancy: bool) -> Result<ExitCode, Error> {
    match command {
        Command::Check { dir, format } => {
            let checked = load(dir.as_deref())?;
            report(&checked, *format, fancy);
            Ok(outcome(&checked))
        }
        Command::Build {
            dir,
            out,
            format,
            sign,
        } => {
            let checked = load(dir.as_deref())?;
            report(&checked, *format, fancy);
            if checked.has_errors() {
                eprintln!("nothing written: fix the errors above first");
                return Ok(ExitCode::from(POLICY_ERRORS));
            }
            let config = checked
                .model
                .as_ref()
                .and_then(|m| m.project.signing.as_ref());
            let signing = signing::signer(sign, config, &checked.project.root)?;
            let out = out
                .clone()
                .unwrap_or_else(|| checked.project.root.join("dist"));
            let count = pipeline::build(&checked, &out, signing.as_ref())?;
            match &signing {
                Some(s) => eprintln!(
                    "wrote {count} files to {}; profiles signed by {}",
                    out.display(),
                    s.signer.certificate_summary().subject
                ),
                None => eprintln!(
                    "wrote {count} files to {}; profiles are unsigned \
                     (pass --sign-cert/--sign-key or --sign-p12 to sign)",
                    out.display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify {
            paths,
            ca,
            allow_unsigned,
        } => verify::run(paths, ca.as_deref(), *allow_unsigned),
        Command::Explain { dir, args } => {
            let checked = load(dir.as_deref())?;
            if checked.has_errors() {
                report(&checked, Format::Human, fancy);
                return Ok(ExitCode::from(POLICY_ERRORS));
            }
            let mut args = args.clone();
            args.json = args.format == args::ExplainFormat::Json;
            Ok(explain::run(&checked, &args))
        }
        Command::Test { dir } => {
            let mut checked = load(dir.as_deref())?;
            if checked.has_errors() {
                report(&checked, Format::Human, fancy);
                return Ok(ExitCode::from(POLICY_ERRORS));
            }
            let mut diagnostics = crate::diag::Diagnostics::default();
            let outcomes = crate::policytest::run(&mut checked, &mut diagnostics)?;
            report::human(&diagnostics, &checked.project.sources, fancy);
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
        Command::Keys { json } => {
            keys::run(*json);
            Ok(ExitCode::SUCCESS)
        }
        Command::Lsp => match crate::lsp::run() {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(error) => {
                eprintln!("{:?}", miette::Report::new(error));
                Ok(ExitCode::from(USAGE_ERROR))
            }
        },
        Command::Schema { project } => {
            let schema = if *project {
                model::project_schema()
            } else {
                model::policy_schema()
            };
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
            let _ = writeln!(std::io::stdout().lock(), "{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(dir: Option<&Path>) -> Result<Checked, Error> {
    let start = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let root = source::find_project_root(&start)?;
    pipeline::check(&root)
}

fn report(checked: &Checked, format: Format, fancy: bool) {
    let sources = &checked.project.sources;
    match format {
        Format::Human => {
            report::human(&checked.diagnostics, sources, fancy);
            let errors = checked.diagnostics.error_count();
            let warnings = checked.diagnostics.warning_count();
            let files = checked.project.policy_files.len();
            let policies = checked.model.as_ref().map_or(0, |m| m.policies.len());
            eprintln!(
                "checked {files} policy {}, {policies} {}: {errors} {}, {warnings} {}",
                plural(files, "file", "files"),
                plural(policies, "policy", "policies"),
                plural(errors, "error", "errors"),
                plural(warnings, "warning", "warnings"),
            );
        }
        Format::Json => report::json_lines(&checked.diagnostics, sources),
    }
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

fn outcome(checked: &Checked) -> ExitCode {
    if checked.has_errors() {
        ExitCode::from(POLICY_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}
