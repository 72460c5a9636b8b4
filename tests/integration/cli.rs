//! The command line itself: exit codes for usage errors, and the help texts.

use crate::util::{Bsic, Project};

#[test]
fn unknown_flag_is_a_usage_error() {
    let project = Project::reference();
    let run = project.bsic().args(["check", "--frobnicate"]).run();
    run.assert_code(2);
    assert!(run.stderr.contains("--frobnicate"), "{}", run.describe());
    assert_eq!(run.stdout, "");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let run = Project::reference().bsic().arg("frobnicate").run();
    run.assert_code(2);
    assert!(run.stderr.contains("frobnicate"), "{}", run.describe());
}

#[test]
fn directory_without_project_file_is_a_usage_error() {
    let dir = Project::empty();
    assert!(
        !dir.path().ancestors().any(|a| a.join("bsic.kdl").is_file()),
        "a bsic.kdl above the temp directory would be found instead"
    );
    for args in [
        &["check"][..],
        &["check", "--format", "json"][..],
        &["build"][..],
    ] {
        let run = dir.bsic().args(args).run();
        run.assert_code(2);
        assert!(run.stderr.contains("bsic.kdl"), "{}", run.describe());
        assert!(!dir.join("dist").exists());
    }
    // The same with the directory given as an argument, from elsewhere.
    let run = Bsic::new(&std::env::temp_dir())
        .arg("check")
        .arg(dir.path())
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("bsic.kdl"), "{}", run.describe());
}

#[test]
fn project_is_found_from_a_subdirectory() {
    let project = Project::reference();
    let run = Bsic::new(&project.join("policies")).arg("check").run();
    run.assert_code(0);
}

#[test]
fn version_prints_the_version() {
    let run = Project::empty().bsic().arg("--version").run();
    run.assert_code(0);
    assert_eq!(
        run.stdout.trim(),
        format!("bsic {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_texts() {
    let commands: [&[&str]; 4] = [
        &["--help"],
        &["check", "--help"],
        &["build", "--help"],
        &["schema", "--help"],
    ];
    for args in commands {
        let run = Project::empty().bsic().args(args).run();
        run.assert_code(0);
        let name = if args.len() == 1 {
            "help".to_string()
        } else {
            format!("help-{}", args[0])
        };
        insta::assert_snapshot!(name, run.stdout);
    }
}
