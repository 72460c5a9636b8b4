//! Every KDL example in the docs behaves as the docs say (`docs/check-examples.sh`).

use std::process::Command;

#[test]
fn documented_examples_check_as_documented() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new("bash")
        .arg("docs/check-examples.sh")
        .current_dir(root)
        .env("BSIC", env!("CARGO_BIN_EXE_bsic"))
        .output()
        .expect("run docs/check-examples.sh");
    assert!(
        output.status.success(),
        "docs examples failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Every diagnostic code in the source is documented once in docs/diagnostics.md, and the
/// list names no code that does not exist.
#[test]
fn every_diagnostic_code_is_documented_once() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let docs = std::fs::read_to_string(root.join("docs/diagnostics.md")).unwrap();
    let block = docs
        .split("```codes\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let listed: Vec<&str> = block.lines().filter(|l| !l.is_empty()).collect();
    let mut unique = listed.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), listed.len(), "a code is listed twice");

    let mut in_source = std::collections::BTreeSet::new();
    for entry in walk(&root.join("compiler/src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        for piece in text.split("code(\"").skip(1) {
            if let Some(code) = piece.split('"').next().filter(|c| c.starts_with("bsic::")) {
                in_source.insert(code.to_string());
            }
        }
        if entry.ends_with("diag.rs") {
            // `Kind::X { .. } => "code",` and `Lint::X => "code",` arms.
            for line in text.lines() {
                let line = line.trim();
                let is_arm = (line.starts_with("Kind::") || line.starts_with("Lint::"))
                    && line.contains("=> \"");
                if let Some(code) = is_arm.then(|| line.split("=> \"").nth(1)).flatten() {
                    in_source.insert(format!("bsic::{}", code.trim_end_matches("\",")));
                }
            }
        }
    }
    let listed: std::collections::BTreeSet<String> = listed.iter().map(|s| s.to_string()).collect();
    let undocumented: Vec<_> = in_source.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&in_source).collect();
    assert!(
        undocumented.is_empty(),
        "codes missing from docs/diagnostics.md: {undocumented:?}"
    );
    assert!(
        stale.is_empty(),
        "docs/diagnostics.md lists codes that do not exist: {stale:?}"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}
