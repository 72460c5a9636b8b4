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
