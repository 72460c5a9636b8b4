//! Deciding whether an existing directory may be replaced by a build.
//!
//! A build swaps its new tree in place of `--out` and deletes the old one, so `--out` pointing
//! at the wrong place would delete someone's files. The rule: bsic replaces a directory only
//! when it can prove bsic wrote it — it holds bsic's `manifest.json` and nothing that manifest
//! does not list, apart from the [`UPLOAD_STATE_FILES`] an upload script writes beside itself
//! — or when it is empty, and never the project itself or one of its ancestors.
//! An `--out` that is a symlink is followed deliberately: the directory it points to is
//! replaced and the link is kept.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use super::MANIFEST_FILE;
use super::write::OutputError;
use crate::source::display_path;

/// Files an MDM layout's upload script writes beside itself after a build, which the
/// manifest therefore cannot list: `server-tokens.json`, the map from bsic's `ServerToken`s
/// to the ones the server assigned (`kmfddm/upload.sh` writes it; `bsic status` reads it).
/// One is accepted in an old output only directly beside an `upload.sh` the manifest lists,
/// so a rebuild still replaces the output; it goes with the old tree, as the next upload
/// writes it anew for the new build.
pub(crate) const UPLOAD_STATE_FILES: &[&str] = &["server-tokens.json"];

/// Where a build will write, once checked.
#[derive(Debug)]
pub(crate) struct Destination {
    /// The directory replaced: `--out` itself, or the directory its symlink points to.
    pub dir: PathBuf,
    /// The files the previous build listed in its manifest; empty when there was none.
    pub previous_files: usize,
}

/// Checks that `out` may be replaced by a build of the project at `project_root` and says
/// where the build really writes. Refuses, naming the file that proves it, when `out` is
/// not a previous bsic output.
pub(crate) fn check_destination(
    out: &Path,
    project_root: &Path,
) -> Result<Destination, OutputError> {
    let dir = follow_symlink(out)?;
    let root = fs::canonicalize(project_root).unwrap_or_else(|_| project_root.to_path_buf());
    let absolute = absolute(&dir);
    if root.starts_with(&absolute) {
        return Err(OutputError::HoldsProject {
            path: out.to_path_buf(),
            project_file: root.join(crate::source::PROJECT_FILE),
        });
    }
    let metadata = match fs::metadata(&dir) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Destination {
                dir,
                previous_files: 0,
            });
        }
        Err(source) => return Err(OutputError::Io { path: dir, source }),
    };
    if !metadata.is_dir() {
        return Err(refuse(out, out, "it is a file, not a directory"));
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    if !manifest_path.exists() {
        return match first_entry(&dir)? {
            None => Ok(Destination {
                dir,
                previous_files: 0,
            }),
            Some(found) => Err(refuse(
                out,
                &found,
                "it is not empty and has no manifest.json, so bsic did not write it",
            )),
        };
    }
    // A large output lists a few hundred thousand files in a manifest of ~100 MB: stream the
    // manifest (never all of it in memory) on one core while the tree is listed on the other.
    let (on_disk, listed) =
        crate::parallel::overlap(|| files_under(&dir), || listed_files(&manifest_path));
    let listed =
        listed.map_err(|why| refuse(out, &manifest_path, &format!("its manifest.json {why}")))?;
    let previous_files = listed.len();
    for (relative, path) in on_disk? {
        if relative != MANIFEST_FILE
            && !listed.contains(relative.as_str())
            && !is_upload_state(&relative, &listed)
        {
            return Err(refuse(
                out,
                &path,
                "this file is not listed in its manifest.json, so bsic did not write it",
            ));
        }
    }
    Ok(Destination {
        dir,
        previous_files,
    })
}

/// Whether `relative` is one of the [`UPLOAD_STATE_FILES`] beside a listed `upload.sh`.
fn is_upload_state(relative: &str, listed: &HashSet<String>) -> bool {
    let Some((layout, name)) = relative.rsplit_once('/') else {
        return false;
    };
    UPLOAD_STATE_FILES.contains(&name) && listed.contains(&format!("{layout}/upload.sh"))
}

/// `out`, or the directory it points to when it is a symlink (a dangling link is refused:
/// bsic does not create directories at a link's far end).
fn follow_symlink(out: &Path) -> Result<PathBuf, OutputError> {
    match fs::symlink_metadata(out) {
        Ok(metadata) if metadata.file_type().is_symlink() => {
            fs::canonicalize(out).map_err(|source| OutputError::Io {
                path: out.to_path_buf(),
                source,
            })
        }
        _ => Ok(out.to_path_buf()),
    }
}

/// `path` made absolute against the working directory, with symlinks resolved where it exists.
fn absolute(path: &Path) -> PathBuf {
    if let Ok(real) = fs::canonicalize(path) {
        return real;
    }
    // Not there yet: resolve the nearest existing ancestor and append the rest.
    let joined = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut tail = Vec::new();
    let mut cursor = joined.as_path();
    while let Some(parent) = cursor.parent() {
        if let Some(name) = cursor.file_name() {
            tail.push(name.to_os_string());
        }
        if let Ok(real) = fs::canonicalize(parent) {
            let mut resolved = real;
            resolved.extend(tail.iter().rev());
            return resolved;
        }
        cursor = parent;
    }
    joined
}

/// The first entry of `dir`, if any.
fn first_entry(dir: &Path) -> Result<Option<PathBuf>, OutputError> {
    let mut entries = fs::read_dir(dir).map_err(|source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(entries.next().and_then(Result::ok).map(|e| e.path()))
}

/// Every file (and link, and other non-directory) under `dir`: its `/`-separated path
/// relative to `dir`, and its path.
fn files_under(dir: &Path) -> Result<Vec<(String, PathBuf)>, OutputError> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.map_err(|error| OutputError::Io {
            path: error
                .path()
                .map_or_else(|| dir.to_path_buf(), Path::to_path_buf),
            source: error
                .into_io_error()
                .unwrap_or_else(|| std::io::Error::other("file system loop")),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        found.push((display_path(dir, entry.path()), entry.into_path()));
    }
    Ok(found)
}

/// Just the parts of a manifest that say which files a build wrote.
#[derive(serde::Deserialize)]
struct ListedPaths {
    generator: String,
    artifacts: Vec<PathOnly>,
    #[serde(default)]
    targets: Vec<PathOnly>,
}

#[derive(serde::Deserialize)]
struct PathOnly {
    path: String,
}

/// Every path a bsic manifest lists, or why the file is not a bsic manifest.
fn listed_files(manifest: &Path) -> Result<HashSet<String>, String> {
    let reader = crate::source::read::open(manifest, crate::source::Input::Manifest)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let listed: ListedPaths =
        serde_json::from_reader(reader).map_err(|e| format!("is not bsic's ({e})"))?;
    if !listed.generator.starts_with("bsic ") {
        return Err(format!("was written by {:?}, not bsic", listed.generator));
    }
    Ok(listed
        .artifacts
        .into_iter()
        .chain(listed.targets)
        .map(|entry| entry.path)
        .collect())
}

fn refuse(out: &Path, because: &Path, why: &str) -> OutputError {
    OutputError::NotOutput {
        path: out.to_path_buf(),
        because: because.to_path_buf(),
        why: why.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &Path) -> PathBuf {
        let root = dir.join("project");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("bsic.kdl"), "").unwrap();
        root
    }

    fn manifest(paths: &[&str]) -> String {
        let artifacts: Vec<_> = paths
            .iter()
            .map(|p| serde_json::json!({ "path": p }))
            .collect();
        serde_json::json!({ "generator": "bsic 0.1.0", "artifacts": artifacts }).to_string()
    }

    #[test]
    fn a_missing_or_empty_directory_may_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        assert!(check_destination(&dir.path().join("new"), &root).is_ok());
        fs::create_dir(dir.path().join("empty")).unwrap();
        assert!(check_destination(&dir.path().join("empty"), &root).is_ok());
    }

    #[test]
    fn a_previous_output_with_a_manifest_larger_than_any_apple_file_may_be_replaced() {
        // A 10,000-policy build writes a 48 MB manifest; held to the 16 MB limit of one
        // declaration or profile, it was cut short and its own output refused.
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        let out = dir.path().join("dist");
        fs::create_dir_all(out.join("ddm/g")).unwrap();
        fs::write(out.join("ddm/g/a.json"), "{}").unwrap();
        let padding = "x".repeat(usize::try_from(crate::source::Input::Apple.limit()).unwrap());
        let manifest = serde_json::json!({
            "generator": "bsic 0.1.0",
            "organization": padding,
            "artifacts": [{ "path": "ddm/g/a.json" }],
        });
        fs::write(out.join(MANIFEST_FILE), manifest.to_string()).unwrap();
        let destination = check_destination(&out, &root).unwrap();
        assert_eq!(destination.previous_files, 1);
    }

    #[test]
    fn a_previous_output_with_only_listed_files_may_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        let out = dir.path().join("dist");
        fs::create_dir_all(out.join("ddm/g")).unwrap();
        fs::write(out.join("ddm/g/a.json"), "{}").unwrap();
        fs::write(out.join(MANIFEST_FILE), manifest(&["ddm/g/a.json"])).unwrap();
        let destination = check_destination(&out, &root).unwrap();
        assert_eq!(destination.previous_files, 1);
    }

    #[test]
    fn a_foreign_manifest_or_an_unlisted_file_refuses_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        let out = dir.path().join("web");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join(MANIFEST_FILE), r#"{"name":"my web app"}"#).unwrap();
        let err = check_destination(&out, &root).unwrap_err();
        assert!(
            matches!(&err, OutputError::NotOutput { because, .. } if because.ends_with(MANIFEST_FILE)),
            "{err:?}"
        );

        fs::write(out.join(MANIFEST_FILE), manifest(&["a.json"])).unwrap();
        fs::write(out.join("a.json"), "{}").unwrap();
        fs::write(out.join("important.txt"), "keep").unwrap();
        let err = check_destination(&out, &root).unwrap_err();
        assert!(
            matches!(&err, OutputError::NotOutput { because, .. } if because.ends_with("important.txt")),
            "{err:?}"
        );

        let foreign = serde_json::json!({ "generator": "other", "artifacts": [] }).to_string();
        fs::write(out.join(MANIFEST_FILE), foreign).unwrap();
        assert!(check_destination(&out, &root).is_err());
    }

    #[test]
    fn an_upload_state_file_beside_a_listed_upload_script_is_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        let out = dir.path().join("dist");
        fs::create_dir_all(out.join("kmfddm")).unwrap();
        fs::write(out.join("kmfddm/upload.sh"), "").unwrap();
        fs::write(out.join("kmfddm/server-tokens.json"), "{}").unwrap();
        fs::write(out.join(MANIFEST_FILE), manifest(&["kmfddm/upload.sh"])).unwrap();
        assert!(check_destination(&out, &root).is_ok());
        // Not beside a listed upload script: not bsic's.
        fs::create_dir_all(out.join("other")).unwrap();
        fs::write(out.join("other/server-tokens.json"), "{}").unwrap();
        let err = check_destination(&out, &root).unwrap_err();
        assert!(
            matches!(&err, OutputError::NotOutput { because, .. } if because.ends_with("other/server-tokens.json")),
            "{err:?}"
        );
    }

    #[test]
    fn a_non_empty_directory_without_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        let out = dir.path().join("docs");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("notes.md"), "x").unwrap();
        let err = check_destination(&out, &root).unwrap_err();
        assert!(
            matches!(&err, OutputError::NotOutput { because, .. } if because.ends_with("notes.md"))
        );
    }

    #[test]
    fn the_project_and_its_ancestors_are_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        for out in [root.clone(), dir.path().to_path_buf(), root.join("..")] {
            let err = check_destination(&out, &root).unwrap_err();
            assert!(
                matches!(err, OutputError::HoldsProject { .. }),
                "{}",
                out.display()
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_out_is_followed_and_a_link_to_the_project_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = project(dir.path());
        let real = dir.path().join("real-dist");
        fs::create_dir(&real).unwrap();
        let link = dir.path().join("dist");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let destination = check_destination(&link, &root).unwrap();
        assert_eq!(destination.dir, fs::canonicalize(&real).unwrap());

        let to_project = dir.path().join("sneaky");
        std::os::unix::fs::symlink(&root, &to_project).unwrap();
        assert!(matches!(
            check_destination(&to_project, &root),
            Err(OutputError::HoldsProject { .. })
        ));
    }
}
