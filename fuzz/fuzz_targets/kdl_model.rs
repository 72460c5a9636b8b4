//! KDL text → typed model: one policy file, parsed with bsic's limits, projected, validated
//! against the schema and the semantic checks, and resolved, all in memory.
#![no_main]

use bsic::diag::Diagnostics;
use bsic::source::{FileId, ParsedFile, Project, Sources, parse_kdl};
use bsic::validate::{Validators, validate};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

const PROJECT: &str = "organization \"Fuzz\"\nidentifier-prefix \"com.example.fuzz\"\n";

fn validators() -> &'static Validators {
    static VALIDATORS: OnceLock<Validators> = OnceLock::new();
    VALIDATORS.get_or_init(Validators::new)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sources = Sources::default();
    let project_id = sources.add("bsic.kdl".into(), "bsic.kdl".into(), PROJECT.into());
    let policy_id = sources.add("policies/a.kdl".into(), "policies/a.kdl".into(), text.into());
    let project_document = parse_kdl(project_id, PROJECT).expect("the fixed project file parses");
    let mut diagnostics = Diagnostics::default();
    let mut policy_files = Vec::new();
    match parse_kdl(policy_id, text) {
        Ok(document) => policy_files.push(validators().project_policy_file(&ParsedFile {
            file: policy_id,
            document: Arc::new(document),
        })),
        Err(errors) => diagnostics.extend(errors),
    }
    let project = Project {
        root: "/fuzz".into(),
        sources,
        project_file: Some(ParsedFile {
            file: project_id,
            document: Arc::new(project_document),
        }),
        project_file_id: project_id,
        policy_files,
    };
    let (project, model) = validate(project, validators(), &mut diagnostics);
    if let Some(model) = model {
        let _ = bsic::resolve::resolve(&model, &mut diagnostics);
    }
    // Locating and rendering every diagnostic must not panic either.
    for diagnostic in diagnostics.sorted() {
        let _ = project.sources.locate(diagnostic.at);
        let _ = project.sources.snippet(diagnostic.at);
        let _ = diagnostic.help();
    }
    let _ = FileId(0);
});
