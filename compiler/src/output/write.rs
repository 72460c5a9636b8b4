//! Atomic replacement of an output directory.
//!
//! In: the output path and the files of the new tree, one at a time ([`TreeWriter`]). Out: the directory holding exactly the
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

use super::guard::check_destination;

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
    #[error(
        "refusing to replace `{}`: it is not a bsic output directory ({why}: `{}`)",
        path.display(),
        because.display()
    )]
    #[diagnostic(
        code("bsic::not-an-output-dir"),
        help(
            "bsic replaces only an empty directory or one it wrote itself (its manifest.json lists every file in it); choose another --out, or move the file away"
        )
    )]
    NotOutput {
        path: PathBuf,
        /// The file that shows bsic did not write the directory.
        because: PathBuf,
        why: String,
    },
    #[error(
        "refusing to replace `{}`: it holds the project (`{}`)",
        path.display(),
        project_file.display()
    )]
    #[diagnostic(
        code("bsic::out-holds-project"),
        help("--out must be a directory of its own, such as `dist/` beside bsic.kdl")
    )]
    HoldsProject {
        path: PathBuf,
        project_file: PathBuf,
    },
    #[error(
        "refusing to replace `{}` ({previous} files) with an empty build",
        path.display()
    )]
    #[diagnostic(
        code("bsic::empty-build"),
        help(
            "no policy produced an artifact: check the `policies` globs in bsic.kdl; pass --allow-empty if the output really should be emptied"
        )
    )]
    EmptyBuild { path: PathBuf, previous: usize },
    #[error(
        "the new output is in place, but the previous one could not be removed from `{}`",
        path.display()
    )]
    #[diagnostic(
        code("bsic::old-output-left"),
        help("remove that directory by hand (check its permissions)")
    )]
    OldOutputLeft {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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

/// A new output tree being written file by file, from one thread or several, so a build never
/// has to hold all of its output in memory. Nothing is visible at `out` until
/// [`TreeWriter::commit`]; dropping the writer instead (an error, a panic) deletes what was
/// staged and leaves the previous tree as it was.
pub(crate) struct TreeWriter {
    out: PathBuf,
    parent: PathBuf,
    staging: Staging,
    /// How many files the output being replaced listed (0 when there was none).
    previous_files: usize,
    /// The output being replaced, when it has files whose unchanged ones can be reused.
    previous: Option<PathBuf>,
    /// Every path written so far, case-folded, to refuse collisions.
    folded: Mutex<FoldedPaths>,
    /// Directories already created in the staging tree.
    made: Mutex<MadeDirs>,
    /// Held until the tree is swapped in; serialises builds into the same parent.
    _lock: Option<ParentLock>,
}

impl TreeWriter {
    /// Prepares to replace `out` with a build of the project at `project_root`: refuses a
    /// directory bsic did not write or that holds the project ([`check_destination`]), takes
    /// the lock on its parent, removes debris of killed builds, and makes the staging
    /// directory. A symlinked `out` is followed: the directory it points to is replaced.
    pub(crate) fn begin(out: &Path, project_root: &Path) -> Result<Self, OutputError> {
        let destination = check_destination(out, project_root)?;
        let out = destination.dir;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io(&parent))?;
        let lock = ParentLock::acquire(&parent)?;
        if let Some(lock) = &lock {
            lock.remove_debris();
        }
        let staging = Staging::new(&parent, "build-")?;
        spread_subdirectories(staging.path(), true);
        let previous = (destination.previous_files > 0).then(|| out.clone());
        Ok(Self {
            out,
            parent,
            staging,
            previous_files: destination.previous_files,
            previous,
            folded: Mutex::default(),
            made: Mutex::default(),
            _lock: lock,
        })
    }

    /// How many files the output this build replaces had (0 for a new or empty directory).
    pub(crate) fn previous_files(&self) -> usize {
        self.previous_files
    }

    /// The directory that will be replaced (a symlinked `--out` resolved).
    pub(crate) fn out(&self) -> &Path {
        &self.out
    }

    /// Stages one file at `relative` (`/`-separated, inside the tree, unique ignoring case).
    ///
    /// A file the output being replaced already holds with exactly these bytes is linked
    /// into the new tree instead of written again: its data is on disk already, and deleting
    /// the old tree then only drops names. Rebuilding a 10,000-policy output in place spent
    /// half its 10.5 s freeing the 61,000 old inodes (`strace -c`: `unlinkat`).
    pub(crate) fn write(&self, relative: &str, bytes: &[u8]) -> Result<(), OutputError> {
        let path = self.claim(relative)?;
        let unchanged = self
            .previous
            .as_ref()
            .map(|previous| previous.join(relative))
            .filter(|old| holds_exactly(old, bytes));
        // A file system without hard links (or a link that fails) gets the bytes written.
        if let Some(old) = unchanged
            && super::cleanup::adding(|| fs::hard_link(&old, &path)).is_ok()
        {
            return Ok(());
        }
        create(&path, |file| file.write_all(bytes))
    }

    /// Stages one file at `relative` whose content `fill` writes, for files too large to
    /// build in memory first.
    pub(crate) fn write_with(
        &self,
        relative: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), OutputError> {
        create(&self.claim(relative)?, fill)
    }

    /// Claims `relative` for one file (refusing a path already staged, ignoring case) and
    /// makes its directory; returns where the file goes in the staging tree.
    fn claim(&self, relative: &str) -> Result<PathBuf, OutputError> {
        if !lock(&self.folded).claim(relative)? {
            return Err(collision(self.staged_like(relative), relative));
        }
        let path = self.staging.path().join(relative);
        if let Some(dir) = path.parent() {
            self.make_dir(dir)?;
        }
        Ok(path)
    }

    /// Makes `dir` and any missing parent in the staging tree, recording each once it
    /// exists. The tree's top directories (`ddm/`, `profiles/`, one per MDM layout) are made
    /// and flagged under the lock, before anything goes into them: like the staging
    /// directory ([`spread_subdirectories`]), so the hundreds of group directories inside
    /// are spread over the file system's block groups by their names instead of all landing
    /// in one, the one where the previous build was just deleted. The directories below
    /// them are made without holding the lock (two cores making the same one both succeed):
    /// with every `mkdir` under it, one core waited for the other through a fifth of a
    /// 1,000-policy build.
    fn make_dir(&self, dir: &Path) -> Result<(), OutputError> {
        let root = self.staging.path();
        if dir == root || lock(&self.made).contains(dir) {
            return Ok(());
        }
        let create = || {
            super::cleanup::adding(|| match fs::create_dir(dir) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
                other => other,
            })
            .map_err(io(dir))
        };
        let Some(parent) = dir.parent() else {
            return create();
        };
        if parent == root {
            let mut made = lock(&self.made);
            if !made.contains(dir) {
                create()?;
                spread_subdirectories(dir, true);
                made.insert_top(dir);
            }
            return Ok(());
        }
        self.make_dir(parent)?;
        create()?;
        lock(&self.made).insert(dir);
        Ok(())
    }

    /// The staged file whose path equals `relative` but for letter case, if one is there yet.
    fn staged_like(&self, relative: &str) -> Option<String> {
        staged_files(self.staging.path())
            .into_iter()
            .find(|path| same_ignoring_case(path, relative))
    }

    /// Makes the staged tree durable and swaps it in place of the old one, then deletes the
    /// old one. Success means no staging or retired directory is left behind.
    pub(crate) fn commit(self) -> Result<(), OutputError> {
        let Self {
            out,
            parent,
            staging,
            made,
            ..
        } = self;
        for dir in &lock(&made).tops {
            spread_subdirectories(dir, false);
        }
        spread_subdirectories(staging.path(), false);
        flush(staging.path())?;

        if !out.exists() {
            super::cleanup::uninterrupted(|| {
                fs::rename(staging.path(), &out).map_err(io(&out))?;
                staging.disown();
                sync_dir(&parent);
                Ok(())
            })
        } else if super::cleanup::uninterrupted(|| exchange(staging.path(), &out)).is_ok() {
            // `staging` now holds the old tree.
            sync_dir(&parent);
            staging.remove()
        } else {
            let retired = Staging::new(&parent, "old-")?;
            // Rename the old tree onto the (empty) placeholder, then the new tree into place.
            super::cleanup::uninterrupted(|| {
                fs::rename(&out, retired.path()).map_err(io(&out))?;
                if let Err(source) = fs::rename(staging.path(), &out) {
                    let _ = fs::rename(retired.path(), &out);
                    return Err(OutputError::Io { path: out, source });
                }
                staging.disown();
                Ok(())
            })?;
            sync_dir(&parent);
            retired.remove()
        }
    }
}

/// Creates the staged file `path` and lets `fill` write it.
fn create(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let mut file = super::cleanup::adding(|| fs::File::create(path)).map_err(io(path))?;
    fill(&mut file).map_err(io(path))
}

/// Whether `path` is a regular, writable file (not a link) holding exactly `bytes`: only such
/// a file of the old output is reused, so a file changed by hand or made read-only since the
/// last build is written anew.
fn holds_exactly(path: &Path, bytes: &[u8]) -> bool {
    let Ok(metadata) = fs::symlink_metadata(path) else {
        return false;
    };
    if !metadata.is_file()
        || metadata.permissions().readonly()
        || metadata.len() != bytes.len() as u64
    {
        return false;
    }
    fs::read(path).is_ok_and(|old| old == bytes)
}

/// A directory beside the output that bsic owns while a build runs: the staging tree, or
/// the old tree on its way out. Removed when dropped (an error, a panic) and, through
/// [`super::cleanup`], when the process is interrupted by SIGINT or SIGTERM.
struct Staging {
    path: PathBuf,
    owned: bool,
}

impl Staging {
    fn new(parent: &Path, kind: &str) -> Result<Self, OutputError> {
        // Made and registered as one step, so an interruption never finds it unregistered.
        let path = super::cleanup::uninterrupted(|| {
            let dir = tempfile::Builder::new()
                .prefix(&format!("{TEMP_PREFIX}{kind}"))
                .tempdir_in(parent)
                .map_err(io(parent))?;
            let path = dir.keep();
            super::cleanup::register(&path);
            Ok::<_, OutputError>(path)
        })?;
        Ok(Self { path, owned: true })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    /// The directory has been renamed into place as the output: no longer ours to delete.
    fn disown(mut self) {
        super::cleanup::unregister(&self.path);
        self.owned = false;
    }

    /// Deletes the directory, making read-only parts writable first if need be, and says
    /// so when it cannot.
    fn remove(mut self) -> Result<(), OutputError> {
        self.owned = false;
        let result = remove_tree(&self.path);
        super::cleanup::unregister(&self.path);
        result.map_err(|source| OutputError::OldOutputLeft {
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.owned {
            let _ = remove_tree(&self.path);
            super::cleanup::unregister(&self.path);
        }
    }
}

/// Removes `path` and everything under it; where permissions stop that (a read-only old
/// output), makes the directories writable and tries again.
///
/// The subtrees two levels down (a group's directory of a layout) go on all cores first: on a
/// busy ext4 disk an unlink waited 1.4 ms, and removing a 1,000-policy build's 6,000 old
/// entries one by one took 8.8 s of a 17 s rebuild (`strace -c -w`).
pub(super) fn remove_tree(path: &Path) -> std::io::Result<()> {
    let subtrees: Vec<PathBuf> = walkdir::WalkDir::new(path)
        .min_depth(2)
        .max_depth(2)
        .into_iter()
        .flatten()
        .filter(|entry| entry.file_type().is_dir())
        .map(walkdir::DirEntry::into_path)
        .collect();
    // Whatever fails here is left to the whole-tree removal below, which reports it.
    crate::parallel::map(subtrees, 16, |_, dir| fs::remove_dir_all(dir).ok());
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) => {
            for entry in walkdir::WalkDir::new(path).into_iter().flatten() {
                if entry.file_type().is_dir()
                    && let Ok(metadata) = entry.metadata()
                {
                    let mut permissions = metadata.permissions();
                    #[cfg(unix)]
                    {
                        use std::os::unix::fs::PermissionsExt;
                        permissions.set_mode(metadata.permissions().mode() | 0o700);
                    }
                    #[cfg(not(unix))]
                    permissions.set_readonly(false);
                    let _ = fs::set_permissions(entry.path(), permissions);
                }
            }
            fs::remove_dir_all(path)
        }
    }
}

/// The directories made in a staging tree: a digest of each path (a build with every MDM
/// layout makes some 75,000, 10 MB as paths), and the top ones, which the commit flags again.
#[derive(Default)]
struct MadeDirs {
    digests: HashSet<u128>,
    tops: Vec<PathBuf>,
}

impl MadeDirs {
    fn contains(&self, dir: &Path) -> bool {
        self.digests
            .contains(&digest(dir.as_os_str().as_encoded_bytes()))
    }

    fn insert(&mut self, dir: &Path) {
        self.digests
            .insert(digest(dir.as_os_str().as_encoded_bytes()));
    }

    fn insert_top(&mut self, dir: &Path) {
        self.insert(dir);
        self.tops.push(dir.to_path_buf());
    }
}

/// 128 bits of the SHA-256 of `bytes`: a path's stand-in in a set of a few hundred thousand.
fn digest(bytes: &[u8]) -> u128 {
    let digest = crate::emit::sha256(bytes);
    let mut half = [0u8; 16];
    half.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(half)
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
        Ok(self.seen.insert(digest(relative.to_lowercase().as_bytes())))
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

/// Asks the file system to place the staged tree's directories where inodes are free, or
/// stops asking (`spread` false, before the tree is swapped in, so the output keeps no trace).
/// That is ext4's `FS_TOPDIR_FL`, what `chattr +T` sets; other file systems ignore or refuse
/// it, and either is fine.
///
/// Why: on an ext4 without a journal, inodes freed in the last minutes are skipped one by one
/// each time a file is created in their block group. A build written beside what was just
/// deleted (a rebuild after its old tree was removed, a CI job after its cleanup) paid 0.46 ms
/// per file for it (`strace -c`): 2.0 s for the 5,000 files of 1,000 policies, against 0.6 s
/// with the flag set (`perf` shows `find_inode_bit` → `recently_deleted`). Flagging only the
/// staging directory still put every group directory in the block group its `ddm/` or
/// `profiles/` landed in, chosen by that name, so the same one each build: signed rebuilds of
/// 1,000 policies right after deleting the previous output grew from 0.4 s to 1.75 s over six
/// rounds. With the top directories flagged too they stay at 0.40-0.47 s.
fn spread_subdirectories(dir: &Path, spread: bool) {
    #[cfg(target_os = "linux")]
    if let Ok(handle) = fs::File::open(dir) {
        use rustix::fs::{IFlags, ioctl_getflags, ioctl_setflags};
        if let Ok(flags) = ioctl_getflags(&handle) {
            let wanted = if spread {
                flags | IFlags::TOPDIR
            } else {
                flags - IFlags::TOPDIR
            };
            if wanted != flags {
                let _ = ioctl_setflags(&handle, wanted);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (dir, spread);
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
impl crate::diag::Examples for OutputError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::Io {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::NotOutput {
                path: "x".into(),
                because: "x".into(),
                why: "x".into(),
            },
            Self::HoldsProject {
                path: "x".into(),
                project_file: "x".into(),
            },
            Self::EmptyBuild {
                path: "x".into(),
                previous: 0,
            },
            Self::OldOutputLeft {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Escape { path: "x".into() },
            Self::Collision {
                first: "x".into(),
                second: "x".into(),
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::Io { .. }
                | Self::NotOutput { .. }
                | Self::HoldsProject { .. }
                | Self::EmptyBuild { .. }
                | Self::OldOutputLeft { .. }
                | Self::Escape { .. }
                | Self::Collision { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::super::MANIFEST_FILE;
    use super::*;

    /// Writes `files` (relative `/`-separated path → bytes) as the new content of `out`: the
    /// whole tree at once, as the tests want it.
    ///
    /// Everything is written into a fresh directory beside `out` first, then swapped in, so
    /// readers see the old tree or the new one and a failure leaves the old one.
    fn write_tree(
        out: &Path,
        project_root: &Path,
        files: &[(String, Vec<u8>)],
    ) -> Result<(), OutputError> {
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
        let writer = TreeWriter::begin(out, project_root)?;
        for (relative, bytes) in files {
            writer.write(relative, bytes)?;
        }
        writer.commit()
    }

    /// A project somewhere else, so that no output here holds it.
    fn root(dir: &Path) -> PathBuf {
        dir.join("project")
    }

    /// A bsic manifest listing `paths`.
    fn manifest(paths: &[&str]) -> Vec<u8> {
        let artifacts: Vec<_> = paths
            .iter()
            .map(|p| serde_json::json!({ "path": p }))
            .collect();
        serde_json::json!({ "generator": "bsic 0", "artifacts": artifacts })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn cores_writing_into_the_same_new_directories_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        let writer = TreeWriter::begin(&out, &root(dir.path())).unwrap();
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
        writer.write(MANIFEST_FILE, &manifest(&[])).unwrap();
        writer.commit().unwrap();
        assert_eq!(fs::read_dir(out.join("shared/0")).unwrap().count(), 80);
    }

    /// A rebuild links the files whose bytes did not change and writes the rest; a file
    /// changed or made read-only by hand since is written anew.
    #[cfg(unix)]
    #[test]
    fn a_rebuild_reuses_only_files_with_the_same_bytes() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        let paths = ["same.json", "changed.json", "edited.json", "locked.json"];
        let files = |changed: &[u8]| {
            let mut files = vec![("manifest.json".to_string(), manifest(&paths))];
            for path in paths {
                let bytes = if path == "changed.json" {
                    changed
                } else {
                    b"1"
                };
                files.push((path.to_string(), bytes.to_vec()));
            }
            files
        };
        write_tree(&out, &root(dir.path()), &files(b"1")).unwrap();
        fs::write(out.join("edited.json"), b"2").unwrap();
        let locked = out.join("locked.json");
        let mut permissions = fs::metadata(&locked).unwrap().permissions();
        permissions.set_readonly(true);
        fs::set_permissions(&locked, permissions).unwrap();
        let inode = |path: &str| fs::metadata(out.join(path)).unwrap().ino();
        let before: Vec<u64> = paths.iter().map(|p| inode(p)).collect();

        write_tree(&out, &root(dir.path()), &files(b"3")).unwrap();
        let reused: Vec<bool> = paths
            .iter()
            .zip(&before)
            .map(|(path, old)| inode(path) == *old)
            .collect();
        assert_eq!(reused, [true, false, false, false]);
        assert_eq!(fs::read(out.join("changed.json")).unwrap(), b"3");
        assert_eq!(fs::read(out.join("edited.json")).unwrap(), b"1");
        assert!(!fs::metadata(&locked).unwrap().permissions().readonly());
    }

    #[test]
    fn replaces_previous_output_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        write_tree(
            &out,
            &root(dir.path()),
            &[
                ("manifest.json".into(), manifest(&["a/b.json"])),
                ("a/b.json".into(), b"1".to_vec()),
            ],
        )
        .unwrap();
        write_tree(
            &out,
            &root(dir.path()),
            &[
                ("manifest.json".into(), manifest(&["c.json"])),
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

    /// The placement flag set while staging is cleared before the swap: the output carries
    /// no trace of it. Checked where the file system keeps flags (ext4); elsewhere reading
    /// them fails and there is nothing to check.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_output_keeps_no_placement_flag() {
        use rustix::fs::{IFlags, ioctl_getflags};
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        write_tree(
            &out,
            &root(dir.path()),
            &[
                (
                    "manifest.json".into(),
                    manifest(&["ddm/g/a.json", "profiles/g/b"]),
                ),
                ("ddm/g/a.json".into(), b"1".to_vec()),
                ("profiles/g/b".into(), b"2".to_vec()),
            ],
        )
        .unwrap();
        for entry in walkdir::WalkDir::new(&out) {
            let entry = entry.unwrap();
            if !entry.file_type().is_dir() {
                continue;
            }
            let handle = fs::File::open(entry.path()).unwrap();
            if let Ok(flags) = ioctl_getflags(&handle) {
                assert!(
                    !flags.contains(IFlags::TOPDIR),
                    "{}",
                    entry.path().display()
                );
            }
        }
    }

    #[test]
    fn refuses_to_replace_foreign_directories() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("foreign");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("precious.txt"), "x").unwrap();
        let err = write_tree(
            &foreign,
            &root(dir.path()),
            &[("manifest.json".into(), manifest(&[]))],
        )
        .unwrap_err();
        assert!(matches!(err, OutputError::NotOutput { .. }));
        assert!(foreign.join("precious.txt").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_old_output_is_removed_after_the_swap() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("dist");
        let files = [
            ("manifest.json".to_string(), manifest(&["ddm/a.json"])),
            ("ddm/a.json".to_string(), b"1".to_vec()),
        ];
        write_tree(&out, &root(dir.path()), &files).unwrap();
        fs::set_permissions(out.join("ddm"), fs::Permissions::from_mode(0o555)).unwrap();
        write_tree(&out, &root(dir.path()), &files).unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("dist")]);
    }

    #[test]
    fn rejects_escaping_paths() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_tree(
            &dir.path().join("d"),
            &root(dir.path()),
            &[("../x".into(), vec![])],
        )
        .unwrap_err();
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
        let err = write_tree(&out, &root(dir.path()), &files).unwrap_err();
        assert!(
            matches!(&err, OutputError::Collision { first, second }
                if first == "ddm/Lab/x.json" && second == "ddm/lab/x.json"),
            "{err:?}"
        );
        assert!(!out.exists());
        // A streamed build names the earlier file too, found in what it staged.
        let writer = TreeWriter::begin(&out, &root(dir.path())).unwrap();
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
        write_tree(
            &out,
            &root(dir.path()),
            &[("manifest.json".into(), manifest(&[]))],
        )
        .unwrap();
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, vec![".bsic-notes", "dist"]);
    }
}
