//! `bsic build --sign-*` and `bsic verify`, checked by OpenSSL (issue 3).

use std::path::Path;
use std::process::Command;

use crate::util::openssl;

fn bsic(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bsic"))
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env("P12_PASS", "right-password")
        .output()
        .unwrap()
}

fn reference_project(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(root.join("bsic.kdl"), dir.join("bsic.kdl")).unwrap();
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    for entry in std::fs::read_dir(root.join("policies")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("policies").join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn signed_builds_verify_with_openssl_and_bsic_and_tampering_is_caught() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    reference_project(dir);
    crate::util::self_signed_p256(dir, "ca", "/CN=test CA");
    crate::util::ca_signed_p256(dir, "ca", "signer", "/CN=test signer");

    for out in ["a", "b"] {
        let o = bsic(
            dir,
            &[
                "build",
                "--out",
                out,
                "--sign-cert",
                "signer.pem",
                "--sign-key",
                "signer.key",
            ],
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let profile = walk(&dir.join("a"))
        .into_iter()
        .find(|p| p.ends_with(".mobileconfig"))
        .unwrap();
    let twin = profile.replace("/a/", "/b/");
    assert_eq!(
        std::fs::read(&profile).unwrap(),
        std::fs::read(&twin).unwrap(),
        "deterministic"
    );
    openssl(
        dir,
        &[
            "cms",
            "-verify",
            "-inform",
            "DER",
            "-in",
            &profile,
            "-CAfile",
            "ca.pem",
            "-out",
            "plain.plist",
        ],
    );

    let ok = bsic(dir, &["verify", "a", "--ca", "ca.pem"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let unsigned = bsic(dir, &["build", "--out", "u"]);
    assert!(unsigned.status.success());
    assert_eq!(
        bsic(dir, &["verify", "u"]).status.code(),
        Some(1),
        "unsigned profiles fail verify"
    );

    let mut bytes = std::fs::read(&profile).unwrap();
    let at = bytes.windows(5).position(|w| w == b"<key>").unwrap();
    bytes[at + 5] ^= 1;
    std::fs::write(&profile, bytes).unwrap();
    assert_eq!(
        bsic(dir, &["verify", "a", "--ca", "ca.pem"]).status.code(),
        Some(1)
    );

    openssl(
        dir,
        &[
            "pkcs12",
            "-export",
            "-inkey",
            "signer.key",
            "-in",
            "signer.pem",
            "-certfile",
            "ca.pem",
            "-passout",
            "pass:right-password",
            "-out",
            "id.p12",
        ],
    );
    let p12 = bsic(
        dir,
        &[
            "build",
            "--out",
            "p",
            "--sign-p12",
            "id.p12",
            "--p12-password-env",
            "P12_PASS",
        ],
    );
    assert!(
        p12.status.success(),
        "{}",
        String::from_utf8_lossy(&p12.stderr)
    );
    std::fs::write(dir.join("wrong.txt"), "s3cret-nope\n").unwrap();
    let wrong = bsic(
        dir,
        &[
            "build",
            "--out",
            "w",
            "--sign-p12",
            "id.p12",
            "--p12-password-file",
            "wrong.txt",
        ],
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        !dir.join("w").exists(),
        "nothing written with a wrong password"
    );
    assert!(!String::from_utf8_lossy(&wrong.stderr).contains("s3cret-nope"));
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}
