//! Benchmarks of the library pipeline on generated fleets (`cargo bench -p bsic`):
//! `check` and `render` on 100 / 1,000 / 10,000 policies, resolution of 10,000 groups and
//! 5,000 policies, the language server's re-check after a keystroke, and signing 1,000
//! profiles.
//!
//! Fleets come from the same generator as `cargo xtask gen-fleet`, written once per run into
//! a temporary directory. Process-level numbers (cold start, peak memory, the comparison with
//! Python and OpenSSL) are measured by `bench/compare.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bsic::pipeline::{self, Checked, Signing};
use bsic::sign::{KeySource, LoadOptions, Signer};
use bsic::source::{Overlay, ParseCache};
use bsic::validate::Validators;
use divan::Bencher;

fn main() {
    divan::main();
}

/// A directory that lives as long as the benchmark process.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The fleet of `policies` policies, generated on first use.
fn fleet(policies: usize) -> PathBuf {
    let root = scratch().join(format!("fleet-{policies}"));
    if !root.exists() {
        let files = xtask::fleet::generate(policies, xtask::fleet::DEFAULT_SEED);
        xtask::fleet::write(&root, &files).unwrap();
    }
    root
}

fn checked(policies: usize) -> Checked {
    let checked = pipeline::check(&fleet(policies)).unwrap();
    assert!(!checked.has_errors(), "generated fleets are clean");
    checked
}

#[divan::bench(args = [100, 1_000, 10_000], sample_count = 5, sample_size = 1)]
fn check(bencher: Bencher, policies: usize) {
    let root = fleet(policies);
    bencher.bench(|| pipeline::check(&root).unwrap());
}

/// Resolution alone (groups, precedence, conflicts, Apple's combine rules) on a fleet of
/// 10,000 groups and 5,000 policies: the shape of a large MDM with a smart group per team
/// and site, most of them without a policy of their own.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn resolve_10000_groups_5000_policies(bencher: Bencher) {
    let root = scratch().join("fleet-5000-policies-10000-groups");
    if !root.exists() {
        let files = xtask::fleet::generate_shaped(5_000, 10_000, xtask::fleet::DEFAULT_SEED);
        xtask::fleet::write(&root, &files).unwrap();
    }
    let checked = pipeline::check(&root).unwrap();
    assert!(!checked.has_errors(), "generated fleets are clean");
    let model = checked.model.unwrap();
    bencher.bench(|| {
        let mut diagnostics = bsic::diag::Diagnostics::default();
        let resolution = bsic::resolve::resolve(&model, &mut diagnostics);
        assert!(!diagnostics.has_errors());
        resolution
    });
}

/// What the language server does on a keystroke: re-check the whole project with one
/// policy file's unsaved text in the overlay, schemas compiled and unchanged files parsed once
/// (the server's parse cache, warmed by the previous keystroke).
#[divan::bench(args = [100, 1_000], sample_count = 10, sample_size = 1)]
fn lsp_recheck_after_keystroke(bencher: Bencher, policies: usize) {
    let root = fleet(policies);
    let validators = Validators::new();
    let cache = ParseCache::default();
    let edited = std::fs::read_dir(root.join("policies/engineering"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .min()
        .unwrap();
    let text = std::fs::read_to_string(&edited).unwrap();
    let mut keystroke = 0_u64;
    let mut overlay = Overlay::new();
    bencher.bench_local(|| {
        keystroke += 1;
        overlay.insert(edited.clone(), format!("{text}// keystroke {keystroke}\n"));
        let checked = pipeline::check_with(&root, &overlay, &validators, Some(&cache)).unwrap();
        assert!(!checked.has_errors());
        checked
    });
}

#[divan::bench(args = [100, 1_000, 10_000], sample_count = 5, sample_size = 1)]
fn render_unsigned(bencher: Bencher, policies: usize) {
    let checked = checked(policies);
    bencher.bench(|| pipeline::render(&checked, None).unwrap());
}

/// A throw-away P-256 identity made with the `openssl` command line.
fn signing() -> Signing {
    let dir = scratch();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if !cert.exists() {
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:P-256", "-nodes", "-days", "30"])
            .args(["-subj", "/CN=bsic bench", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("openssl is needed for the signing benchmark");
        assert!(status.status.success(), "openssl req failed");
    }
    let source = KeySource::Pem {
        cert,
        key,
        chain: None,
    };
    let options = LoadOptions {
        now: 1_767_225_600,
        allow_invalid_dates: true,
    };
    Signing {
        signer: Signer::load(&source, &options).unwrap(),
        time: 1_767_225_600,
    }
}

/// Signs 1,000 profiles (the plists of a generated fleet, repeated as needed).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn sign_1000_profiles(bencher: Bencher) {
    let signing = signing();
    let files = pipeline::render(&checked(1_000), None).unwrap();
    let profiles: Vec<&[u8]> = files
        .iter()
        .filter(|(path, _)| path.ends_with(".mobileconfig"))
        .map(|(_, bytes)| bytes.as_slice())
        .collect();
    assert!(!profiles.is_empty());
    bencher.bench(|| {
        for plist in profiles.iter().cycle().take(1_000) {
            divan::black_box(signing.signer.sign(plist, signing.time).unwrap());
        }
    });
}

/// `render` with signing, as `bsic build --sign-…` does before writing.
#[divan::bench(args = [1_000], sample_count = 5, sample_size = 1)]
fn render_signed(bencher: Bencher, policies: usize) {
    let signing = signing();
    let checked = checked(policies);
    bencher.bench(|| pipeline::render(&checked, Some(&signing)).unwrap());
}
