//! Test fixtures (made once per test run with the `openssl` CLI) and helpers shared by
//! the unit tests of the `sign` module, plus end-to-end tests of the public API.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use super::{KeySource, LoadOptions, Signer};

/// Password of every PKCS#12 fixture.
pub(super) const P12_PASSWORD: &str = "bsic-test-pw";

/// The fixture directory.
pub(super) struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Makes every key and certificate the tests use. Run with `sh -eu` in an empty
/// directory. Validity periods are relative to the real clock, so tests use `now()`.
const MAKE_FIXTURES: &str = r#"
q() { "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2; exit 1; }; }
cat > leaf.ext <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
cat > ca.ext <<EOF
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF

# Root CA (RSA), an unrelated CA (P-256), an intermediate (P-384) under the root.
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
  -subj "/CN=bsic Test CA" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign
q openssl x509 -in ca.pem -outform DER -out ca.der
q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other-ca.key \
  -out other-ca.pem -days 3650 -subj "/CN=bsic Unrelated CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
q openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout int.key \
  -out int.csr -subj "/CN=bsic Test Intermediate"
q openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 3650 \
  -extfile ca.ext -out int.pem
cat int.pem ca.pem > chain.pem

leaf() { # name, key options, issuer, serial, common name
  q openssl req -new $2 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$5"
  q openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "$4" -days 825 \
    -extfile leaf.ext -out "$1.pem"
}
leaf rsa "-newkey rsa:2048" int 10 "bsic RSA Leaf"
leaf rsa4096 "-newkey rsa:4096" ca 11 "bsic RSA-4096 Leaf"
leaf p256 "-newkey ec -pkeyopt ec_paramgen_curve:P-256" ca 12 "bsic P-256 Leaf"
leaf p384 "-newkey ec -pkeyopt ec_paramgen_curve:P-384" ca 13 "bsic P-384 Leaf"

q openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout self.key \
  -out self.pem -days 825 -subj "/CN=bsic Self-Signed" \
  -addext basicConstraints=critical,CA:FALSE -addext keyUsage=critical,digitalSignature

# A certificate for p256.key that expired in 2021 (`openssl x509` cannot back-date).
cat > ca.cnf <<EOF
[ ca ]
default_ca = test
[ test ]
database = index.txt
new_certs_dir = .
serial = serial.txt
default_md = sha256
policy = any
unique_subject = no
x509_extensions = leaf_ext
[ any ]
commonName = supplied
[ leaf_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
EOF
: > index.txt
echo 20 > serial.txt
q openssl req -new -key p256.key -out expired.csr -subj "/CN=bsic Expired"
q openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
  -out expired.pem -notext -startdate 20200101000000Z -enddate 20210101000000Z

# Other encodings of the same keys.
q openssl pkey -in rsa.key -traditional -out rsa-pkcs1.key
q openssl pkey -in p256.key -traditional -out p256-sec1.key
q openssl pkey -in p384.key -traditional -out p384-sec1.key
q openssl pkey -in p256.key -outform DER -out p256-sec1.der
q openssl pkcs8 -topk8 -nocrypt -in p256.key -outform DER -out p256-pkcs8.der
q openssl pkey -in rsa.key -traditional -outform DER -out rsa-pkcs1.der
q openssl pkey -in p256.key -aes256 -passout pass:pw -out p256-enc.key
q openssl pkey -in rsa.key -traditional -aes256 -passout pass:pw -out rsa-enc-traditional.key

# PKCS#12: OpenSSL 3 default (PBES2/AES-256, HMAC-SHA256) and -legacy (RC2/3DES, SHA-1).
q openssl pkcs12 -export -inkey rsa.key -in rsa.pem -certfile chain.pem -passout pass:bsic-test-pw -out rsa.p12
q openssl pkcs12 -export -legacy -inkey rsa.key -in rsa.pem -certfile chain.pem -passout pass:bsic-test-pw -out rsa-legacy.p12
q openssl pkcs12 -export -inkey p256.key -in p256.pem -certfile ca.pem -passout pass:bsic-test-pw -out p256.p12

# Keys we refuse.
q openssl genpkey -algorithm ed25519 -out ed25519.key
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key
q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.key
q openssl genpkey -genparam -algorithm DSA -pkeyopt pbits:1024 -out dsaparam.pem
q openssl genpkey -paramfile dsaparam.pem -out dsa.key

printf -- '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n' > garbage.pem
"#;

/// The fixtures, made on first use. They live in a fresh directory under the system
/// temp dir; directories left by runs more than a day old are removed.
pub(super) fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        remove_stale_fixture_dirs();
        let dir = tempfile::Builder::new()
            .prefix("bsic-sign-fixtures-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let out = Command::new("sh")
            .args(["-eu", "-c", MAKE_FIXTURES])
            .current_dir(&dir)
            .output()
            .expect("run sh (is openssl installed?)");
        assert!(
            out.status.success(),
            "making fixtures failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Fixtures { dir }
    })
}

fn remove_stale_fixture_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(24 * 3600));
        if stale
            && entry
                .file_name()
                .to_string_lossy()
                .starts_with("bsic-sign-fixtures-")
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The real current time, Unix seconds (fixtures are dated from it).
#[allow(clippy::disallowed_methods)]
pub(super) fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("sane clock")
}

/// Loads a PEM identity from the fixtures, checking dates at `now()`.
pub(super) fn load_pem(cert: &str, key: &str, chain: Option<&str>) -> Signer {
    let f = fixtures();
    Signer::load(
        &KeySource::Pem {
            cert: f.path(cert),
            key: f.path(key),
            chain: chain.map(|c| f.path(c)),
        },
        &LoadOptions {
            now: now(),
            allow_invalid_dates: false,
        },
    )
    .unwrap_or_else(|e| panic!("loading {cert} + {key}: {e}"))
}

/// Position of `needle` in `haystack`.
pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `openssl cms -verify -inform DER -CAfile ca`: the content on success, stderr on failure.
pub(super) fn openssl_cms_verify(der: &[u8], ca: &Path) -> Result<Vec<u8>, String> {
    let input = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(input.path(), der).expect("write");
    let out = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
        .arg(input.path())
        .arg("-CAfile")
        .arg(ca)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `openssl cms -sign` with attached content, DER out, SHA-256.
pub(super) fn openssl_cms_sign(content: &[u8], cert: &Path, key: &Path, extra: &[&str]) -> Vec<u8> {
    let input = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(input.path(), content).expect("write");
    let out = Command::new("openssl")
        .args([
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-outform",
            "DER",
            "-md",
            "sha256",
        ])
        .arg("-in")
        .arg(input.path())
        .arg("-signer")
        .arg(cert)
        .arg("-inkey")
        .arg(key)
        .args(extra)
        .current_dir(&fixtures().dir)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl cms -sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The whole path a caller takes: load from PKCS#12, sign, verify with a CA bundle.
#[test]
fn end_to_end_pkcs12_sign_verify() {
    let f = fixtures();
    let signer = Signer::load(
        &KeySource::Pkcs12 {
            path: f.path("rsa.p12"),
            password: super::Secret::new(P12_PASSWORD),
        },
        &LoadOptions {
            now: now(),
            allow_invalid_dates: false,
        },
    )
    .unwrap();
    let content = b"<plist version=\"1.0\"><dict/></plist>";
    let der = signer.sign(content, 1_700_000_000).unwrap();
    let verified = super::verify(
        &der,
        &super::TrustOptions {
            ca: super::load_ca_bundle(&f.path("ca.pem")).unwrap(),
            now: now(),
        },
    )
    .unwrap();
    assert_eq!(verified.content, content);
    assert_eq!(verified.chain_status, super::ChainStatus::Trusted);
    assert_eq!(verified.signer.subject_cn.as_deref(), Some("bsic RSA Leaf"));
}
