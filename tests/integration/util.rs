//! The test harness: a temporary project built from files, the real `bsic` binary run on it,
//! and what came out (exit code, stdout, stderr, files).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The binary under test, built by cargo for this test run.
pub(crate) const BSIC: &str = env!("CARGO_BIN_EXE_bsic");

/// Text that only appears in stderr when a Rust program panics or aborts.
const CRASH_MARKERS: &[&str] = &[
    "panicked at",
    "RUST_BACKTRACE",
    "stack overflow",
    "internal error",
];

/// The repository root (the workspace holding `compiler/`, `policies/`, `schemas/`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("compiler/ has a parent")
        .to_path_buf()
}

/// A path inside the repository.
pub(crate) fn repo(relative: &str) -> PathBuf {
    repo_root().join(relative)
}

/// A project in a fresh temporary directory, deleted when dropped.
pub(crate) struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// An empty directory.
    pub(crate) fn empty() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bsic-e2e-")
            .tempdir()
            .expect("create temp dir");
        Self { dir }
    }

    /// A copy of the repository's own project: `bsic.kdl` and `policies/`.
    pub(crate) fn reference() -> Self {
        let project = Self::empty();
        fs::copy(repo("bsic.kdl"), project.join("bsic.kdl")).unwrap();
        copy_dir(&repo("policies"), &project.join("policies"));
        project
    }

    /// The small valid project the bad-input corpus builds on (`tests/fixtures/base/`):
    /// `bsic.kdl` and `policies/groups.kdl` defining `pilot` and `engineering`.
    pub(crate) fn base() -> Self {
        let project = Self::empty();
        copy_dir(&repo("tests/fixtures/base"), project.path());
        project
    }

    /// Adds (or replaces) a file, creating its directories. Builder form of [`Project::write`].
    pub(crate) fn file(self, relative: &str, contents: impl AsRef<[u8]>) -> Self {
        self.write(relative, contents);
        self
    }

    /// Writes a file relative to the project root, creating its directories.
    pub(crate) fn write(&self, relative: &str, contents: impl AsRef<[u8]>) {
        let path = self.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).unwrap();
        }
        fs::write(&path, contents).unwrap();
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn join(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// `bsic` with the project as working directory.
    pub(crate) fn bsic(&self) -> Bsic {
        Bsic::new(self.path())
    }

    /// `bsic build --out <out>`, asserting success.
    pub(crate) fn build_ok(&self, out: &Path) -> Run {
        let run = self.bsic().arg("build").arg("--out").arg(out).run();
        run.assert_code(0);
        run
    }
}

/// A `bsic` invocation being assembled.
pub(crate) struct Bsic {
    command: Command,
    display: Vec<String>,
}

impl Bsic {
    /// `bsic` run in `cwd`, with colour and terminal-dependent output switched off.
    pub(crate) fn new(cwd: &Path) -> Self {
        let mut command = Command::new(BSIC);
        command
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("RUST_BACKTRACE")
            .env_remove("SOURCE_DATE_EPOCH")
            .stdin(Stdio::null());
        Self {
            command,
            display: vec!["bsic".into()],
        }
    }

    /// Sets an environment variable for the run.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.display
            .push(arg.as_ref().to_string_lossy().into_owned());
        self.command.arg(arg);
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self = self.arg(arg);
        }
        self
    }

    pub(crate) fn run(mut self) -> Run {
        let output = self.command.output().expect("run the bsic binary");
        Run {
            command: self.display.join(" "),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// What one run produced.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) command: String,
    /// `None` when the process was killed by a signal.
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Everything about the run, for failure messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "$ {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }

    pub(crate) fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "unexpected exit code\n{}",
            self.describe()
        );
        self
    }

    /// The crash markers (panic, stack overflow, internal error) found in stderr.
    pub(crate) fn crash_text(&self) -> Option<&'static str> {
        CRASH_MARKERS
            .iter()
            .copied()
            .find(|marker| self.stderr.contains(marker) || self.stdout.contains(marker))
    }

    /// The JSON-lines diagnostics on stdout (`--format json`), or why they do not parse.
    pub(crate) fn diagnostics(&self) -> Result<Vec<Value>, String> {
        self.stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str::<Value>(line)
                    .map_err(|e| format!("stdout line is not JSON ({e}): {line}"))
            })
            .collect()
    }
}

/// Copies a directory tree (regular files and directories only).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in walkdir::WalkDir::new(from).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            fs::create_dir_all(&target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir` as (`/`-separated relative path → bytes). Symlinks and
/// directories are listed too (as markers), so a stray entry of any kind shows up in a diff.
pub(crate) fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut tree = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
        let entry = entry.unwrap();
        let relative = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let kind = entry.file_type();
        if kind.is_file() {
            tree.insert(relative, fs::read(entry.path()).unwrap());
        } else if kind.is_dir() {
            tree.insert(format!("{relative}/"), Vec::new());
        } else {
            tree.insert(format!("{relative}@"), Vec::new());
        }
    }
    tree
}

/// Only the regular files of [`read_tree`].
pub(crate) fn read_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    read_tree(dir)
        .into_iter()
        .filter(|(path, _)| !path.ends_with('/') && !path.ends_with('@'))
        .collect()
}

/// The names directly inside `dir`, sorted.
pub(crate) fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts two trees are identical, naming the first paths that differ.
pub(crate) fn assert_same_tree(
    expected: &BTreeMap<String, Vec<u8>>,
    actual: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    if expected == actual {
        return;
    }
    let mut problems = Vec::new();
    for (path, bytes) in expected {
        match actual.get(path) {
            None => problems.push(format!("missing: {path}")),
            Some(other) if other != bytes => problems.push(format!("changed: {path}")),
            Some(_) => {}
        }
    }
    for path in actual.keys() {
        if !expected.contains_key(path) {
            problems.push(format!("extra: {path}"));
        }
    }
    panic!("{what}: trees differ\n{}", problems.join("\n"));
}

/// Runs `python3 -c SCRIPT ARGS…`; fails the test with an install hint when python3 or a
/// module it imports is missing.
pub(crate) fn python(script: &str, args: &[&OsStr]) -> Run {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 is needed for these tests ({e}); install python3 and `pip install jsonschema`")
        });
    let run = Run {
        command: "python3 -c <script>".into(),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("ModuleNotFoundError"),
        "a Python module is missing; run `python3 -m pip install jsonschema`\n{}",
        run.describe()
    );
    run
}

/// Runs the `openssl` command line in `dir` (test identities, signatures to check); fails the
/// test with its stderr when it fails.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is needed by this test (.ci/run installs it)");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The first `name` on `PATH` (an external tool a test drives), if installed.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// A P-256 identity valid for 30 days issued by the identity `<ca>.key`/`<ca>.pem` in `dir`
/// (made with [`self_signed_p256`]), as `<name>.key` and `<name>.pem`.
pub(crate) fn ca_signed_p256(dir: &Path, ca: &str, name: &str, subject: &str) {
    let (key, csr, pem) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            subject,
        ],
    );
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca_pem,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &pem,
            "-days",
            "30",
        ],
    );
}

/// A self-signed P-256 identity valid for 30 days, as `<name>.key` and `<name>.pem` in `dir`.
pub(crate) fn self_signed_p256(dir: &Path, name: &str, subject: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "30",
            "-subj",
            subject,
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
        ],
    );
}
