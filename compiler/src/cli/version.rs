//! `bsic --version` and `bsic version [--json]`: the version, the Git commit and its date, as
//! `build.rs` stamped them (never the build's wall-clock time, so builds stay reproducible).

use std::io::Write;
use std::process::ExitCode;

/// The version as released.
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The short commit hash the binary was built from, or "unknown" (a packaged crate).
const COMMIT: &str = env!("BSIC_COMMIT");
/// The commit's date (YYYY-MM-DD), else `SOURCE_DATE_EPOCH`'s, else "unknown".
const DATE: &str = env!("BSIC_COMMIT_DATE");
/// The target triple the binary was built for.
const TARGET: &str = env!("BSIC_TARGET");

/// What `--version` prints after `bsic `: `0.1.0 (a1b2c3d4e 2026-12-05)`.
pub(super) const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("BSIC_COMMIT"),
    " ",
    env!("BSIC_COMMIT_DATE"),
    ")"
);

/// `bsic version`: the `--version` line, or with `--json` one object for scripts.
pub(super) fn print(json: bool) -> ExitCode {
    let text = if json {
        serde_json::json!({
            "version": VERSION,
            "commit": COMMIT,
            "date": DATE,
            "target": TARGET,
        })
        .to_string()
    } else {
        format!("bsic {LONG}")
    };
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    ExitCode::SUCCESS
}
