//! Removing a build's temporary directories when the process is interrupted.
//!
//! A build stages its tree in `.bsic-build-*` beside the output. Dropping the writer removes
//! it on errors and panics, but SIGINT (Ctrl-C) and SIGTERM (a CI runner cancelling a job)
//! end the process without running destructors. Here the directories are registered while
//! they exist; on the first of those signals one thread removes them and the process then
//! dies of the signal as it would have. The swap of the new tree into place is a critical
//! section that the cleanup waits for, so an interruption never loses both trees.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, Once, RwLock};

/// The temporary directories that exist right now.
static REGISTERED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Held while directories are renamed into place; the cleanup waits for it.
static SWAPPING: Mutex<()> = Mutex::new(());
static INSTALL: Once = Once::new();
/// Shared by every worker while it adds an entry to a staging tree; the cleanup takes it
/// exclusively and sets it, so no worker can make a file or directory (or make the removed
/// staging directory again with `create_dir_all`) after the cleanup has begun.
static INTERRUPTED: RwLock<bool> = RwLock::new(false);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records `dir` as temporary: removed if the process is interrupted before
/// [`unregister`].
pub(super) fn register(dir: &Path) {
    lock(&REGISTERED).push(dir.to_path_buf());
}

/// `dir` is gone or no longer temporary.
pub(super) fn unregister(dir: &Path) {
    lock(&REGISTERED).retain(|d| d != dir);
}

/// Runs `swap` (making a temporary directory, or renames that move trees into and out of
/// place) without an interruption's cleanup running halfway through it.
///
/// Also arms the cleanup on first use: the handler is in place before the first temporary
/// directory exists.
pub(super) fn uninterrupted<R>(swap: impl FnOnce() -> R) -> R {
    INSTALL.call_once(install);
    let _held = lock(&SWAPPING);
    swap()
}

/// Runs `add`, which makes an entry in a staging tree, unless the process is being
/// interrupted (then an error: the build is stopping anyway).
pub(super) fn adding<R>(add: impl FnOnce() -> std::io::Result<R>) -> std::io::Result<R> {
    let interrupted = INTERRUPTED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if *interrupted {
        return Err(std::io::Error::other("the build was interrupted"));
    }
    add()
}

/// Removes every registered directory (called on interruption), once no swap is under way
/// and no worker is adding an entry; workers add nothing after it.
fn remove_registered() {
    let _held = lock(&SWAPPING);
    let mut interrupted = INTERRUPTED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *interrupted = true;
    remove_dirs(std::mem::take(&mut *lock(&REGISTERED)));
}

fn remove_dirs(dirs: Vec<PathBuf>) {
    for dir in dirs {
        // Worker threads may still be adding files; a few tries outlast them.
        for _ in 0..5 {
            if super::write::remove_tree(&dir).is_ok() {
                break;
            }
        }
    }
}

#[cfg(unix)]
fn install() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("bsic-cleanup".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                remove_registered();
                // Die of the signal, as without the handler, so the caller sees it; the
                // exit code is the shell's convention should that fail.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
                #[allow(clippy::disallowed_methods)]
                std::process::exit(128 + signal);
            }
        });
    drop(spawned);
}

#[cfg(not(unix))]
fn install() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_directories_are_removed_and_unregistered_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let temporary = dir.path().join(".bsic-build-x");
        let kept = dir.path().join("dist");
        std::fs::create_dir_all(temporary.join("ddm")).unwrap();
        std::fs::create_dir_all(&kept).unwrap();
        register(&temporary);
        register(&kept);
        unregister(&kept);
        {
            let registered = lock(&REGISTERED);
            assert!(registered.contains(&temporary));
            assert!(!registered.contains(&kept));
        }
        unregister(&temporary);
        remove_dirs(vec![temporary.clone()]);
        assert!(!temporary.exists());
        assert!(kept.exists());
    }
}
