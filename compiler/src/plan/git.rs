//! The project as it was at a Git revision: its `.kdl` files exported into a temporary
//! directory with `git ls-tree` and `git show`, locally, without a work tree checkout.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::PlanError;

/// A temporary copy of the project at a revision; removed when dropped.
#[derive(Debug)]
pub(crate) struct Exported {
    dir: tempfile::TempDir,
}

impl Exported {
    /// The project root inside the copy.
    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }
}

fn git(cwd: &Path, args: &[&str], reference: &str) -> Result<Vec<u8>, PlanError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(cwd)
        .args(args)
        .output()
        .map_err(|e| PlanError::Git {
            reference: reference.to_string(),
            detail: format!("cannot run git: {e}"),
        })?;
    if !output.status.success() {
        return Err(PlanError::Git {
            reference: reference.to_string(),
            detail: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output.stdout)
}

/// Exports every `.kdl` file of the project at `root` as of `reference`.
pub(crate) fn export(root: &Path, reference: &str) -> Result<Exported, PlanError> {
    let failed = |detail: String| PlanError::Git {
        reference: reference.to_string(),
        detail,
    };
    if reference.starts_with('-') {
        return Err(failed("a revision cannot start with `-`".into()));
    }
    let top = git(root, &["rev-parse", "--show-toplevel"], reference)?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    let top = fs::canonicalize(&top).unwrap_or(top);
    let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let prefix = root
        .strip_prefix(&top)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default();
    git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
        reference,
    )
    .map_err(|_| {
        failed(format!(
            "`{reference}` is not a commit in {}",
            top.display()
        ))
    })?;
    let scope = if prefix.is_empty() {
        ".".to_string()
    } else {
        prefix.clone()
    };
    let listing = git(
        &top,
        &[
            "ls-tree",
            "-r",
            "-z",
            "--name-only",
            reference,
            "--",
            &scope,
        ],
        reference,
    )?;
    let dir = tempfile::Builder::new()
        .prefix("bsic-plan-")
        .tempdir()
        .map_err(|e| failed(format!("cannot create a temporary directory: {e}")))?;
    for path in listing.split(|b| *b == 0).filter(|p| !p.is_empty()) {
        let path = String::from_utf8_lossy(path);
        if !path.ends_with(".kdl") {
            continue;
        }
        let relative = if prefix.is_empty() {
            path.as_ref()
        } else {
            match path.strip_prefix(&format!("{prefix}/")) {
                Some(r) => r,
                None => continue,
            }
        };
        let bytes = git(&top, &["show", &format!("{reference}:{path}")], reference)?;
        let target = dir.path().join(relative);
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| failed(format!("cannot write {}: {e}", parent.display())))?;
        }
        fs::write(&target, bytes)
            .map_err(|e| failed(format!("cannot write {}: {e}", target.display())))?;
    }
    Ok(Exported { dir })
}
