//! Finding the project root, expanding the `policies` globs, and reading files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::diags::SourceKind;

use super::{
    FileId, Input, ParseCache, ParsedFile, Project, SourceError, Sources, Span, TooLarge,
    display_path, parse_kdl, read,
};

/// The project file at the root of every bsic project.
pub const PROJECT_FILE: &str = "bsic.kdl";
/// Where policies live when `bsic.kdl` does not say.
const DEFAULT_POLICY_GLOB: &str = "policies/**/*.kdl";
/// More policy files than this are refused before any is read: far beyond any real fleet
/// (bsic is benchmarked at 10,000 policies in about 1,000 files), and a glob that matches a
/// whole disk by mistake fails fast instead of reading it.
pub const MAX_POLICY_FILES: usize = 10_000;
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
    load_project_mapped(root, overlay, None, diagnostics, &|parsed| parsed)
}

/// Like [`load_project_with`], but each policy file is handed to `map` as soon as it is
/// parsed, on the core that parsed it, and only what `map` returns is kept. The checker maps
/// each document to its validated projection, so the parsed documents (the bulk of a large
/// project's memory) never all exist at once. With a `cache`, a file whose text is unchanged
/// since an earlier run is not parsed again.
pub fn load_project_mapped<F: Send + Clone>(
    root: &Path,
    overlay: &Overlay,
    cache: Option<&ParseCache<F>>,
    diagnostics: &mut Diagnostics,
    map: &(dyn Fn(ParsedFile) -> F + Sync),
) -> Result<Project<F>, SourceError> {
    let Layout {
        mut sources,
        project_file_id,
        project_file,
        paths,
    } = layout(root, overlay, diagnostics)?;
    let first_id = sources.len();
    let loaded = load_parallel(root, &paths, overlay, cache, first_id, map);
    let mut policy_files = Vec::with_capacity(paths.len());
    sources.reserve(paths.len());
    for file in loaded {
        let file = file?;
        sources.add(file.display, file.path, file.text);
        diagnostics.extend(file.diagnostics);
        policy_files.extend(file.item);
    }
    if let Some(cache) = cache {
        cache.retain(&paths);
    }
    Ok(Project {
        root: root.to_path_buf(),
        sources,
        project_file,
        project_file_id,
        policy_files,
    })
}

/// The project file of `root` read and parsed, and the policy files its globs match.
struct Layout {
    /// Holds `bsic.kdl` only.
    sources: Sources,
    project_file_id: FileId,
    project_file: Option<ParsedFile>,
    paths: Vec<PathBuf>,
}

fn layout(
    root: &Path,
    overlay: &Overlay,
    diagnostics: &mut Diagnostics,
) -> Result<Layout, SourceError> {
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

    let paths = policy_paths(
        root,
        &globs,
        &project_path,
        project_file_id,
        overlay,
        diagnostics,
    )?;
    Ok(Layout {
        sources,
        project_file_id,
        project_file,
        paths,
    })
}

/// The files of the project at `root` with their display names: `bsic.kdl`, then the policy
/// files its globs match, sorted. Only `bsic.kdl` is parsed, so a command that handles each
/// file on its own (`bsic fmt`) never holds every parsed policy at once.
pub fn project_files(
    root: &Path,
    diagnostics: &mut Diagnostics,
) -> Result<Vec<(PathBuf, String)>, SourceError> {
    let layout = layout(root, &Overlay::new(), diagnostics)?;
    let project = layout
        .sources
        .iter()
        .map(|(_, file)| (file.path.clone(), file.display.clone()));
    let policies = layout
        .paths
        .iter()
        .map(|path| (path.clone(), display_path(root, path)));
    Ok(project.chain(policies).collect())
}

/// The policy files the project's globs match: sorted, the project file left out, each file
/// once (resolved through links only when a glob went through one). A glob that leaves the
/// project, matches nothing or is malformed is reported; more than `MAX_POLICY_FILES` files
/// are reported and none is read.
fn policy_paths(
    root: &Path,
    globs: &[(String, Span)],
    project_path: &Path,
    project_file_id: FileId,
    overlay: &Overlay,
    diagnostics: &mut Diagnostics,
) -> Result<Vec<PathBuf>, SourceError> {
    let mut paths = BTreeSet::new();
    let mut any_links = false;
    for (pattern, at) in globs {
        let escapes = pattern.starts_with('/') || pattern.split(['/', '\\']).any(|c| c == "..");
        if escapes {
            diagnostics.push(Diagnostic::error(
                SourceKind::GlobEscapes {
                    pattern: pattern.clone(),
                },
                *at,
                "outside the project",
            ));
            continue;
        }
        let Some(Matched {
            files: matched,
            through_links,
        }) = expand_glob(root, pattern, *at, overlay, diagnostics)?
        else {
            continue;
        };
        any_links |= through_links;
        if matched.is_empty() {
            diagnostics.push(Diagnostic::warning(
                SourceKind::NoPolicyFiles {
                    pattern: pattern.clone(),
                },
                *at,
                "matches no file",
            ));
        }
        paths.extend(matched);
    }
    paths.remove(project_path);
    if paths.len() > MAX_POLICY_FILES {
        let at = globs
            .first()
            .map_or(Span::start_of(project_file_id), |(_, at)| *at);
        diagnostics.push(Diagnostic::error(
            SourceKind::TooManyFiles {
                count: paths.len(),
                limit: MAX_POLICY_FILES,
            },
            at,
            "this glob",
        ));
        paths.clear();
    }

    // Only links can make two paths one file; without any, no path needs resolving.
    Ok(if any_links {
        distinct_files(paths)
    } else {
        paths.into_iter().collect()
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
    let no_overlay = Overlay::new();
    let mut paths = BTreeSet::new();
    for (pattern, at) in globs {
        let matched = expand_glob(root, pattern, *at, &no_overlay, diagnostics)?;
        paths.extend(matched.map(|m| m.files).unwrap_or_default());
    }
    let mut parsed = Vec::new();
    for path in paths {
        if let (_, Some(file)) = read_and_parse(root, &path, &no_overlay, sources, diagnostics)? {
            parsed.push(file);
        }
    }
    Ok(parsed)
}

/// One file read and parsed, not yet in [`Sources`]. `item` is what became of the document
/// (the document itself, or what a caller mapped it to); `None` when it did not parse.
struct LoadedFile<F> {
    display: String,
    path: PathBuf,
    text: String,
    item: Option<F>,
    diagnostics: Vec<Diagnostic>,
}

/// Reads, parses and maps `paths` on all cores (at least 16 files per core), each from
/// `overlay` when it holds the path. The file ids are fixed in advance (`first_id`, then one
/// more per path, in path order), so the result is the same as reading them one by one: same
/// ids, same diagnostics, same order. The results are handed back as they came, not collected
/// again into one `Result`: that copy of every file's record, in a vector grown by doubling,
/// was 1.5 ms of a 1,000-file `check` that no other core could share.
fn load_parallel<F: Send + Clone>(
    root: &Path,
    paths: &[PathBuf],
    overlay: &Overlay,
    cache: Option<&ParseCache<F>>,
    first_id: usize,
    map: &(dyn Fn(ParsedFile) -> F + Sync),
) -> Vec<Result<LoadedFile<F>, SourceError>> {
    crate::parallel::map(paths.iter().collect(), 16, |i, path| {
        let id = file_id(first_id + i);
        let mut loaded = read_file(root, path, overlay, id)?;
        // A file refused for its size or encoding is never parsed.
        if !loaded.diagnostics.is_empty() {
            return Ok(loaded);
        }
        if let Some(item) = cache.and_then(|c| c.get(path, &loaded.text, id)) {
            loaded.item = Some(item);
            return Ok(loaded);
        }
        match parse_kdl(id, &loaded.text) {
            Ok(document) => {
                let item = map(ParsedFile {
                    file: id,
                    document: Arc::new(document),
                });
                if let Some(cache) = cache {
                    cache.insert(path, &loaded.text, id, &item);
                }
                loaded.item = Some(item);
            }
            Err(errors) => loaded.diagnostics.extend(errors),
        }
        Ok(loaded)
    })
}

fn file_id(index: usize) -> FileId {
    FileId(u32::try_from(index).unwrap_or(u32::MAX))
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
    let file = load_file(root, path, overlay, file_id(sources.len()))?;
    let id = sources.add(file.display, file.path, file.text);
    diagnostics.extend(file.diagnostics);
    Ok((
        id,
        file.item.map(|document| ParsedFile { file: id, document }),
    ))
}

/// Reads and parses one file that will get the id `id`, from `overlay` (an unsaved editor
/// buffer) when it holds the path, else from disk; touches no shared state.
fn load_file(
    root: &Path,
    path: &Path,
    overlay: &Overlay,
    id: FileId,
) -> Result<LoadedFile<Arc<kdl::KdlDocument>>, SourceError> {
    let mut loaded = read_file(root, path, overlay, id)?;
    if loaded.diagnostics.is_empty() {
        match parse_kdl(id, &loaded.text) {
            Ok(document) => loaded.item = Some(Arc::new(document)),
            Err(errors) => loaded.diagnostics.extend(errors),
        }
    }
    Ok(loaded)
}

/// Reads one file that will get the id `id`, from `overlay` (an unsaved editor buffer) when
/// it holds the path, else from disk; one over the size limit or not UTF-8 comes back with
/// its error and without text to parse. Touches no shared state.
fn read_file<T>(
    root: &Path,
    path: &Path,
    overlay: &Overlay,
    id: FileId,
) -> Result<LoadedFile<T>, SourceError> {
    let display = display_path(root, path);
    let mut loaded = LoadedFile {
        display,
        path: path.to_path_buf(),
        text: String::new(),
        item: None,
        diagnostics: Vec::new(),
    };
    // A buffer is held to the same limit as the file it stands for.
    let limit = Input::Kdl.limit();
    let bytes = match overlay.get(path) {
        Some(text) if text.len() as u64 > limit => Err(TooLarge {
            size: text.len() as u64,
            limit,
        }),
        Some(text) => Ok(text.clone().into_bytes()),
        None => match read::read(path, Input::Kdl) {
            Ok(bytes) => Ok(bytes),
            Err(source) => match TooLarge::of(&source) {
                Some(too_large) => Err(too_large),
                None => {
                    return Err(SourceError::Read {
                        path: path.to_path_buf(),
                        source,
                    });
                }
            },
        },
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(TooLarge { size, limit }) => {
            loaded.diagnostics.push(Diagnostic::error(
                SourceKind::FileTooLarge { size, limit },
                Span::start_of(id),
                "this file",
            ));
            return Ok(loaded);
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => loaded.text = text,
        Err(error) => {
            let offset = error.utf8_error().valid_up_to();
            loaded.text = String::from_utf8_lossy(error.as_bytes()).into_owned();
            loaded.diagnostics.push(Diagnostic::error(
                SourceKind::NotUtf8,
                Span {
                    file: id,
                    offset,
                    len: 1,
                },
                "this byte is not UTF-8",
            ));
            return Ok(loaded);
        }
    }
    Ok(loaded)
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

/// What a glob matched.
struct Matched {
    files: BTreeSet<PathBuf>,
    /// Whether the search went through a symlink, so two paths may be the same file.
    through_links: bool,
}

/// Every regular file under `root` that `pattern` matches, sorted, and every `overlay` path
/// under `root` it matches (an unsaved buffer counts even before it is on disk). Symlinks that
/// lead out of the project are reported and skipped. `None` when `pattern` is not a glob or
/// its fixed directories lead out of the project (both reported).
fn expand_glob(
    root: &Path,
    pattern: &str,
    at: Span,
    overlay: &Overlay,
    diagnostics: &mut Diagnostics,
) -> Result<Option<Matched>, SourceError> {
    let Some(set) = compile_glob(pattern, at, diagnostics)? else {
        return Ok(None);
    };
    let base = root.join(&set.prefix);
    let mut matched = overlay_matches(root, &set, overlay);
    if !base.exists() {
        return Ok(Some(Matched {
            files: matched,
            through_links: false,
        }));
    }
    // The glob's fixed directories may themselves be a symlink (`policies/` linked elsewhere).
    let real_root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let real_base = fs::canonicalize(&base).ok();
    if !real_base
        .as_ref()
        .is_some_and(|real| real.starts_with(&real_root))
    {
        diagnostics.push(Diagnostic::error(
            SourceKind::SymlinkEscapes {
                path: display_path(root, &base),
            },
            at,
            "this glob reaches a directory outside the project through a symlink",
        ));
        return Ok(None);
    }
    // The fixed directories themselves may pass through a link inside the project.
    let through_base = real_base.is_some_and(|real| real != base);
    let walk = GlobWalk {
        root,
        real_root: &real_root,
        set: &set,
        at,
    };
    let through_links = walk.matches_under(&base, &mut matched, diagnostics)? || through_base;
    Ok(Some(Matched {
        files: matched,
        through_links,
    }))
}

/// A `policies` glob, compiled: its leading directories without glob syntax, and a matcher
/// for the rest of the pattern, relative to them.
///
/// Matching the rest alone gives the same answers, and lets globset test the usual pattern
/// without a regular expression: `policies/**/*.kdl` becomes a test of the extension under
/// `policies/`, where the whole pattern needed a regex that was a twelfth of a one-file
/// `check` to compile.
struct ProjectGlob {
    prefix: PathBuf,
    rest: GlobSet,
}

impl ProjectGlob {
    /// Whether `relative` (a path relative to the project root) matches.
    fn is_match(&self, relative: &Path) -> bool {
        // The directories themselves are not under them: `a/b/**` does not match `a/b`.
        relative
            .strip_prefix(&self.prefix)
            .is_ok_and(|rest| !rest.as_os_str().is_empty() && self.rest.is_match(rest))
    }
}

/// `pattern` as a matcher in which `*` stays within one path component, as the docs say,
/// and `**` crosses directories; `None` (with the error recorded at `at`) when it is no glob.
fn compile_glob(
    pattern: &str,
    at: Span,
    diagnostics: &mut Diagnostics,
) -> Result<Option<ProjectGlob>, SourceError> {
    let glob = |pattern: &str| GlobBuilder::new(pattern).literal_separator(true).build();
    // The whole pattern is parsed so its errors name it, and report what is wrong with it.
    if let Err(error) = glob(pattern) {
        diagnostics.push(Diagnostic::error(
            SourceKind::BadGlob {
                pattern: pattern.to_string(),
                message: error.kind().to_string(),
            },
            at,
            "not a valid glob",
        ));
        return Ok(None);
    }
    let components: Vec<&str> = pattern.split('/').collect();
    let (prefix, rest) = components.split_at(literal_directories(&components));
    let prefix: PathBuf = prefix.iter().collect();
    let error = |source| SourceError::Glob {
        pattern: pattern.to_string(),
        source,
    };
    let rest = glob(&rest.join("/")).map_err(error)?;
    let rest = GlobSetBuilder::new().add(rest).build().map_err(error)?;
    Ok(Some(ProjectGlob { prefix, rest }))
}

/// The editor buffers the glob matches (they may not exist on disk yet).
fn overlay_matches(root: &Path, set: &ProjectGlob, overlay: &Overlay) -> BTreeSet<PathBuf> {
    overlay
        .keys()
        .filter(|path| {
            path.strip_prefix(root).is_ok_and(|relative| {
                set.is_match(relative)
                    && !relative
                        .components()
                        .any(|c| SKIPPED_DIRS.contains(&c.as_os_str().to_string_lossy().as_ref()))
            })
        })
        .cloned()
        .collect()
}

/// One glob's search of the disk, inside the project at `root`.
struct GlobWalk<'a> {
    root: &'a Path,
    real_root: &'a Path,
    set: &'a ProjectGlob,
    at: Span,
}

impl GlobWalk<'_> {
    /// Adds the files under `base` that match to `matched`; true when the walk went through
    /// a symlink. Symlinks are followed, so a linked directory inside the project is
    /// searched; one that leads out of it is reported and not entered, and a loop is
    /// reported once.
    fn matches_under(
        &self,
        base: &Path,
        matched: &mut BTreeSet<PathBuf>,
        diagnostics: &mut Diagnostics,
    ) -> Result<bool, SourceError> {
        let (root, at) = (self.root, self.at);
        let mut through_links = false;
        let mut entries = walkdir::WalkDir::new(base)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = entries.next() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) if error.loop_ancestor().is_some() => {
                    let path = error
                        .path()
                        .map_or_else(|| base.to_path_buf(), Path::to_path_buf);
                    diagnostics.push(Diagnostic::error(
                        SourceKind::SymlinkLoop {
                            path: display_path(root, &path),
                        },
                        at,
                        "this glob runs into a symlink loop",
                    ));
                    continue;
                }
                Err(error) => {
                    return Err(SourceError::Read {
                        path: error
                            .path()
                            .map_or_else(|| base.to_path_buf(), Path::to_path_buf),
                        source: error
                            .into_io_error()
                            .unwrap_or_else(|| std::io::Error::other("unreadable directory")),
                    });
                }
            };
            let is_dir = entry.file_type().is_dir();
            if entry.depth() > 0
                && is_dir
                && SKIPPED_DIRS.contains(&entry.file_name().to_string_lossy().as_ref())
            {
                entries.skip_current_dir();
                continue;
            }
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            through_links |= entry.path_is_symlink();
            if entry.path_is_symlink() && !inside(self.real_root, entry.path()) {
                if is_dir {
                    entries.skip_current_dir();
                }
                let label = if is_dir {
                    "this glob searches a symlink to a directory outside the project"
                } else if self.set.is_match(relative) {
                    "this glob matches a symlink to a file outside the project"
                } else {
                    continue;
                };
                diagnostics.push(Diagnostic::error(
                    SourceKind::SymlinkEscapes {
                        path: display_path(root, entry.path()),
                    },
                    at,
                    label,
                ));
                continue;
            }
            if entry.file_type().is_file() && self.set.is_match(relative) {
                matched.insert(entry.path().to_path_buf());
            }
        }
        Ok(through_links)
    }
}

/// Whether `path`, with every symlink resolved, is inside `real_root` (itself resolved).
fn inside(real_root: &Path, path: &Path) -> bool {
    fs::canonicalize(path).is_ok_and(|target| target.starts_with(real_root))
}

/// `paths` without the ones that are the same file as an earlier one through a symlink, so a
/// file linked inside the project is read once.
fn distinct_files(paths: BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    paths
        .into_iter()
        .filter(|path| seen.insert(fs::canonicalize(path).unwrap_or_else(|_| path.clone())))
        .collect()
}

/// How many of a glob's leading components (split at `/`) are directories without glob
/// syntax: one, `policies`, for `policies/**/*.kdl`.
fn literal_directories(components: &[&str]) -> usize {
    components[..components.len().saturating_sub(1)]
        .iter()
        // A backslash escapes the next character: not the same text on disk.
        .take_while(|c| !c.is_empty() && !c.contains(['*', '?', '[', '{', '\\']))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Matching the rest of a glob under its literal directories answers as the whole
    /// glob does.
    #[test]
    fn a_glob_split_at_its_literal_directories_matches_as_the_whole_glob() {
        let patterns = [
            "policies/**/*.kdl",
            "policies/*.kdl",
            "policies/a/*.kdl",
            "*.kdl",
            "**/*.kdl",
            "policies/{a,b}/*.kdl",
            "policies/[ab]*/x.kdl",
            "policies/p?.kdl",
            "policies/x.kdl",
            "a/b/**",
            "policies/**/sub/*.kdl",
        ];
        let paths = [
            "policies/a.kdl",
            "policies/a/b.kdl",
            "policies/a/b/c.kdl",
            "policies/b/x.kdl",
            "policies/ab/x.kdl",
            "policies/p1.kdl",
            "policies/x.kdl",
            "policies/sub/y.kdl",
            "policies/q/sub/y.kdl",
            "policies.kdl",
            "other/a.kdl",
            "a.kdl",
            "a/b/c",
            "a/b",
            "policies/a.kdl.bak",
            "policiesx/a.kdl",
        ];
        for pattern in patterns {
            let whole = GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .unwrap()
                .compile_matcher();
            let mut diagnostics = Diagnostics::default();
            let split = compile_glob(pattern, Span::start_of(FileId(0)), &mut diagnostics)
                .unwrap()
                .unwrap();
            for path in paths {
                assert_eq!(
                    split.is_match(Path::new(path)),
                    whole.is_match(path),
                    "{pattern} on {path}"
                );
            }
        }
    }

    #[test]
    fn literal_prefix_stops_at_glob_syntax() {
        let literal_prefix = |pattern: &str| {
            let mut diagnostics = Diagnostics::default();
            compile_glob(pattern, Span::start_of(FileId(0)), &mut diagnostics)
                .unwrap()
                .unwrap()
                .prefix
        };
        assert_eq!(
            literal_prefix("policies/**/*.kdl"),
            PathBuf::from("policies")
        );
        assert_eq!(literal_prefix("a/b/*.kdl"), PathBuf::from("a/b"));
        assert_eq!(literal_prefix("*.kdl"), PathBuf::new());
        assert_eq!(literal_prefix("a/\\*b/*.kdl"), PathBuf::from("a"));
    }

    /// The parallel loader reads unsaved buffers instead of the disk, picks up a buffer the
    /// globs match before it is saved, and still skips buffers under `target/` and the like.
    #[test]
    fn a_parse_cache_reuses_only_unchanged_text_at_the_same_id_and_forgets_removed_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::write(root.join(PROJECT_FILE), "organization \"Disk\"\n").unwrap();
        fs::create_dir_all(root.join("policies")).unwrap();
        for n in 0..20 {
            fs::write(root.join(format!("policies/p{n:02}.kdl")), "group \"g\"\n").unwrap();
        }
        let cache = ParseCache::default();
        let load = |overlay: &Overlay| {
            let mut diagnostics = Diagnostics::default();
            let project =
                load_project_mapped(&root, overlay, Some(&cache), &mut diagnostics, &|p| p)
                    .unwrap();
            assert!(diagnostics.is_empty());
            project.policy_files
        };
        let first = load(&Overlay::new());
        let mut overlay = Overlay::new();
        overlay.insert(root.join("policies/p03.kdl"), "group \"edited\"\n".into());
        let second = load(&overlay);
        for (n, (a, b)) in first.iter().zip(&second).enumerate() {
            let reused = Arc::ptr_eq(&a.document, &b.document);
            assert_eq!(reused, n != 3, "p{n:02}: reused {reused}");
        }
        // A file added in front of others moves their ids: what was made under the old id
        // (its spans say which file they are in) is made again.
        fs::write(root.join("policies/p00b.kdl"), "group \"new\"\n").unwrap();
        let moved = load(&overlay);
        assert!(Arc::ptr_eq(&second[0].document, &moved[0].document));
        assert!(!Arc::ptr_eq(&second[1].document, &moved[2].document));
        fs::remove_file(root.join("policies/p00b.kdl")).unwrap();
        fs::remove_file(root.join("policies/p05.kdl")).unwrap();
        let third = load(&overlay);
        assert_eq!(third.len(), 19);
        let cached = cache.entries.lock().unwrap();
        assert_eq!(cached.len(), 19);
        assert!(!cached.contains_key(&root.join("policies/p05.kdl")));
    }

    #[test]
    fn overlay_stands_in_for_disk_in_the_parallel_loader() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::write(root.join(PROJECT_FILE), "organization \"Disk\"\n").unwrap();
        fs::create_dir_all(root.join("policies")).unwrap();
        for n in 0..40 {
            fs::write(root.join(format!("policies/p{n:02}.kdl")), "disk\n").unwrap();
        }
        let mut overlay = Overlay::new();
        overlay.insert(root.join(PROJECT_FILE), "organization \"Buffer\"\n".into());
        overlay.insert(root.join("policies/p07.kdl"), "edited\n".into());
        overlay.insert(root.join("policies/new.kdl"), "unsaved\n".into());
        overlay.insert(root.join("policies/target/x.kdl"), "skipped\n".into());

        let mut diagnostics = Diagnostics::default();
        let project = load_project_with(&root, &overlay, &mut diagnostics).unwrap();
        assert!(diagnostics.is_empty());
        let text = |name: &str| {
            let path = root.join(name);
            let file = project.policy_files.iter().find_map(|f| {
                let source = project.sources.get(f.file)?;
                (source.path == path).then(|| source.text.clone())
            });
            file.unwrap_or_else(|| panic!("{name} not loaded"))
        };
        assert_eq!(project.policy_files.len(), 41);
        assert_eq!(text("policies/p07.kdl"), "edited\n");
        assert_eq!(text("policies/p08.kdl"), "disk\n");
        assert_eq!(text("policies/new.kdl"), "unsaved\n");
        let project_text = &project.sources.get(project.project_file_id).unwrap().text;
        assert!(project_text.contains("Buffer"));
        // Ids follow path order, as without an overlay.
        for (n, file) in project.policy_files.iter().enumerate() {
            assert_eq!(file.file, file_id(n + 1));
        }
    }
}
