//! Finding the project root, expanding the `policies` globs, and reading files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSetBuilder};

use crate::diag::{Diagnostic, Diagnostics, Kind};

use super::{
    FileId, MAX_FILE_BYTES, ParsedFile, Project, SourceError, Sources, Span, display_path,
    parse_kdl,
};

/// The project file at the root of every bsic project.
pub const PROJECT_FILE: &str = "bsic.kdl";
/// Where policies live when `bsic.kdl` does not say.
const DEFAULT_POLICY_GLOB: &str = "policies/**/*.kdl";
/// Directories never searched for policies.
const SKIPPED_DIRS: &[&str] = &[".git", "target", "dist", "node_modules"];

/// The directory holding `bsic.kdl`: `dir` itself, or its nearest ancestor that has one.
pub fn find_project_root(dir: &Path) -> Result<PathBuf, SourceError> {
    let start = fs::canonicalize(dir).map_err(|source| SourceError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    start
        .ancestors()
        .find(|candidate| candidate.join(PROJECT_FILE).is_file())
        .map(Path::to_path_buf)
        .ok_or(SourceError::NoProject {
            dir: dir.to_path_buf(),
        })
}

/// Loads the project at `root`: reads and parses `bsic.kdl` and every policy file its globs
/// match. Problems in the files go to `diagnostics`; only I/O failures are returned as errors.
pub fn load_project(root: &Path, diagnostics: &mut Diagnostics) -> Result<Project, SourceError> {
    load_project_with(root, &Overlay::new(), diagnostics)
}

/// Text that stands in for files on disk: an editor's unsaved buffers, by absolute path.
pub type Overlay = BTreeMap<PathBuf, String>;

/// Like [`load_project`], but a file in `overlay` is read from there instead of from disk, and
/// an overlay file the `policies` globs match is loaded even when it is not on disk yet.
pub fn load_project_with(
    root: &Path,
    overlay: &Overlay,
    diagnostics: &mut Diagnostics,
) -> Result<Project, SourceError> {
    let mut sources = Sources::default();
    let project_path = root.join(PROJECT_FILE);
    let (project_file_id, project_file) =
        read_and_parse(root, &project_path, overlay, &mut sources, diagnostics)?;

    let globs = project_file
        .as_ref()
        .map(|f| policy_globs(f, project_file_id))
        .unwrap_or_default();
    let globs = if globs.is_empty() {
        vec![(
            DEFAULT_POLICY_GLOB.to_string(),
            Span::start_of(project_file_id),
        )]
    } else {
        globs
    };

    let mut paths = BTreeSet::new();
    for (pattern, at) in &globs {
        let escapes = pattern.starts_with('/') || pattern.split(['/', '\\']).any(|c| c == "..");
        if escapes {
            diagnostics.push(Diagnostic::error(
                Kind::GlobEscapes {
                    pattern: pattern.clone(),
                },
                *at,
                "outside the project",
            ));
            continue;
        }
        let mut matched = expand_glob(root, pattern, *at, diagnostics)?;
        matched.extend(overlay_matches(root, pattern, overlay));
        if matched.is_empty() {
            diagnostics.push(Diagnostic::warning(
                Kind::NoPolicyFiles {
                    pattern: pattern.clone(),
                },
                *at,
                "matches no file",
            ));
        }
        paths.extend(matched);
    }
    paths.remove(&project_path);

    let mut policy_files = Vec::with_capacity(paths.len());
    for path in paths {
        if let (_, Some(parsed)) = read_and_parse(root, &path, overlay, &mut sources, diagnostics)?
        {
            policy_files.push(parsed);
        }
    }
    Ok(Project {
        root: root.to_path_buf(),
        sources,
        project_file,
        project_file_id,
        policy_files,
    })
}

/// Reads and parses every file under `root` that one of `globs` matches (sorted, each once),
/// adding them to `sources`. Used for files beside the policies, such as policy tests.
pub fn load_matching(
    root: &Path,
    globs: &[(String, Span)],
    sources: &mut Sources,
    diagnostics: &mut Diagnostics,
) -> Result<Vec<ParsedFile>, SourceError> {
    let mut paths = BTreeSet::new();
    for (pattern, at) in globs {
        paths.extend(expand_glob(root, pattern, *at, diagnostics)?);
    }
    let mut parsed = Vec::new();
    for path in paths {
        if let (_, Some(file)) = read_and_parse(root, &path, &Overlay::new(), sources, diagnostics)?
        {
            parsed.push(file);
        }
    }
    Ok(parsed)
}

/// The overlay files under `root` that `pattern` matches (by their path relative to `root`).
fn overlay_matches<'a>(
    root: &'a Path,
    pattern: &str,
    overlay: &'a Overlay,
) -> impl Iterator<Item = PathBuf> + 'a {
    let matcher = Glob::new(pattern).ok().map(|g| g.compile_matcher());
    overlay.keys().filter_map(move |path| {
        let relative = path.strip_prefix(root).ok()?;
        let skipped = relative
            .components()
            .any(|c| SKIPPED_DIRS.contains(&c.as_os_str().to_string_lossy().as_ref()));
        (!skipped && matcher.as_ref()?.is_match(relative)).then(|| path.clone())
    })
}

/// Reads one file into `sources` (from `overlay` when it holds the path) and parses it.
/// Returns its id, and the document when it parsed.
fn read_and_parse(
    root: &Path,
    path: &Path,
    overlay: &Overlay,
    sources: &mut Sources,
    diagnostics: &mut Diagnostics,
) -> Result<(FileId, Option<ParsedFile>), SourceError> {
    let display = display_path(root, path);
    let size = match overlay.get(path) {
        Some(text) => text.len() as u64,
        None => fs::metadata(path)
            .map_err(|source| SourceError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .len(),
    };
    if size > MAX_FILE_BYTES {
        let id = sources.add(display, path.to_path_buf(), String::new());
        diagnostics.push(Diagnostic::error(
            Kind::FileTooLarge {
                size,
                limit: MAX_FILE_BYTES,
            },
            Span::start_of(id),
            "this file",
        ));
        return Ok((id, None));
    }
    let bytes = match overlay.get(path) {
        Some(text) => text.clone().into_bytes(),
        None => fs::read(path).map_err(|source| SourceError::Read {
            path: path.to_path_buf(),
            source,
        })?,
    };
    let (text, bad_utf8_at) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(error) => {
            let valid = error.utf8_error().valid_up_to();
            (
                String::from_utf8_lossy(error.as_bytes()).into_owned(),
                Some(valid),
            )
        }
    };
    let id = sources.add(display, path.to_path_buf(), text);
    if let Some(offset) = bad_utf8_at {
        diagnostics.push(Diagnostic::error(
            Kind::NotUtf8,
            Span {
                file: id,
                offset,
                len: 1,
            },
            "this byte is not UTF-8",
        ));
        return Ok((id, None));
    }
    let text = sources.get(id).map_or("", |f| f.text.as_str());
    match parse_kdl(id, text) {
        Ok(document) => Ok((id, Some(ParsedFile { file: id, document }))),
        Err(errors) => {
            diagnostics.extend(errors);
            Ok((id, None))
        }
    }
}

/// The `policies` globs of the project file, each with the span of the value that gave it.
/// Shapes are checked by the validate stage; here only string arguments are taken.
fn policy_globs(project: &ParsedFile, file: FileId) -> Vec<(String, Span)> {
    project
        .document
        .nodes()
        .iter()
        .filter(|node| node.name().value() == "policies")
        .flat_map(|node| node.entries().iter())
        .filter(|entry| entry.name().is_none())
        .filter_map(|entry| {
            entry
                .value()
                .as_string()
                .map(|s| (s.to_string(), Span::new(file, entry.span())))
        })
        .collect()
}

/// Every regular file under `root` that `pattern` matches, sorted. Symlinks that lead out of
/// the project are reported and skipped.
fn expand_glob(
    root: &Path,
    pattern: &str,
    at: Span,
    diagnostics: &mut Diagnostics,
) -> Result<BTreeSet<PathBuf>, SourceError> {
    let glob = Glob::new(pattern).map_err(|source| SourceError::Glob {
        pattern: pattern.to_string(),
        source,
    })?;
    let set = GlobSetBuilder::new()
        .add(glob)
        .build()
        .map_err(|source| SourceError::Glob {
            pattern: pattern.to_string(),
            source,
        })?;
    let base = root.join(literal_prefix(pattern));
    let mut matched = BTreeSet::new();
    if !base.exists() {
        return Ok(matched);
    }
    let walker = walkdir::WalkDir::new(&base)
        .follow_links(false)
        .sort_by_file_name();
    let entries = walker.into_iter().filter_entry(|entry| {
        entry.depth() == 0
            || !entry.file_type().is_dir()
            || !SKIPPED_DIRS.contains(&entry.file_name().to_string_lossy().as_ref())
    });
    for entry in entries {
        let entry = entry.map_err(|error| SourceError::Read {
            path: error.path().map_or_else(|| base.clone(), Path::to_path_buf),
            source: error
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("loop")),
        })?;
        let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
        if !set.is_match(relative) {
            continue;
        }
        if entry.path_is_symlink() {
            let inside = fs::canonicalize(entry.path())
                .map(|target| target.starts_with(root) && target.is_file())
                .unwrap_or(false);
            if !inside {
                diagnostics.push(Diagnostic::error(
                    Kind::SymlinkEscapes {
                        path: display_path(root, entry.path()),
                    },
                    at,
                    "this glob matches a symlink to a file outside the project",
                ));
                continue;
            }
        } else if !entry.file_type().is_file() {
            continue;
        }
        matched.insert(entry.path().to_path_buf());
    }
    Ok(matched)
}

/// The leading directories of a glob that contain no glob syntax, e.g. `policies` for
/// `policies/**/*.kdl`.
fn literal_prefix(pattern: &str) -> PathBuf {
    let mut prefix = PathBuf::new();
    let components: Vec<&str> = pattern.split('/').collect();
    for component in components.iter().take(components.len().saturating_sub(1)) {
        if component.contains(['*', '?', '[', '{']) {
            break;
        }
        prefix.push(component);
    }
    prefix
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_prefix_stops_at_glob_syntax() {
        assert_eq!(
            literal_prefix("policies/**/*.kdl"),
            PathBuf::from("policies")
        );
        assert_eq!(literal_prefix("a/b/*.kdl"), PathBuf::from("a/b"));
        assert_eq!(literal_prefix("*.kdl"), PathBuf::new());
    }
}
