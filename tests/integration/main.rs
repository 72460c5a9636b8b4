//! End-to-end tests that drive the real `bsic` binary.
#[test]
fn binary_runs() {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_bsic"))
        .arg("--help")
        .status()
        .unwrap();
    assert!(status.success());
}
