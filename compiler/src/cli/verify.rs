//! `bsic verify`: one line per file, non-zero exit on any failure.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::clock;
use crate::pipeline::Error;
use crate::sign;
use crate::source;
use crate::verify::{Verdict, VerifyOptions, verify_paths};

pub(super) fn run(
    paths: &[PathBuf],
    ca: Option<&Path>,
    allow_unsigned: bool,
) -> Result<ExitCode, Error> {
    let paths = if paths.is_empty() {
        vec![source::find_project_root(Path::new("."))?.join("dist")]
    } else {
        paths.to_vec()
    };
    let ca = match ca {
        Some(path) => sign::load_ca_bundle(path)?,
        None => Vec::new(),
    };
    let options = VerifyOptions {
        ca,
        now: clock::system_now(),
        allow_unsigned,
    };
    let reports = verify_paths(&paths, &options);
    let mut out = std::io::stdout().lock();
    let mut failures = 0;
    for report in &reports {
        let tag = match report.verdict {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => {
                failures += 1;
                "FAIL"
            }
        };
        let _ = writeln!(out, "{tag:<5} {}: {}", report.path, report.detail);
    }
    if reports.is_empty() {
        let _ = writeln!(
            out,
            "FAIL  nothing to verify under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    let _ = writeln!(out, "{} files checked, {failures} failed", reports.len());
    Ok(ExitCode::from(u8::from(failures > 0)))
}
