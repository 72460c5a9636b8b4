//! Writing one file atomically: the single-file counterpart of [`super::TreeWriter`], used by
//! every command that writes a file (`fmt`, `import`, `catalog import`, `status --html`,
//! `init`), so all of them have the same durability and permissions.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// What to do when the file is already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// Replace it, keeping its permissions.
    Replace,
    /// Leave it and fail with [`io::ErrorKind::AlreadyExists`].
    Refuse,
}

/// Writes `bytes` to `path` through a temporary file beside it, flushed to disk before it is
/// renamed into place: a reader sees the old file or the whole new one, never half of it, and
/// a crash leaves no half-written file. The parent directory is created if missing. A file
/// that replaces another keeps its permissions; a new one gets the usual mode for new files
/// (0666 less the umask), not the temporary file's owner-only 0600, so a page meant to be
/// published can be.
pub(crate) fn write_file(path: &Path, bytes: &[u8], existing: Existing) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".bsic-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(dir)?;
    temp.write_all(bytes)?;
    if let Ok(metadata) = fs::metadata(path) {
        fs::set_permissions(temp.path(), metadata.permissions())?;
    }
    temp.as_file().sync_all()?;
    match existing {
        Existing::Replace => temp.persist(path).map_err(|e| e.error)?,
        Existing::Refuse => temp.persist_noclobber(path).map_err(|e| e.error)?,
    };
    // Make the rename durable too; not every OS can sync a directory.
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_keeping_permissions_or_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/file.txt");
        write_file(&path, b"one", Existing::Refuse).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        let err = write_file(&path, b"two", Existing::Refuse).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"one");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // New files are not owner-only.
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_ne!(mode & 0o044, 0, "mode {mode:o}");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_file(&path, b"two", Existing::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("file.txt")]);
    }
}
