//! `bsic init [DIR]`: scaffolds a policy repository that checks and builds as it is. Never
//! overwrites: if any file it would write exists, it writes nothing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::Ui;

/// (path relative to the new repository, contents with `{{organization}}`/`{{prefix}}`, and
/// `{{setup-action}}`: see [`setup_action`]).
const FILES: &[(&str, &str)] = &[
    ("bsic.kdl", include_str!("../../templates/init/bsic.kdl")),
    (
        "policies/groups.kdl",
        include_str!("../../templates/init/groups.kdl"),
    ),
    (
        "policies/updates.kdl",
        include_str!("../../templates/init/updates.kdl"),
    ),
    (".gitignore", include_str!("../../templates/init/gitignore")),
    (
        ".pre-commit-config.yaml",
        include_str!("../../templates/init/pre-commit-config.yaml"),
    ),
    (
        ".github/workflows/bsic.yml",
        include_str!("../../templates/init/workflow.yml"),
    ),
];

/// bsic's setup action pinned to this bsic's release (`bsic-dev/bsic@v0.1.0`): the GitHub
/// repository of the crate's `repository` URL at the tag of its version, so CI runs the bsic
/// that made the project until someone raises the pin.
fn setup_action() -> String {
    let repository = env!("CARGO_PKG_REPOSITORY");
    let slug = repository
        .strip_prefix("https://github.com/")
        .unwrap_or(repository);
    format!("{slug}@v{}", env!("CARGO_PKG_VERSION"))
}

/// A KDL string's contents with `\` and `"` escaped.
fn kdl_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

pub(super) fn run(dir: Option<&Path>, organization: &str, prefix: &str, ui: Ui) -> ExitCode {
    let dir = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let existing: Vec<String> = FILES
        .iter()
        .filter(|(path, _)| dir.join(path).exists())
        .map(|(path, _)| dir.join(path).display().to_string())
        .collect();
    if !existing.is_empty() {
        say!(
            "error: refusing to overwrite {}; nothing written\nhelp: run `bsic init` in a new or empty directory",
            existing.join(", ")
        );
        return ExitCode::from(2);
    }
    for (path, template) in FILES {
        let text = template
            .replace("{{organization}}", &kdl_escape(organization))
            .replace("{{prefix}}", &kdl_escape(prefix))
            .replace("{{setup-action}}", &setup_action());
        let target = dir.join(path);
        let written =
            crate::output::write_file(&target, text.as_bytes(), crate::output::Existing::Refuse);
        if let Err(e) = written {
            say!("error: cannot write `{}`: {e}", target.display());
            return ExitCode::from(2);
        }
        if ui.verbose {
            say!("created {}", target.display());
        }
    }
    if !ui.quiet {
        say!(
            "created a bsic project in {}: run `bsic check`, then `bsic build`",
            dir.display()
        );
    }
    ExitCode::SUCCESS
}
