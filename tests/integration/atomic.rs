//! `build` replaces its output directory as a whole or not at all.

use crate::util::{self, Project};

/// A failed build leaves the previous output byte for byte, and nothing beside it.
#[test]
fn failed_build_leaves_previous_output_untouched() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let before = util::read_tree(&out);
    let beside = util::list_dir(project.path());

    // An unknown group: a policy error, so the build must fail.
    let rings = std::fs::read_to_string(project.join("policies/rings.kdl")).unwrap();
    let broken = rings.replacen("applies-to \"pilot\"", "applies-to \"piolt\"", 1);
    assert_ne!(
        rings, broken,
        "the reference policies changed; update this test"
    );
    project.write("policies/rings.kdl", broken);

    let run = project.bsic().arg("build").arg("--out").arg(&out).run();
    run.assert_code(1);
    assert!(
        run.stderr.contains("bsic::unknown-group"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("nothing written"), "{}", run.describe());
    util::assert_same_tree(
        &before,
        &util::read_tree(&out),
        "output after a failed build",
    );
    assert_eq!(
        util::list_dir(project.path()),
        beside,
        "a failed build left something beside the output"
    );
}

/// A successful build replaces the old tree entirely: files it no longer emits are gone.
#[test]
fn successful_build_replaces_output_fully() {
    let project = Project::reference();
    let out = project.join("dist");
    project.build_ok(&out);
    let full = util::read_files(&out);
    assert!(full.keys().any(|p| p.starts_with("ddm/staff/")));

    // A group that is about to disappear. (Files added by hand are not bsic's: a build
    // refuses to replace them, see `unbreakable.rs`.)
    let rings = std::fs::read_to_string(project.join("policies/rings.kdl")).unwrap();
    let start = rings
        .find("policy \"staff-baseline\"")
        .expect("the reference has staff-baseline");
    project.write("policies/rings.kdl", &rings[..start]);

    project.build_ok(&out);
    let after = util::read_files(&out);
    let stale: Vec<&String> = after.keys().filter(|p| p.contains("/staff/")).collect();
    assert!(stale.is_empty(), "stale files survived: {stale:?}");
    for (path, bytes) in &after {
        if path != "manifest.json" {
            assert_eq!(Some(bytes), full.get(path), "{path} changed");
        }
    }
    assert_eq!(
        util::list_dir(project.path()),
        ["bsic.kdl", "dist", "policies"],
        "temporary directories left beside the output"
    );

    // An identical fresh build agrees with the in-place one.
    let fresh = project.join("fresh");
    project.build_ok(&fresh);
    util::assert_same_tree(
        &util::read_tree(&fresh),
        &util::read_tree(&out),
        "fresh build",
    );
}

/// `--out` at a directory bsic did not write (no manifest.json) is refused, untouched.
#[test]
fn refuses_to_replace_a_foreign_directory() {
    let project = Project::reference();
    let out = project.join("precious");
    project.write("precious/notes.txt", "do not delete");
    project.write("precious/sub/data.json", "{\"keep\": true}");
    let before = util::read_tree(&out);
    let beside = util::list_dir(project.path());

    let run = project.bsic().arg("build").arg("--out").arg(&out).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("not-an-output-dir"),
        "{}",
        run.describe()
    );
    assert!(run.stderr.contains("manifest.json"), "{}", run.describe());
    util::assert_same_tree(&before, &util::read_tree(&out), "refused directory");
    assert_eq!(util::list_dir(project.path()), beside);
}

/// `--out` at a regular file is refused too, and the file stays.
#[test]
fn refuses_to_replace_a_file() {
    let project = Project::reference();
    project.write("dist", "not a directory");
    let run = project
        .bsic()
        .arg("build")
        .arg("--out")
        .arg(project.join("dist"))
        .run();
    run.assert_code(2);
    assert_eq!(
        std::fs::read_to_string(project.join("dist")).unwrap(),
        "not a directory"
    );
    assert_eq!(
        util::list_dir(project.path()),
        ["bsic.kdl", "dist", "policies"]
    );
}

/// An empty directory is a fine place to build into.
#[test]
fn builds_into_an_empty_directory() {
    let project = Project::reference();
    std::fs::create_dir(project.join("dist")).unwrap();
    project.build_ok(&project.join("dist"));
    assert!(project.join("dist/manifest.json").is_file());
}
