//! Fault injection (issue 7): panics, unwritable output, a full disk, a build killed half
//! way, concurrent builds into one `dist/`, and secrets that must never leak into any output.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::util::{self, BSIC, Project, openssl};

/// A generated fleet of `policies` policies in a fresh project (see `cargo xtask gen-fleet`).
fn fleet(policies: usize, seed: u64) -> Project {
    let project = Project::empty();
    for file in xtask::fleet::generate(policies, seed) {
        project.write(&file.path, file.text);
    }
    project
}

/// `.bsic-*` entries in `dir`: temporaries a build left behind.
fn debris(dir: &Path) -> Vec<String> {
    util::list_dir(dir)
        .into_iter()
        .filter(|name| name.starts_with(".bsic-"))
        .collect()
}

#[test]
fn a_panic_is_one_line_and_exit_code_3() {
    let project = Project::reference();
    let output = Command::new(BSIC)
        .arg("check")
        .current_dir(project.path())
        .env("BSIC_TEST_PANIC", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("internal error, please report: "),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked at") && !stderr.contains("RUST_BACKTRACE"));
}

#[test]
fn output_under_a_file_fails_cleanly() {
    let project = Project::reference();
    project.write("blocker", "a file where a directory is expected");
    let run = project
        .bsic()
        .args(["build", "--out", "blocker/dist"])
        .run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("bsic::write-failed"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("blocker"), "{}", run.describe());
    assert_eq!(run.crash_text(), None, "{}", run.describe());
}

/// A full disk, simulated with a 1 KiB file-size limit (`EFBIG` instead of `ENOSPC`, the
/// same path through bsic): the build fails, the previous output stays, no temporaries.
#[test]
fn a_full_disk_leaves_the_previous_output() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let before = util::read_tree(&out);
    let output = Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 1; trap '' XFSZ; exec \"$0\" build --out dist")
        .arg(BSIC)
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bsic::write-failed"), "{stderr}");
    util::assert_same_tree(&before, &util::read_tree(&out), "dist after a full disk");
    assert_eq!(debris(project.path()), Vec::<String>::new());
}

/// SIGKILL at several points of a large build: `dist/` is always the complete old tree or
/// the complete new one, and the next build removes what the killed one left behind.
#[test]
fn a_killed_build_never_leaves_a_partial_dist() {
    let project = fleet(600, 1);
    let out = project.join("dist");
    let started = Instant::now();
    project.build_ok(&out);
    let full_build = started.elapsed();
    let old = util::read_tree(&out);

    // New input, so the new tree differs from the old one.
    let next = fleet(600, 2);
    fs::remove_dir_all(project.join("policies")).unwrap();
    util::copy_dir(&next.join("policies"), &project.join("policies"));
    let new_dir = Project::empty();
    project.build_ok(&new_dir.join("dist"));
    let new = util::read_tree(&new_dir.join("dist"));
    assert_ne!(old, new);

    for percent in [20_u32, 50, 80, 95] {
        let mut child = Command::new(BSIC)
            .args(["build", "--out"])
            .arg(&out)
            .current_dir(project.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full_build * percent / 100);
        let _ = child.kill();
        let _ = child.wait();
        let now = util::read_tree(&out);
        assert!(
            now == old || now == new,
            "dist after a kill at {percent}% is neither the old nor the new tree"
        );
    }
    project.build_ok(&out);
    util::assert_same_tree(&new, &util::read_tree(&out), "dist after a clean build");
    assert_eq!(debris(project.path()), Vec::<String>::new());
}

/// Two builds of different projects into one directory at the same time: each either
/// succeeds or fails cleanly, and `dist/` ends up exactly one project's complete output.
#[test]
fn concurrent_builds_into_one_dist_never_mix() {
    let a = fleet(300, 1);
    let b = fleet(300, 2);
    let shared = Project::empty();
    let out = shared.join("dist");
    let (tree_a, tree_b) = {
        let (da, db) = (Project::empty(), Project::empty());
        a.build_ok(&da.join("dist"));
        b.build_ok(&db.join("dist"));
        (
            util::read_tree(&da.join("dist")),
            util::read_tree(&db.join("dist")),
        )
    };
    for _ in 0..3 {
        let spawn = |p: &Project| {
            Command::new(BSIC)
                .args(["build", "--out"])
                .arg(&out)
                .current_dir(p.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (ca, cb) = (spawn(&a), spawn(&b));
        for child in [ca, cb] {
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                output.status.code() == Some(0) || output.status.code() == Some(2),
                "{stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
        let now = util::read_tree(&out);
        assert!(
            now == tree_a || now == tree_b,
            "dist is a mix of two builds"
        );
        assert_eq!(debris(shared.path()), Vec::<String>::new());
    }
}

/// Every output of a run, as one string: stdout, stderr, and the bytes of every file written.
fn everything(run: &std::process::Output, dirs: &[&Path]) -> String {
    let mut all = String::from_utf8_lossy(&run.stdout).into_owned();
    all.push_str(&String::from_utf8_lossy(&run.stderr));
    for dir in dirs {
        if dir.exists() {
            for bytes in util::read_files(dir).values() {
                all.push_str(&String::from_utf8_lossy(bytes));
            }
        }
    }
    all
}

/// Private keys and passphrases never appear in any output, whether the build succeeds,
/// fails on a wrong password, a mismatched key or a corrupted key, in human or JSON format.
#[test]
fn secrets_never_reach_any_output() {
    let project = Project::reference();
    let dir = project.path();
    for (name, subject) in [("signer", "/CN=bsic secrets"), ("other", "/CN=other")] {
        util::self_signed_p256(dir, name, subject);
    }
    let passphrase = "correct horse battery staple 7f3a";
    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "signer.key",
            "-in",
            "signer.pem",
            "-passout",
            &format!("pass:{passphrase}"),
            "-out",
            "id.p12",
        ],
    );
    fs::write(dir.join("pass.txt"), format!("{passphrase}\n")).unwrap();
    fs::write(dir.join("wrong.txt"), "wrong horse battery staple 9c1d\n").unwrap();
    let key_pem = fs::read_to_string(dir.join("signer.key")).unwrap();
    // A corrupted copy: the same base64 lines with one character changed in the middle.
    let mut corrupted = key_pem.clone().into_bytes();
    let middle = corrupted.len() / 2;
    corrupted[middle] = if corrupted[middle] == b'A' {
        b'B'
    } else {
        b'A'
    };
    fs::write(dir.join("corrupted.key"), corrupted).unwrap();
    let key_lines: Vec<&str> = key_pem
        .lines()
        .filter(|line| !line.starts_with("-----") && line.len() >= 16)
        .collect();
    assert!(!key_lines.is_empty());

    let cases: &[(&str, &[&str], bool)] = &[
        (
            "pem",
            &["--sign-cert", "signer.pem", "--sign-key", "signer.key"],
            true,
        ),
        (
            "mismatch",
            &["--sign-cert", "other.pem", "--sign-key", "signer.key"],
            false,
        ),
        (
            "corrupted",
            &["--sign-cert", "signer.pem", "--sign-key", "corrupted.key"],
            false,
        ),
        (
            "p12-env",
            &["--sign-p12", "id.p12", "--p12-password-env", "BSIC_SECRET"],
            true,
        ),
        (
            "p12-file",
            &["--sign-p12", "id.p12", "--p12-password-file", "pass.txt"],
            true,
        ),
        (
            "p12-wrong",
            &["--sign-p12", "id.p12", "--p12-password-file", "wrong.txt"],
            false,
        ),
    ];
    for (name, args, succeeds) in cases {
        for format in ["human", "json"] {
            let out = dir.join(format!("out-{name}-{format}"));
            let run = Command::new(BSIC)
                .arg("build")
                .arg("--out")
                .arg(&out)
                .args(["--format", format])
                .args(*args)
                .current_dir(dir)
                .env("BSIC_SECRET", passphrase)
                .env("RUST_BACKTRACE", "1")
                .output()
                .unwrap();
            assert_eq!(
                run.status.success(),
                *succeeds,
                "{name} {format}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
            let all = everything(&run, &[&out]);
            assert!(
                !all.contains(passphrase),
                "{name} {format}: passphrase leaked"
            );
            assert!(
                !all.contains("wrong horse"),
                "{name} {format}: password leaked"
            );
            assert!(!all.contains("PRIVATE KEY"), "{name} {format}: key leaked");
            for line in &key_lines {
                assert!(!all.contains(line), "{name} {format}: key material leaked");
            }
        }
    }
}

/// `build` streams (each group emitted, checked, laid out for each MDM target and written on
/// one of the cores, never the whole output in memory); what it writes is byte for byte what
/// `pipeline::render_targets` computes in memory, and the same on every run.
#[test]
fn streamed_build_writes_exactly_the_rendered_tree() {
    use bsic::emit::adapters::Target;
    let project = fleet(300, 7);
    let checked = bsic::pipeline::check(project.path()).expect("the fleet loads");
    assert!(!checked.has_errors());
    let every = [
        Target::Fleet,
        Target::Kmfddm,
        Target::Jamf,
        Target::WorkspaceOne,
    ];
    for targets in [&[][..], &every[..]] {
        let out = project.join("dist");
        let mut args = vec!["build", "--out", "dist"];
        for target in targets {
            args.extend(["-t", target.name()]);
        }
        project.bsic().args(&args).run().assert_code(0);
        let written = util::read_files(&out);
        let rendered: std::collections::BTreeMap<String, Vec<u8>> =
            bsic::pipeline::render_targets(&checked, None, targets)
                .expect("the fleet renders")
                .into_iter()
                .collect();
        assert_eq!(
            written.keys().collect::<Vec<_>>(),
            rendered.keys().collect::<Vec<_>>()
        );
        for (path, bytes) in &rendered {
            assert!(
                written[path] == *bytes,
                "{path} differs from the rendered bytes"
            );
        }
        project.bsic().args(&args).run().assert_code(0);
        assert!(util::read_files(&out) == written, "a second build differs");
    }
}

/// A build that takes more than a moment shows a progress bar when stderr is a terminal (run
/// under `script`, which gives it a pseudo-terminal), and nothing of it when stderr is a pipe,
/// as in CI logs, or with `--quiet`.
#[test]
fn progress_bar_only_on_a_terminal() {
    let project = fleet(1500, 3);
    let out = project.join("dist");
    let piped = project.bsic().args(["build", "--out"]).arg(&out).run();
    piped.assert_code(0);
    assert!(
        !piped.stderr.contains("groups written"),
        "{}",
        piped.describe()
    );

    let Some(script) = util::which("script") else {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    };
    let command = |extra: &str| {
        format!(
            "{} build {} --out {} {extra}",
            BSIC,
            project.path().display(),
            out.display()
        )
    };
    let tty = |extra: &str| {
        let output = Command::new(&script)
            .args(["-qec", &command(extra), "/dev/null"])
            .env("TERM", "xterm")
            .stdin(Stdio::null())
            .output()
            .expect("script runs");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let shown = tty("");
    assert!(
        shown.contains("groups written"),
        "no bar on a terminal:\n{shown}"
    );
    assert!(shown.contains("wrote "), "{shown}");
    let quiet = tty("--quiet");
    assert!(!quiet.contains("groups written"), "{quiet}");
}

/// SIGTERM or SIGINT in the middle of a build: the process dies of the signal and leaves no
/// `.bsic-*` directory beside the output.
#[cfg(unix)]
#[test]
fn an_interrupted_build_leaves_no_staging_directory() {
    use std::time::Duration;

    let project = fleet(1_000, 7);
    let out_parent = tempfile::tempdir().unwrap();
    let out = out_parent.path().join("dist");
    for signal in ["TERM", "INT"] {
        let mut child = Command::new(BSIC)
            .current_dir(project.path())
            .args(["build", "--quiet", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Interrupt once the staging directory exists.
        let start = Instant::now();
        while debris(out_parent.path()).is_empty() && start.elapsed() < Duration::from_secs(120) {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let running = child.try_wait().unwrap().is_none();
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert!(running, "the build ended before SIG{signal} could be sent");
        assert!(!status.success(), "the build ignored SIG{signal}");
        assert_eq!(
            debris(out_parent.path()),
            Vec::<String>::new(),
            "after SIG{signal}"
        );
    }
}
