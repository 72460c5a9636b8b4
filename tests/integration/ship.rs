//! How bsic ships: the places that name its release (the setup action's pin in the example
//! and `bsic init` workflows, the GitLab wheel pin, the pre-commit shim's wheel pin) agree
//! with the crate's version and repository, nothing builds bsic from source in CI, and every
//! `language: system` pre-commit hook has a self-installing `language: python` twin.

use std::fs;

use crate::util::{Project, python, repo};

/// `owner/name` of the crate's GitHub repository.
fn slug() -> &'static str {
    env!("CARGO_PKG_REPOSITORY")
        .strip_prefix("https://github.com/")
        .expect("the repository is on GitHub: releases, the action and the tap live there")
}

fn read(relative: &str) -> String {
    fs::read_to_string(repo(relative)).unwrap()
}

#[test]
fn every_release_pin_is_this_version() {
    let version = env!("CARGO_PKG_VERSION");
    let action = format!("uses: {}@v{version}", slug());
    let github = read("examples/gitops/.github/workflows/bsic.yml");
    assert_eq!(github.matches(&action).count(), 2, "{action}");
    let gitlab = read("examples/gitops/.gitlab-ci.yml");
    assert!(
        gitlab.contains(&format!("BSIC_VERSION: \"{version}\"")),
        "examples/gitops/.gitlab-ci.yml pins another bsic"
    );
    for ci in [&github, &gitlab] {
        assert!(!ci.contains("cargo install"), "CI builds bsic from source");
    }
    let shim = read("pyproject.toml");
    assert!(
        shim.contains(&format!("version = \"{version}\"")),
        "pyproject.toml"
    );
    assert!(
        shim.contains(&format!("\"bsic=={version}\"")),
        "pyproject.toml"
    );
    assert!(read("compiler/pyproject.toml").contains("bindings = \"bin\""));

    let project = Project::empty();
    project.bsic().args(["init", "repo"]).run().assert_code(0);
    let workflow = fs::read_to_string(project.join("repo/.github/workflows/bsic.yml")).unwrap();
    assert_eq!(workflow.matches(&action).count(), 2, "{workflow}");
    assert!(!workflow.contains("cargo install") && !workflow.contains("{{setup-action}}"));
}

#[test]
fn python_hooks_mirror_the_system_hooks_and_the_action_is_composite() {
    let script = r#"
import sys, yaml
hooks = {h["id"]: h for h in yaml.safe_load(open(sys.argv[1]))}
system = [h for h in hooks.values() if h["language"] == "system"]
assert system, hooks
for hook in system:
    twin = hooks[hook["id"] + "-pip"]
    assert twin["language"] == "python", twin
    for key in ("entry", "files", "pass_filenames"):
        assert twin[key] == hook[key], (hook["id"], key)
action = yaml.safe_load(open(sys.argv[2]))
assert action["runs"]["using"] == "composite"
assert set(action["inputs"]) >= {"version", "check", "working-directory"}
steps = " ".join(step.get("run", "") for step in action["runs"]["steps"])
assert "bsic check --format github" in steps and ".sha256" in steps
print("ok")
"#;
    let run = python(
        script,
        &[
            repo(".pre-commit-hooks.yaml").as_os_str(),
            repo("action.yml").as_os_str(),
        ],
    );
    assert_eq!(run.stdout.trim(), "ok", "{}", run.describe());
}
