//! Atomic replacement of an output directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::MANIFEST_FILE;

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
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `files` (relative `/`-separated path → bytes) as the new content of `out`.
///
/// Everything is written into a fresh directory beside `out` first, then swapped in with
/// renames, so readers see the old tree or the new one and a failure leaves the old one.
pub fn write_tree(out: &Path, files: &[(String, Vec<u8>)]) -> Result<(), OutputError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io(&parent))?;
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
        .prefix(".bsic-build-")
        .tempdir_in(&parent)
        .map_err(io(&parent))?;
    for (relative, bytes) in files {
        let safe = relative
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != "..");
        if !safe || relative.starts_with('/') {
            return Err(OutputError::Escape {
                path: relative.clone(),
            });
        }
        let path = staging.path().join(relative);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut file = fs::File::create(&path).map_err(io(&path))?;
        file.write_all(bytes).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
    }

    if out.exists() {
        let retired = tempfile::Builder::new()
            .prefix(".bsic-old-")
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        let retired_path = retired.path().to_path_buf();
        // Rename the old tree onto the (empty) placeholder, then the new tree into place.
        fs::rename(out, &retired_path).map_err(io(out))?;
        if let Err(source) = fs::rename(staging.path(), out) {
            let _ = fs::rename(&retired_path, out);
            return Err(OutputError::Io {
                path: out.to_path_buf(),
                source,
            });
        }
        let _ = staging.keep();
        drop(retired); // removes the old tree
    } else {
        fs::rename(staging.path(), out).map_err(io(out))?;
        let _ = staging.keep();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
