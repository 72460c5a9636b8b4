//! `bsic build`: check, then (clean) sign and write the output tree, then say what was
//! written and what each MDM target's next step is. The writing is `pipeline`'s job.

use std::path::Path;
use std::process::ExitCode;

use super::{Format, POLICY_ERRORS, SignArgs, TargetArg, Ui, load, progress, report, signing};
use crate::pipeline::{self, Error};

/// `bsic build`'s options past the project directory.
pub(super) struct BuildArgs<'a> {
    pub(super) out: Option<&'a Path>,
    pub(super) format: Format,
    pub(super) targets: &'a [TargetArg],
    pub(super) allow_empty: bool,
    pub(super) sign: &'a SignArgs,
}

/// Builds the project in `dir` (or the one above the working directory).
pub(super) fn run(dir: Option<&Path>, args: &BuildArgs<'_>, ui: Ui) -> Result<ExitCode, Error> {
    let checked = load(dir)?;
    report(&checked, args.format, ui);
    if checked.has_errors() {
        say!("nothing written: fix the errors above first");
        return Ok(ExitCode::from(POLICY_ERRORS));
    }
    let config = checked
        .model
        .as_ref()
        .and_then(|m| m.project.signing.as_ref());
    let signing = signing::signer(args.sign, config, &checked.project.root)?;
    let out = args
        .out
        .map_or_else(|| checked.project.root.join("dist"), Path::to_path_buf);
    let targets: Vec<crate::emit::adapters::Target> =
        args.targets.iter().filter_map(|t| t.adapter()).collect();
    let targets = crate::emit::adapters::distinct(&targets);
    let bar = progress::Bar::new(ui.quiet);
    let options = pipeline::BuildOptions {
        signing: signing.as_ref(),
        targets: &targets,
        allow_empty: args.allow_empty,
    };
    let count = pipeline::build_targets(checked, &out, &options, &bar)?;
    if ui.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    match &signing {
        Some(s) => say!(
            "wrote {count} files to {}; profiles signed by {}",
            out.display(),
            s.signer.certificate_summary().subject
        ),
        None => say!(
            "wrote {count} files to {}; profiles are unsigned \
             (pass --sign-cert/--sign-key or --sign-p12 to sign)",
            out.display()
        ),
    }
    for target in targets {
        let out = out.display().to_string();
        say!("next for {}: {}", target.name(), target.next_step(&out));
    }
    Ok(ExitCode::SUCCESS)
}
