//! Atomic replacement of an output directory.
//!
//! In: the output path and every file of the new tree, all at once ([`write_tree`]) or one
//! at a time ([`TreeWriter`]). Out: the directory holding exactly the
//! new tree, or, on any failure (including the process being killed), exactly the old one.
//!
//! How: the new tree is written into a staging directory beside the output (same file
//! system), flushed to disk with one file-system sync, and swapped in with one atomic
//! exchange of directory entries where the OS has one (`renameat2(RENAME_EXCHANGE)` on
//! Linux, `renameatx_np(RENAME_SWAP)` on macOS), two renames elsewhere. The old tree is then
//! deleted. Builds into the same parent directory are serialised by an advisory lock on that
//! directory, so while a build holds it, any `.bsic-*` directory beside the output is debris of
//! a killed build and is removed.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::MANIFEST_FILE;

/// Prefix of every temporary directory bsic creates beside an output directory.
const TEMP_PREFIX: &str = ".bsic-";

/// Failures while writing output; each names the path involved (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OutputError {
    #[error("cannot write `{}`", path.display())]
    #[diagnostic(
        code("bsic::write-failed"),
        help("check permissions and free space; the previous output is untouched")
    )]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to replace `{}`: it is not a bsic output directory", path.display())]
    #[diagnostic(
        code("bsic::not-an-output-dir"),
        help(
            "bsic replaces only directories it wrote (with a manifest.json) or empty ones; choose another --out"
        )
    )]
    NotOutput { path: PathBuf },
    #[error("artifact path `{path}` would leave the output directory")]
    #[diagnostic(code("bsic::internal::path-escape"), help("please report this"))]
    Escape { path: String },
    #[error("artifact paths `{first}` and `{second}` differ only in letter case")]
    #[diagnostic(
        code("bsic::internal::path-collision"),
        help(
            "they would overwrite each other on a case-insensitive file system; please report this"
        )
    )]
    Collision { first: String, second: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `files` (relative `/`-separated path → bytes) as the new content of `out`.
///
/// Everything is written into a fresh directory beside `out` first, then swapped in, so
/// readers see the old tree or the new one and a failure leaves the old one.
pub fn write_tree(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), OutputError> {
    let mut folded = FoldedPaths::default();
    for (index, (relative, _)) in files.iter().enumerate() {
        if !folded.claim(relative)? {
            let first = files[..index]
                .iter()
                .map(|(path, _)| path)
                .find(|path| same_ignoring_case(path, relative));
            return Err(collision(first.cloned(), relative));
        }
    }
    let writer = TreeWriter::begin(out)?;
    for (relative, bytes) in files {
        writer.write(relative, bytes)?;
    }
    writer.commit()
}

/// A new output tree being written file by file, from one thread or several, so a build never
/// has to hold all of its output in memory. Nothing is visible at `out` until
/// [`TreeWriter::commit`]; dropping the writer instead (an error, a panic) deletes what was
/// staged and leaves the previous tree as it was.
pub struct TreeWriter {
    out: PathBuf,
    parent: PathBuf,
    staging: tempfile::TempDir,
    /// Every path written so far, case-folded, to refuse collisions.
    folded: Mutex<FoldedPaths>,
    /// Directories already created in the staging tree.
    made: Mutex<HashSet<PathBuf>>,
    /// Held until the tree is swapped in; serialises builds into the same parent.
    _lock: Option<ParentLock>,
}

impl TreeWriter {
    /// Prepares to replace `out`: refuses a directory bsic did not write, takes the lock on
    /// its parent, removes debris of killed builds, and makes the staging directory.
    pub fn begin(out: &Path) -> Result<Self, OutputError> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io(&parent))?;
        let lock = ParentLock::acquire(&parent)?;
        if let Some(lock) = &lock {
            lock.remove_debris();
        }
        if out.exists() {
            let is_output = out.is_dir()
                && (out.join(MANIFEST_FILE).is_file()
                    || fs::read_dir(out).map_err(io(out))?.next().is_none());
            if !is_output {
                return Err(OutputError::NotOutput {
                    path: out.to_path_buf(),
                });
            }
        }
        let staging = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}build-"))
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        Ok(Self {
            out: out.to_path_buf(),
            parent,
            staging,
            folded: Mutex::default(),
            made: Mutex::default(),
            _lock: lock,
        })
    }

    /// Stages one file at `relative` (`/`-separated, inside the tree, unique ignoring case).
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), OutputError> {
        self.write_with(relative, |file| file.write_all(bytes))
    }

    /// Stages one file at `relative` whose content `fill` writes, for files too large to
    /// build in memory first.
    pub fn write_with(
        &self,
        relative: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), OutputError> {
        if !lock(&self.folded).claim(relative)? {
            return Err(collision(self.staged_like(relative), relative));
        }
        let path = self.staging.path().join(relative);
        if let Some(dir) = path.parent() {
            // Made under the lock: another core writing into the same directory must not
            // see it recorded before it exists.
            let mut made = lock(&self.made);
            if !made.contains(dir) {
                fs::create_dir_all(dir).map_err(io(dir))?;
                made.insert(dir.to_path_buf());
            }
        }
        let mut file = fs::File::create(&path).map_err(io(&path))?;
        fill(&mut file).map_err(io(&path))
    }

    /// The staged file whose path equals `relative` but for letter case, if one is there yet.
    fn staged_like(&self, relative: &str) -> Option<String> {
        staged_files(self.staging.path())
            .into_iter()
            .find(|path| same_ignoring_case(path, relative))
    }

    /// Makes the staged tree durable and swaps it in place of the old one.
    pub fn commit(self) -> Result<(), OutputError> {
        let Self {
            out,
            parent,
            staging,
            ..
        } = self;
        flush(staging.path())?;

        if out.exists() {
            if exchange(staging.path(), &out).is_ok() {
                // `staging` now holds the old tree; dropping it deletes it.
                sync_dir(&parent);
                drop(staging);
                return Ok(());
            }
            let retired = tempfile::Builder::new()
                .prefix(&format!("{TEMP_PREFIX}old-"))
                .tempdir_in(&parent)
                .map_err(io(&parent))?;
            let retired_path = retired.path().to_path_buf();
            // Rename the old tree onto the (empty) placeholder, then the new tree into place.
            fs::rename(&out, &retired_path).map_err(io(&out))?;
            if let Err(source) = fs::rename(staging.path(), &out) {
                let _ = fs::rename(&retired_path, &out);
                return Err(OutputError::Io { path: out, source });
            }
            let _ = staging.keep();
            sync_dir(&parent);
            drop(retired); // removes the old tree
        } else {
            fs::rename(staging.path(), &out).map_err(io(&out))?;
            let _ = staging.keep();
            sync_dir(&parent);
        }
        Ok(())
    }
}

/// The paths of a tree, case-folded: refuses a path that leaves the tree, and tells a path
/// that differs from an earlier one only in letter case (they would overwrite each other on
/// APFS and NTFS). Keeps a 128-bit digest of each folded path, not the path: a large build
/// with MDM layouts writes a few hundred thousand files.
#[derive(Default)]
struct FoldedPaths {
    seen: HashSet<u128>,
}

impl FoldedPaths {
    /// Claims `relative`: false when a path equal to it but for letter case came before.
    fn claim(&mut self, relative: &str) -> Result<bool, OutputError> {
        let safe = relative
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
        if !safe || relative.starts_with('/') {
            return Err(OutputError::Escape {
                path: relative.to_string(),
            });
        }
        let digest = crate::emit::sha256(relative.to_lowercase().as_bytes());
        let mut half = [0u8; 16];
        half.copy_from_slice(&digest[..16]);
        Ok(self.seen.insert(u128::from_le_bytes(half)))
    }
}

fn same_ignoring_case(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn collision(first: Option<String>, second: &str) -> OutputError {
    OutputError::Collision {
        first: first.unwrap_or_else(|| second.to_lowercase()),
        second: second.to_string(),
    }
}

/// Every file under `root`, as `/`-separated paths relative to it.
fn staged_files(root: &Path) -> Vec<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .flatten()
        .filter(|entry| entry.file_type().is_file())
        .filter_map(|entry| {
            let relative = entry.path().strip_prefix(root).ok()?;
            Some(relative.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}

/// Locks a mutex whose data stays consistent even if a writer thread panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes the staged files durable before they are swapped in: one `syncfs` on Linux (one
/// flush for thousands of files instead of one each), one `fsync` per file elsewhere.
fn flush(root: &Path) -> Result<(), OutputError> {
    #[cfg(target_os = "linux")]
    {
        let dir = fs::File::open(root).map_err(io(root))?;
        rustix::fs::syncfs(&dir).map_err(|e| OutputError::Io {
            path: root.to_path_buf(),
            source: e.into(),
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        for relative in staged_files(root) {
            let path = root.join(relative);
            fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(io(&path))?;
        }
        Ok(())
    }
}

/// Swaps two directory entries atomically, where the OS can.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(Into::into)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = (a, b);
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
}

/// Makes the renames in `dir` durable; best effort (not every OS can sync a directory).
fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// An exclusive advisory lock on the output's parent directory, held for the whole write.
/// A second build into the same place waits for the first to finish, then replaces its
/// output whole. `None` where directories cannot be locked (then no debris is removed).
struct ParentLock {
    dir: PathBuf,
    _handle: fs::File,
}

impl ParentLock {
    fn acquire(dir: &Path) -> Result<Option<Self>, OutputError> {
        let Ok(handle) = fs::File::open(dir) else {
            return Ok(None);
        };
        match handle.lock() {
            Ok(()) => Ok(Some(Self {
                dir: dir.to_path_buf(),
                _handle: handle,
            })),
            Err(error) if error.kind() == std::io::ErrorKind::Unsupported => Ok(None),
            Err(source) => Err(OutputError::Io {
                path: dir.to_path_buf(),
                source,
            }),
        }
    }

    /// Removes `.bsic-build-*` and `.bsic-old-*` directories: with the lock held, no live
    /// build owns them, so they are what a killed build left behind. Best effort.
    fn remove_debris(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ours = [format!("{TEMP_PREFIX}build-"), format!("{TEMP_PREFIX}old-")]
                .iter()
                .any(|prefix| name.starts_with(prefix.as_str()));
            if ours && entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_writing_into_the_same_new_directories_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        let writer = TreeWriter::begin(&out).unwrap();
        std::thread::scope(|scope| {
            for core in 0..8 {
                let writer = &writer;
                scope.spawn(move || {
                    for round in 0..40 {
                        let path = format!("shared/{}/file-{core}-{round}", round % 4);
                        writer.write(&path, b"x").unwrap();
                    }
                });
            }
        });
        writer.write(MANIFEST_FILE, b"{}").unwrap();
        writer.commit().unwrap();
        assert_eq!(fs::read_dir(out.join("shared/0")).unwrap().count(), 80);
    }

    #[test]
    fn replaces_previous_output_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        write_tree(
            &out,
            &[
                ("manifest.json".into(), b"{}".to_vec()),
                ("a/b.json".into(), b"1".to_vec()),
            ],
        )
        .unwrap();
        write_tree(
            &out,
            &[
                ("manifest.json".into(), b"{}".to_vec()),
                ("c.json".into(), b"2".to_vec()),
            ],
        )
        .unwrap();
        assert!(!out.join("a/b.json").exists());
        assert_eq!(fs::read(out.join("c.json")).unwrap(), b"2");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("dist")]);
    }

    #[test]
    fn refuses_to_replace_foreign_directories() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("precious.txt"), "x").unwrap();
        let err = write_tree(dir.path(), &[("manifest.json".into(), b"{}".to_vec())]).unwrap_err();
        assert!(matches!(err, OutputError::NotOutput { .. }));
        assert!(dir.path().join("precious.txt").exists());
    }

    #[test]
    fn rejects_escaping_paths() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_tree(&dir.path().join("d"), &[("../x".into(), vec![])]).unwrap_err();
        assert!(matches!(err, OutputError::Escape { .. }));
        assert!(!dir.path().join("x").exists());
    }

    #[test]
    fn rejects_paths_that_collide_case_insensitively() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("d");
        let files = [
            ("ddm/Lab/x.json".to_string(), vec![]),
            ("ddm/lab/x.json".to_string(), vec![]),
        ];
        let err = write_tree(&out, &files).unwrap_err();
        assert!(
            matches!(&err, OutputError::Collision { first, second }
                if first == "ddm/Lab/x.json" && second == "ddm/lab/x.json"),
            "{err:?}"
        );
        assert!(!out.exists());
        // A streamed build names the earlier file too, found in what it staged.
        let writer = TreeWriter::begin(&out).unwrap();
        writer.write("ddm/Lab/x.json", b"1").unwrap();
        let err = writer.write("ddm/lab/X.json", b"2").unwrap_err();
        assert!(
            matches!(&err, OutputError::Collision { first, .. } if first == "ddm/Lab/x.json"),
            "{err:?}"
        );
    }

    #[test]
    fn debris_of_a_killed_build_is_removed_and_foreign_files_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        fs::create_dir_all(dir.path().join(".bsic-build-abc/ddm")).unwrap();
        fs::create_dir_all(dir.path().join(".bsic-old-xyz")).unwrap();
        fs::write(dir.path().join(".bsic-notes"), "mine").unwrap();
        write_tree(&out, &[("manifest.json".into(), b"{}".to_vec())]).unwrap();
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec![".bsic-notes", "dist"]);
    }
}
