//! Integrity and hygiene of what bsic publishes and signs with: `bsic verify` accepts only the
//! tree the manifest describes, with every declaration's `ServerToken` still the one its
//! content gives; signing warns about secrets others can read, chain certificates that do not
//! chain to the signer, and waived certificate dates.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::{Project, Run, openssl, self_signed_p256};

fn verify(project: &Project) -> Run {
    project
        .bsic()
        .args(["verify", "--allow-unsigned", "dist"])
        .run()
}

#[test]
fn verify_fails_files_the_manifest_does_not_list() {
    let project = Project::reference();
    project.build_ok(&project.join("dist"));
    verify(&project).assert_code(0);
    project.write("dist/ddm/pilot/extra.json", "{}");
    project.write("dist/notes/readme.txt", "hello");
    let run = verify(&project);
    run.assert_code(1);
    for extra in ["dist/ddm/pilot/extra.json", "dist/notes/readme.txt"] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(extra))
            .unwrap_or_else(|| panic!("{extra} not reported\n{}", run.describe()));
        assert!(
            line.starts_with("FAIL") && line.contains("not listed in manifest.json"),
            "{line}"
        );
    }
}

/// A manifest that is there but cannot be read (here a directory in its place) fails the
/// run: verify used to treat it as absent and pass the profiles alone.
#[test]
fn verify_fails_a_manifest_it_cannot_read() {
    let project = Project::reference();
    project.build_ok(&project.join("dist"));
    let manifest = project.join("dist/manifest.json");
    fs::remove_file(&manifest).unwrap();
    fs::create_dir(&manifest).unwrap();
    let run = verify(&project);
    run.assert_code(1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("manifest.json"))
        .unwrap_or_else(|| panic!("manifest not reported\n{}", run.describe()));
    assert!(line.starts_with("FAIL"), "{line}");
}

/// A declaration edited by hand, with its manifest hash updated to match: the bytes check
/// passes, but its `ServerToken` is no longer the one its content gives (so devices would
/// never see the change), and verify says so.
#[test]
fn verify_recomputes_server_tokens_from_content() {
    let project = Project::reference();
    project.build_ok(&project.join("dist"));
    let manifest_path = project.join("dist/manifest.json");
    let mut manifest: Value =
        serde_json::from_str(&fs::read_to_string(&manifest_path).unwrap()).unwrap();
    let artifact = manifest["artifacts"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|a| a["path"].as_str().unwrap().contains(".enforce."))
        .expect("the reference project enforces a version");
    let relative = artifact["path"].as_str().unwrap().to_string();
    let path = project.join("dist").join(&relative);
    let mut declaration: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    declaration["Payload"]["TargetLocalDateTime"] = "2030-01-01T00:00:00".into();
    let mut bytes = serde_json::to_vec_pretty(&declaration).unwrap();
    bytes.push(b'\n');
    fs::write(&path, &bytes).unwrap();
    artifact["sha256"] = bsic::emit::sha256_hex(&bytes).into();
    fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();

    let run = verify(&project);
    run.assert_code(1);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains(&relative))
        .unwrap_or_else(|| panic!("{}", run.describe()));
    assert!(
        line.starts_with("FAIL") && line.contains("ServerToken"),
        "{line}"
    );
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn build_signed(project: &Project, args: &[&str]) -> Run {
    let run = project
        .bsic()
        .args(["build", "--out", "dist"])
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .run();
    run.assert_code(0);
    run
}

#[test]
fn a_private_key_or_password_file_others_can_read_is_a_warning() {
    let project = Project::reference();
    self_signed_p256(project.path(), "signer", "/CN=test signer");
    let key = project.join("signer.key");
    chmod(&key, 0o644);
    let args = ["--sign-cert", "signer.pem", "--sign-key", "signer.key"];
    let run = build_signed(&project, &args);
    assert!(
        run.stderr.contains("bsic::sign::readable-secret") && run.stderr.contains("signer.key"),
        "{}",
        run.describe()
    );
    chmod(&key, 0o600);
    let run = build_signed(&project, &args);
    assert!(
        !run.stderr.contains("readable-secret"),
        "{}",
        run.describe()
    );

    openssl(
        project.path(),
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "signer.key",
            "-in",
            "signer.pem",
            "-out",
            "signer.p12",
            "-passout",
            "pass:pw",
        ],
    );
    project.write("password.txt", "pw\n");
    chmod(&project.join("password.txt"), 0o640);
    let p12 = [
        "--sign-p12",
        "signer.p12",
        "--p12-password-file",
        "password.txt",
    ];
    let run = build_signed(&project, &p12);
    assert!(
        run.stderr.contains("readable-secret") && run.stderr.contains("password.txt"),
        "{}",
        run.describe()
    );
    chmod(&project.join("password.txt"), 0o400);
    let run = build_signed(&project, &p12);
    assert!(
        !run.stderr.contains("readable-secret"),
        "{}",
        run.describe()
    );
}

#[test]
fn chain_certificates_that_do_not_chain_to_the_signer_are_a_warning() {
    let project = Project::reference();
    let dir = project.path();
    self_signed_p256(dir, "ca", "/CN=test CA");
    self_signed_p256(dir, "stranger", "/CN=unrelated CA");
    crate::util::ca_signed_p256(dir, "ca", "signer", "/CN=test signer");
    chmod(&project.join("signer.key"), 0o600);
    let sign = |chain: &str| {
        build_signed(
            &project,
            &[
                "--sign-cert",
                "signer.pem",
                "--sign-key",
                "signer.key",
                "--chain",
                chain,
            ],
        )
    };
    let run = sign("ca.pem");
    assert!(!run.stderr.contains("unchained"), "{}", run.describe());
    let run = sign("stranger.pem");
    assert!(
        run.stderr.contains("bsic::sign::unchained-certificate")
            && run.stderr.contains("unrelated CA"),
        "{}",
        run.describe()
    );
    // Same subject as the real CA, different key: the name matches, the signature does not.
    fs::create_dir_all(dir.join("twin")).unwrap();
    self_signed_p256(&dir.join("twin"), "ca", "/CN=test CA");
    let run = sign("twin/ca.pem");
    assert!(
        run.stderr.contains("unchained-certificate"),
        "{}",
        run.describe()
    );
}

#[test]
fn signing_with_invalid_dates_allowed_is_a_warning() {
    let project = Project::reference();
    self_signed_p256(project.path(), "signer", "/CN=test signer");
    chmod(&project.join("signer.key"), 0o600);
    let run = build_signed(
        &project,
        &[
            "--sign-cert",
            "signer.pem",
            "--sign-key",
            "signer.key",
            "--allow-invalid-certificate-dates",
        ],
    );
    assert!(
        run.stderr.contains("bsic::sign::invalid-dates-allowed"),
        "{}",
        run.describe()
    );
}
