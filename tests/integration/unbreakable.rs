//! What must never happen however bsic is pointed (issue 24): a build deleting files it did
//! not write, policy globs reading files outside the project, a temporary directory left
//! behind by an interrupted build.

use std::fs;
use std::path::Path;

use crate::util::Project;

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// `bsic build --out <out>` in `project`, expected to be refused with `code` and exit 2,
/// naming `culprit` in its message.
fn assert_refused(project: &Project, out: &Path, code: &str, culprit: &str) {
    let run = project.bsic().arg("build").arg("--out").arg(out).run();
    run.assert_code(2);
    assert!(run.stderr.contains(code), "{}", run.describe());
    assert!(run.stderr.contains(culprit), "{}", run.describe());
    assert_eq!(run.crash_text(), None, "{}", run.describe());
}

#[test]
fn build_never_replaces_a_directory_with_a_foreign_manifest() {
    let outer = tempfile::tempdir().unwrap();
    let web = outer.path().join("web");
    fs::create_dir_all(&web).unwrap();
    fs::write(web.join("manifest.json"), r#"{"name":"my web app"}"#).unwrap();
    fs::write(web.join("index.html"), "<html>").unwrap();
    let project = Project::reference();
    assert_refused(&project, &web, "bsic::not-an-output-dir", "manifest.json");
    assert_eq!(files_under(&web), vec!["index.html", "manifest.json"]);
}

#[test]
fn build_never_replaces_an_output_holding_a_file_its_manifest_does_not_list() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    fs::write(out.join("important.txt"), "keep").unwrap();
    assert_refused(&project, &out, "bsic::not-an-output-dir", "important.txt");
    assert_eq!(
        fs::read_to_string(out.join("important.txt")).unwrap(),
        "keep"
    );
    // A previous output, untouched by hand, is replaced as before.
    fs::remove_file(out.join("important.txt")).unwrap();
    project.build_ok(&out);
}

#[test]
fn build_never_replaces_the_project_or_its_ancestors() {
    let project = Project::reference();
    // Even with a bsic manifest planted in it, the project itself is never an output.
    let out = project.join("dist");
    project.build_ok(&out);
    fs::copy(out.join("manifest.json"), project.join("manifest.json")).unwrap();
    for target in [
        project.path().to_path_buf(),
        project.join(".."),
        project.join("policies/.."),
    ] {
        assert_refused(&project, &target, "bsic::out-holds-project", "bsic.kdl");
    }
    assert!(project.join("bsic.kdl").is_file());
    assert!(project.join("policies").is_dir());
}

#[cfg(unix)]
#[test]
fn a_symlinked_out_is_followed_and_the_link_kept() {
    let project = Project::reference();
    let real = tempfile::tempdir().unwrap();
    let link = project.join("dist");
    std::os::unix::fs::symlink(real.path(), &link).unwrap();
    project.build_ok(&link);
    project.build_ok(&link);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(real.path().join("manifest.json").is_file());
    // A link to the project is refused like the project itself.
    let sneaky = project.join("out");
    std::os::unix::fs::symlink(project.path(), &sneaky).unwrap();
    assert_refused(&project, &sneaky, "bsic::out-holds-project", "bsic.kdl");
}

#[test]
fn an_empty_build_does_not_replace_a_full_output_without_allow_empty() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let before = files_under(&out);
    for entry in fs::read_dir(project.join("policies")).unwrap().flatten() {
        fs::remove_file(entry.path()).unwrap();
    }
    assert_refused(&project, &out, "bsic::empty-build", "--allow-empty");
    assert_eq!(files_under(&out), before);
    let run = project
        .bsic()
        .args(["build", "--allow-empty", "--out"])
        .arg(&out)
        .run();
    run.assert_code(0);
    assert_eq!(files_under(&out), vec!["manifest.json"]);
}

/// `bsic check --format json` in `project`: exit 1, the codes reported, and everything printed.
fn check_codes(project: &Project) -> (Vec<String>, String) {
    let run = project.bsic().args(["check", "--format", "json"]).run();
    run.assert_code(1);
    assert_eq!(run.crash_text(), None, "{}", run.describe());
    let codes = run
        .diagnostics()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect();
    (codes, format!("{}{}", run.stdout, run.stderr))
}

#[cfg(unix)]
#[test]
fn a_symlinked_directory_out_of_the_project_is_refused_and_never_echoed() {
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("passwd"), "root:x:0:0:SECRET-LINE\n").unwrap();
    fs::write(outside.path().join("p.kdl"), "root:x:0:0:SECRET-LINE\n").unwrap();
    // A fixed directory of the glob that is a link, and a linked directory under policies/.
    let project = Project::base().file(
        "bsic.kdl",
        "organization \"S\"\nidentifier-prefix \"com.example.s\"\n\
         policies \"policies/**/*.kdl\" \"etcdir/passwd\"\n",
    );
    std::os::unix::fs::symlink(outside.path(), project.join("etcdir")).unwrap();
    std::os::unix::fs::symlink(outside.path(), project.join("policies/linked")).unwrap();
    let (codes, printed) = check_codes(&project);
    assert_eq!(
        codes,
        vec!["bsic::symlink-escapes", "bsic::symlink-escapes"],
        "{printed}"
    );
    assert!(!printed.contains("SECRET-LINE"), "{printed}");

    // `policies/` itself a link out of the project.
    let project = Project::base();
    fs::rename(project.join("policies"), outside.path().join("policies")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("policies"), project.join("policies")).unwrap();
    let (codes, printed) = check_codes(&project);
    assert_eq!(codes, vec!["bsic::symlink-escapes"], "{printed}");
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_has_its_own_message_and_a_file_linked_inside_is_read_once() {
    let project = Project::base().file("policies/bad.kdl", "policy \"p\" { nonsense 1 }\n");
    std::os::unix::fs::symlink("..", project.join("policies/up")).unwrap();
    std::os::unix::fs::symlink("bad.kdl", project.join("policies/again.kdl")).unwrap();
    let (codes, printed) = check_codes(&project);
    let loops = codes.iter().filter(|c| *c == "bsic::symlink-loop").count();
    let unknown = codes.iter().filter(|c| *c == "bsic::unknown-node").count();
    assert_eq!((loops, unknown), (1, 1), "{codes:?}\n{printed}");
}

#[test]
fn a_single_star_stays_within_one_directory() {
    let project = Project::base()
        .file(
            "bsic.kdl",
            "organization \"G\"\nidentifier-prefix \"com.example.g\"\npolicies \"policies/*.kdl\"\n",
        )
        .file("policies/sub/deep.kdl", "policy \"deep\" { nonsense 1 }\n");
    project.bsic().arg("check").run().assert_code(0);
    // `**` still reaches it.
    project.write(
        "bsic.kdl",
        "organization \"G\"\nidentifier-prefix \"com.example.g\"\npolicies \"policies/**/*.kdl\"\n",
    );
    project.bsic().arg("check").run().assert_code(1);
}

/// An input far larger than its kind (here a 2 MB "certificate"; credentials are held to
/// 1 MiB by `source::read`) is refused before any output is written, naming the file and
/// the limit, not read into memory whole.
#[test]
fn an_oversized_signing_file_is_refused_and_nothing_is_written() {
    let project = Project::reference();
    let big = project.join("big.pem");
    fs::write(&big, vec![b'x'; 2_000_000]).unwrap();
    let out = project.join("dist");
    let run = project
        .bsic()
        .args(["build", "--out"])
        .arg(&out)
        .arg("--sign-cert")
        .arg(&big)
        .arg("--sign-key")
        .arg(&big)
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("big.pem"), "{}", run.describe());
    assert!(
        run.stderr.contains("1048576-byte limit"),
        "{}",
        run.describe()
    );
    assert_eq!(run.crash_text(), None, "{}", run.describe());
    assert!(!out.exists(), "a refused build wrote {}", out.display());
}
