//! The whole pipeline on a real project directory: discovery, loading with limits, parsing,
//! validation, resolution, and, when the input is clean, emission with Apple's schema checks
//! and the manifest (nothing is written). The input is split at the first NUL byte: before it
//! the project file `bsic.kdl` when it is not empty, after it a policy file.
#![no_main]

use libfuzzer_sys::fuzz_target;

const PROJECT: &[u8] = b"organization \"Fuzz\"\nidentifier-prefix \"com.example.fuzz\"\n";

fuzz_target!(|data: &[u8]| {
    let (project, policy) = match data.iter().position(|&b| b == 0) {
        Some(split) if split > 0 => (&data[..split], &data[split + 1..]),
        Some(_) => (PROJECT, &data[1..]),
        None => (PROJECT, data),
    };
    let Ok(dir) = tempfile::tempdir() else { return };
    let root = dir.path();
    if std::fs::create_dir_all(root.join("policies")).is_err()
        || std::fs::write(root.join("bsic.kdl"), project).is_err()
        || std::fs::write(root.join("policies/a.kdl"), policy).is_err()
    {
        return;
    }
    let Ok(checked) = bsic::pipeline::check(root) else {
        return;
    };
    for diagnostic in checked.diagnostics.sorted() {
        let _ = checked.project.sources.locate(diagnostic.at);
    }
    if !checked.has_errors() {
        let _ = bsic::pipeline::render(&checked, None);
    }
});
