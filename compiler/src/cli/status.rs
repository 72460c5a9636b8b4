//! `bsic status`: reads reports, prints the requested form on stdout, warnings on stderr, and
//! maps the result to an exit code (0 ok, 1 a group below `--fail-under`, 2 unreadable input).

use std::io::Write;
use std::process::ExitCode;

use crate::diag::Limit;
use crate::pipeline::Checked;
use crate::status::{self, Options, Status, StatusError, StatusWarnings, WarningOut, render};

use super::args::{StatusArgs, StatusFormat};

/// The number of devices the human summary lists.
const HUMAN_LIMIT: usize = 50;

pub(super) fn run(checked: &Checked, args: &StatusArgs, fancy: bool, limit: Limit) -> ExitCode {
    match execute(checked, args, fancy, limit) {
        Ok(code) => code,
        Err(error) => {
            say!("{:?}", miette::Report::new(error));
            ExitCode::from(super::USAGE_ERROR)
        }
    }
}

fn execute(
    checked: &Checked,
    args: &StatusArgs,
    fancy: bool,
    limit: Limit,
) -> Result<ExitCode, StatusError> {
    let options = options(checked, args)?;
    let mut warnings = StatusWarnings::default();
    let mut result = status::run(checked, &options, &mut warnings);
    if let (Ok(status), Some(dir)) = (&mut result, &args.history) {
        let before = warnings.len();
        status.history = Some(status::history::record(dir, status, &mut warnings)?);
        status
            .warnings
            .extend(warnings.iter().skip(before).map(WarningOut::of));
    }
    // The input's problems, reported like every other diagnostic: they quote device and
    // inventory text, which the report makes printable.
    super::report::human(&warnings.diagnostics, &warnings.sources, limit, fancy);
    let status = result?;
    for note in &status.notes {
        say!("note: {note}");
    }
    write_outputs(&status, args)?;
    Ok(fail_under(&status, args.fail_under))
}

/// What to judge against: the devices' local time now, the build's output (`--dist`, else
/// `dist/` when it holds a manifest) and every server token map there is.
fn options(checked: &Checked, args: &StatusArgs) -> Result<Options, StatusError> {
    let now = match &args.now {
        Some(value) => status::parse_now(value)?,
        None => {
            let unix = crate::clock::now().map_err(|e| StatusError::Now {
                value: "SOURCE_DATE_EPOCH".into(),
                reason: e.to_string(),
            })?;
            status::parse_now(&status::local_date_time(unix))?
        }
    };
    let dist = match &args.dist {
        Some(dir) => Some(dir.clone()),
        None => {
            let default = checked.project.root.join("dist");
            default
                .join(crate::output::MANIFEST_FILE)
                .is_file()
                .then_some(default)
        }
    };
    // The maps upload scripts wrote beside themselves in the build's layouts, then the ones
    // given: all are read, and a pair any of them records counts.
    let mut server_tokens = dist
        .as_deref()
        .map(status::tokens::maps_in)
        .unwrap_or_default();
    server_tokens.extend(args.server_tokens.iter().cloned());
    Ok(Options {
        reports: args.reports.clone(),
        devices: args.devices.clone(),
        exports: args.exports.clone(),
        manifest: dist.map(|dir| dir.join(crate::output::MANIFEST_FILE)),
        server_tokens,
        now,
    })
}

/// The answer on stdout in the asked format, and the `--csv` and `--html` files.
fn write_outputs(status: &Status, args: &StatusArgs) -> Result<(), StatusError> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = match args.format {
        StatusFormat::Human => out.write_all(render::human(status, HUMAN_LIMIT).as_bytes()),
        StatusFormat::Json => render::json(status, &mut out),
        StatusFormat::Csv => render::csv(status, &mut out),
    };
    let _ = out.flush();
    drop(out);
    if let Some(path) = &args.csv {
        let mut bytes = Vec::new();
        let _ = render::csv(status, &mut bytes);
        write(path, &bytes)?;
    }
    if let Some(path) = &args.html {
        let html_options = status::html::Options {
            csv: args.csv.as_deref().map(|csv| link(path, csv)),
        };
        write(path, status::html::html(status, &html_options)?.as_bytes())?;
    }
    Ok(())
}

/// `--fail-under`: the policy-error exit code when a group is less compliant, naming each.
fn fail_under(status: &Status, threshold: Option<f64>) -> ExitCode {
    let Some(threshold) = threshold else {
        return ExitCode::SUCCESS;
    };
    let below = status.below(threshold);
    for g in &below {
        say!(
            "group `{}` is {:.1}% compliant, below --fail-under {threshold}",
            g.group,
            g.counts.percent
        );
    }
    if below.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::POLICY_ERRORS)
    }
}

/// Writes an output file atomically, with the usual permissions for new files.
fn write(path: &std::path::Path, bytes: &[u8]) -> Result<(), StatusError> {
    crate::output::write_file(path, bytes, crate::output::Existing::Replace).map_err(|source| {
        StatusError::Write {
            path: path.display().to_string(),
            source,
        }
    })
}

/// How the page at `page` links to `csv`: by file name when they share a directory, else
/// by the path as given.
fn link(page: &std::path::Path, csv: &std::path::Path) -> String {
    let dir = |p: &std::path::Path| p.parent().map(std::path::Path::to_path_buf);
    match (dir(page), csv.file_name()) {
        (Some(a), Some(name)) if Some(&a) == dir(csv).as_ref() => {
            name.to_string_lossy().into_owned()
        }
        _ => csv.display().to_string(),
    }
}
