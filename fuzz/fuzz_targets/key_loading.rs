//! Signing-identity loading: PEM and DER certificates, private keys in every supported
//! encoding, and PKCS#12 archives. The first byte picks what the rest is loaded as.
#![no_main]

use bsic::sign::{KeySource, LoadOptions, Signer};
use libfuzzer_sys::fuzz_target;

/// A valid self-signed P-256 certificate and key, for the cases where only one side is fuzzed.
const CERT: &str = include_str!("../seeds/cert.pem");
const KEY: &str = include_str!("../seeds/key.pem");

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(dir) = tempfile::tempdir() else { return };
    let fuzzed = dir.path().join("fuzzed");
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    if std::fs::write(&fuzzed, rest).is_err()
        || std::fs::write(&cert, CERT).is_err()
        || std::fs::write(&key, KEY).is_err()
    {
        return;
    }
    let source = match mode % 4 {
        0 => KeySource::Pem {
            cert: fuzzed,
            key,
            chain: None,
        },
        1 => KeySource::Pem {
            cert,
            key: fuzzed,
            chain: None,
        },
        2 => KeySource::Pem {
            cert,
            key,
            chain: Some(fuzzed),
        },
        _ => KeySource::Pkcs12 {
            path: fuzzed,
            password: "fuzz".into(),
        },
    };
    let options = LoadOptions {
        now: 1_767_225_600,
        allow_invalid_dates: true,
    };
    if let Ok(signer) = Signer::load(&source, &options) {
        let _ = signer.certificate_summary();
        let _ = signer.sign(b"<plist/>", 1_767_225_600);
    }
});
