//! `bsic catalog import`: a downloaded feed → a pinned, normalised snapshot.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::catalog::{Catalog, CatalogError};
use crate::model::Platform;
use crate::output::OutputError;
use crate::pipeline::Error;

/// The snapshot's default place, relative to the project root.
const DEFAULT_SNAPSHOT: &str = "catalog/apple-releases.json";

pub(super) fn import(
    feeds: &[PathBuf],
    out: Option<&Path>,
    platform: Option<Platform>,
    ui: super::Ui,
) -> Result<ExitCode, Error> {
    let mut merged = Catalog::default();
    let mut sources = Vec::new();
    let mut files = crate::source::Sources::default();
    let mut diagnostics = crate::diag::Diagnostics::default();
    for feed in feeds {
        let text = crate::source::read::read_to_string(feed, crate::source::Input::Catalog)
            .map_err(|source| {
                Error::Catalog(CatalogError::Read {
                    path: feed.clone(),
                    source,
                })
            })?;
        let file = files.add(feed.display().to_string(), feed.clone(), text.clone());
        let mut catalog = Catalog::import_feed(feed, &text, file, platform, &mut diagnostics)
            .map_err(Error::Catalog)?;
        sources.push(std::mem::take(&mut catalog.source));
        merged.merge(catalog);
    }
    // Every bad entry of every feed in one run, located; then nothing is written.
    if diagnostics.has_errors() {
        super::report::human(&diagnostics, &files, ui.limit, ui.fancy);
        let count = diagnostics.error_count();
        say!(
            "nothing written: {count} {} in the feeds above",
            super::plural(count, "error", "errors")
        );
        return Ok(ExitCode::from(super::POLICY_ERRORS));
    }
    merged.normalise();
    merged.source = sources.join(" + ");
    let out = match out {
        Some(path) => path.to_path_buf(),
        None => crate::source::find_project_root(Path::new(".")).map_or_else(
            |_| PathBuf::from(DEFAULT_SNAPSHOT),
            |root| root.join(DEFAULT_SNAPSHOT),
        ),
    };
    let bytes = merged.to_bytes();
    write_atomically(&out, &bytes)?;
    let shown = out
        .strip_prefix(std::env::current_dir().unwrap_or_default())
        .unwrap_or(&out)
        .display()
        .to_string();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "wrote {} releases to {shown}",
        merged.releases.len()
    );
    let devices = merged
        .releases
        .iter()
        .filter(|r| !r.devices.is_empty())
        .count();
    if devices > 0 || !merged.boards.is_empty() {
        let _ = writeln!(
            stdout,
            "with the supported devices of {devices} and {} Mac board IDs",
            merged.boards.len()
        );
    }
    let _ = writeln!(
        stdout,
        "pin it in bsic.kdl:\n    catalog \"{shown}\" sha256=\"{}\"",
        crate::emit::sha256_hex(&bytes)
    );
    Ok(ExitCode::SUCCESS)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    crate::output::write_file(path, bytes, crate::output::Existing::Replace).map_err(|source| {
        Error::Output(OutputError::Io {
            path: path.to_path_buf(),
            source,
        })
    })
}
