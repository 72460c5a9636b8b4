//! Loading a signing identity (certificate chain + private key) and CA bundles.
//!
//! Accepted private keys: PEM PKCS#8 (`BEGIN PRIVATE KEY`), PKCS#1
//! (`BEGIN RSA PRIVATE KEY`), SEC1 (`BEGIN EC PRIVATE KEY`), DER PKCS#8, and the key
//! of a PKCS#12 archive (OpenSSL 3 default PBES2/AES-256 and `-legacy`). Key types:
//! RSA 2048–4096 bits, ECDSA P-256 and P-384. Every buffer that holds decoded key
//! bytes is a [`Zeroizing`] buffer.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use der::Decode;
use der::oid::ObjectIdentifier;
use pkcs8::PrivateKeyInfo;
use x509_cert::Certificate;
use zeroize::Zeroizing;

use super::{
    CertSummary, KeyKind, SignError, SignWarning, algorithm_name, bit_length, oids, summarize,
};

/// A password (or other secret string): zeroized on drop, never printed.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret string.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(Zeroizing::new(secret.into()))
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

/// Where the signing identity comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// PEM (or DER) files: the signer certificate (optionally followed by its chain),
    /// the private key, and optionally a separate chain bundle.
    Pem {
        /// Certificate file; its first certificate is the signer unless another one
        /// matches the key.
        cert: PathBuf,
        /// Private key file (unencrypted).
        key: PathBuf,
        /// Optional bundle of intermediate (and root) certificates.
        chain: Option<PathBuf>,
    },
    /// A PKCS#12 archive holding key, certificate and chain.
    Pkcs12 {
        /// The `.p12` / `.pfx` file.
        path: PathBuf,
        /// Its password.
        password: Secret,
    },
}

/// How to check the identity while loading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// The time certificates must be valid at, Unix seconds.
    pub now: i64,
    /// Accept certificates that are expired or not yet valid at `now`.
    pub allow_invalid_dates: bool,
}

/// The private key, in the backend that signs with it.
///
/// RSA keys live in AWS-LC, which cleanses its allocations when it frees them;
/// the RustCrypto ECDSA signing keys zeroize their scalar on drop.
pub(super) enum PrivateKey {
    Rsa { pair: RsaKeyPair, bits: usize },
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

impl PrivateKey {
    pub(super) fn kind(&self) -> KeyKind {
        match self {
            PrivateKey::Rsa { bits, .. } => KeyKind::Rsa { bits: *bits },
            PrivateKey::P256(_) => KeyKind::EcP256,
            PrivateKey::P384(_) => KeyKind::EcP384,
        }
    }

    /// Whether `cert` certifies this key's public half.
    fn matches(&self, cert: &Certificate) -> bool {
        let spki = &cert.tbs_certificate.subject_public_key_info;
        let Some(cert_key) = spki.subject_public_key.as_bytes() else {
            return false;
        };
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        match self {
            PrivateKey::Rsa { pair, .. } => {
                if spki.algorithm.oid != oids::RSA_ENCRYPTION {
                    return false;
                }
                let ours = pkcs1::RsaPublicKey::from_der(pair.public_key().as_ref());
                let theirs = pkcs1::RsaPublicKey::from_der(cert_key);
                match (ours, theirs) {
                    (Ok(a), Ok(b)) => {
                        a.modulus.as_bytes() == b.modulus.as_bytes()
                            && a.public_exponent.as_bytes() == b.public_exponent.as_bytes()
                    }
                    _ => false,
                }
            }
            PrivateKey::P256(key) => {
                spki.algorithm.oid == oids::EC_PUBLIC_KEY
                    && curve == Some(oids::P256)
                    && p256::PublicKey::from_sec1_bytes(cert_key)
                        .is_ok_and(|pk| pk == p256::PublicKey::from(key.verifying_key()))
            }
            PrivateKey::P384(key) => {
                spki.algorithm.oid == oids::EC_PUBLIC_KEY
                    && curve == Some(oids::P384)
                    && p384::PublicKey::from_sec1_bytes(cert_key)
                        .is_ok_and(|pk| pk == p384::PublicKey::from(key.verifying_key()))
            }
        }
    }
}

/// A loaded signing identity: the certificate chain (signer first) and its private key.
///
/// The private key is wiped from memory when the `Signer` is dropped. `Debug` shows
/// the certificate summary only.
pub struct Signer {
    pub(super) chain: Vec<Certificate>,
    pub(super) key: PrivateKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("certificate", &self.certificate_summary())
            .field("chain_len", &self.chain.len())
            .field("key", &"***")
            .finish()
    }
}

impl Signer {
    /// Loads and checks a signing identity.
    ///
    /// Checks: the key is a supported type, it matches a certificate (which becomes
    /// the signer certificate, first in the chain), and, unless
    /// `opts.allow_invalid_dates`, every certificate is valid at `opts.now`.
    pub fn load(source: &KeySource, opts: &LoadOptions) -> Result<Signer, SignError> {
        let (certs, key, cert_path, key_path) = match source {
            KeySource::Pem { cert, key, chain } => {
                let mut certs = read_certificates(cert)?;
                if let Some(chain) = chain {
                    certs.extend(read_certificates(chain)?);
                }
                let private_key = read_private_key(key)?;
                (certs, private_key, cert.clone(), key.clone())
            }
            KeySource::Pkcs12 { path, password } => {
                let (certs, private_key) = read_pkcs12(path, password)?;
                (certs, private_key, path.clone(), path.clone())
            }
        };

        let mut chain: Vec<Certificate> = Vec::with_capacity(certs.len());
        for cert in certs {
            if !chain.contains(&cert) {
                chain.push(cert);
            }
        }
        let Some(leaf) = chain.iter().position(|c| key.matches(c)) else {
            return Err(SignError::KeyMismatch {
                cert: cert_path,
                key: key_path,
            });
        };
        let leaf_cert = chain.remove(leaf);
        chain.insert(0, leaf_cert);

        if !opts.allow_invalid_dates {
            for cert in &chain {
                let summary = summarize(cert);
                if let Some(state) = super::date_problem(&summary, opts.now) {
                    return Err(SignError::CertificateDates {
                        subject: summary.subject,
                        state,
                        now: opts.now,
                        now_text: super::fmt_unix(opts.now),
                        not_before_text: super::fmt_unix(summary.not_before),
                        not_after_text: super::fmt_unix(summary.not_after),
                    });
                }
            }
        }
        Ok(Signer { chain, key })
    }

    /// Summary of the signer certificate; `key_kind` is the private key's kind.
    pub fn certificate_summary(&self) -> CertSummary {
        let mut summary = match self.chain.first() {
            Some(cert) => summarize(cert),
            // `load` always puts the signer certificate first; keep this total anyway.
            None => CertSummary {
                subject_cn: None,
                subject: String::new(),
                issuer: String::new(),
                serial: String::new(),
                not_before: 0,
                not_after: 0,
                key_kind: self.key.kind(),
            },
        };
        summary.key_kind = self.key.kind();
        summary
    }

    /// The certificates that go into a signature: the signer's first, then its chain.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// What to warn about before signing: chain certificates that do not chain to the signer,
    /// and, when `opts.allow_invalid_dates` let the identity load, that the dates were waived
    /// (naming the certificates actually outside their validity at `opts.now`).
    pub fn warnings(&self, opts: &LoadOptions) -> Vec<SignWarning> {
        let signer = self
            .chain
            .first()
            .map(|c| summarize(c).subject)
            .unwrap_or_default();
        let mut warnings: Vec<SignWarning> = super::verify::unchained(&self.chain)
            .into_iter()
            .map(|c| SignWarning::UnchainedCertificate {
                subject: summarize(c).subject,
                signer: signer.clone(),
            })
            .collect();
        if opts.allow_invalid_dates {
            let problems: Vec<String> = self
                .chain
                .iter()
                .map(summarize)
                .filter_map(|s| {
                    super::date_problem(&s, opts.now)
                        .map(|state| format!("`{}` is {state}", s.subject))
                })
                .collect();
            warnings.push(SignWarning::InvalidDatesAllowed {
                problems: problems.join(", "),
            });
        }
        warnings
    }
}

/// A warning when `path`, holding `what` (a private key, a password), can be read by group or
/// others. Unix permission bits only; elsewhere, and for files that cannot be inspected,
/// nothing (reading the file reports those).
pub fn secret_file_warning(path: &Path, what: &'static str) -> Option<SignWarning> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then(|| SignWarning::ReadableSecret {
            path: path.to_path_buf(),
            what,
            mode,
        })
    }
    #[cfg(not(unix))]
    {
        let _ = (path, what);
        None
    }
}

/// Loads every certificate of a PEM bundle (or a single DER certificate).
pub fn load_ca_bundle(path: &Path) -> Result<Vec<Certificate>, SignError> {
    read_certificates(path)
}

fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, SignError> {
    crate::source::read::read(path, crate::source::Input::Credential)
        .map(Zeroizing::new)
        .map_err(|source| SignError::Io {
            path: path.to_owned(),
            source,
        })
}

/// One `-----BEGIN label-----` … `-----END label-----` block of a PEM file.
struct PemBlock<'a> {
    label: &'a str,
    /// The whole block, markers included.
    text: &'a str,
}

/// Finds the PEM blocks in `text` (anything between blocks is ignored, as OpenSSL does).
fn pem_blocks(text: &str) -> Result<Vec<PemBlock<'_>>, String> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(start) = rest.find(BEGIN) {
        let after_begin = &rest[start + BEGIN.len()..];
        let Some(label_len) = after_begin.find(DASHES) else {
            return Err("unterminated BEGIN line".to_owned());
        };
        let label = &after_begin[..label_len];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            return Err(format!("missing `{end_marker}`"));
        };
        let block_end = start + end + end_marker.len();
        blocks.push(PemBlock {
            label,
            text: &text[offset + start..offset + block_end],
        });
        rest = &rest[block_end..];
        offset += block_end;
    }
    Ok(blocks)
}

fn looks_like_pem(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Decodes the base64 body of a block.
fn pem_decode(block: &PemBlock<'_>) -> Result<Zeroizing<Vec<u8>>, String> {
    der::pem::decode_vec(block.text.as_bytes())
        .map(|(_, der)| Zeroizing::new(der))
        .map_err(|e| format!("bad PEM `{}` block: {e}", block.label))
}

fn read_certificates(path: &Path) -> Result<Vec<Certificate>, SignError> {
    let bytes = read_file(path)?;
    let malformed = |detail: String| SignError::Malformed {
        path: path.to_owned(),
        what: "certificate file",
        detail,
    };
    if !looks_like_pem(&bytes) {
        if bytes.first() == Some(&0x30) {
            return Certificate::from_der(&bytes)
                .map(|c| vec![c])
                .map_err(|e| malformed(format!("DER: {e}")));
        }
        return Err(SignError::NoCertificate {
            path: path.to_owned(),
        });
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not UTF-8 text".to_owned()))?;
    let mut certs = Vec::new();
    for block in pem_blocks(text).map_err(malformed)? {
        if block.label != "CERTIFICATE" && block.label != "TRUSTED CERTIFICATE" {
            continue;
        }
        let der = pem_decode(&block).map_err(malformed)?;
        let cert = Certificate::from_der(&der).map_err(|e| malformed(e.to_string()))?;
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(SignError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn read_private_key(path: &Path) -> Result<PrivateKey, SignError> {
    let bytes = read_file(path)?;
    let malformed = |detail: String| SignError::Malformed {
        path: path.to_owned(),
        what: "private key",
        detail,
    };
    if !looks_like_pem(&bytes) {
        // DER: try each structure (OpenSSL 3 `pkey -outform DER` writes EC keys as SEC1).
        if PrivateKeyInfo::from_der(&bytes).is_ok() {
            return parse_pkcs8(path, &bytes);
        }
        if sec1::EcPrivateKey::from_der(&bytes).is_ok() {
            return parse_sec1(path, &bytes);
        }
        if pkcs1::RsaPrivateKey::from_der(&bytes).is_ok() {
            return parse_pkcs1(path, &bytes);
        }
        if pkcs8::EncryptedPrivateKeyInfo::from_der(&bytes).is_ok() {
            return Err(SignError::EncryptedKey {
                path: path.to_owned(),
            });
        }
        return Err(SignError::NoPrivateKey {
            path: path.to_owned(),
        });
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed("not UTF-8 text".to_owned()))?;
    let blocks = pem_blocks(text).map_err(malformed)?;
    for block in &blocks {
        let encrypted = block.label == "ENCRYPTED PRIVATE KEY"
            || (block.label.ends_with("PRIVATE KEY")
                && block.text.contains("Proc-Type: 4,ENCRYPTED"));
        if encrypted {
            return Err(SignError::EncryptedKey {
                path: path.to_owned(),
            });
        }
        let unsupported = |kind: &str| SignError::UnsupportedKey {
            path: path.to_owned(),
            kind: kind.to_owned(),
        };
        match block.label {
            "PRIVATE KEY" => return parse_pkcs8(path, &pem_decode(block).map_err(malformed)?),
            "RSA PRIVATE KEY" => return parse_pkcs1(path, &pem_decode(block).map_err(malformed)?),
            "EC PRIVATE KEY" => return parse_sec1(path, &pem_decode(block).map_err(malformed)?),
            "DSA PRIVATE KEY" => return Err(unsupported("DSA")),
            "OPENSSH PRIVATE KEY" => return Err(unsupported("OpenSSH private key format")),
            _ => {}
        }
    }
    Err(SignError::NoPrivateKey {
        path: path.to_owned(),
    })
}

/// Modulus size of a PKCS#1 `RSAPrivateKey`, rejecting sizes outside 2048–4096.
fn rsa_bits(path: &Path, pkcs1_der: &[u8]) -> Result<usize, SignError> {
    let key = pkcs1::RsaPrivateKey::from_der(pkcs1_der).map_err(|e| SignError::Malformed {
        path: path.to_owned(),
        what: "private key",
        detail: format!("RSA key: {e}"),
    })?;
    let bits = bit_length(key.modulus.as_bytes());
    if !(2048..=4096).contains(&bits) {
        return Err(SignError::UnsupportedKey {
            path: path.to_owned(),
            kind: format!("RSA {bits}-bit"),
        });
    }
    Ok(bits)
}

fn parse_pkcs1(path: &Path, der: &[u8]) -> Result<PrivateKey, SignError> {
    let bits = rsa_bits(path, der)?;
    let pair = RsaKeyPair::from_der(der).map_err(|e| SignError::Malformed {
        path: path.to_owned(),
        what: "private key",
        detail: format!("RSA key: {e}"),
    })?;
    Ok(PrivateKey::Rsa { pair, bits })
}

fn parse_pkcs8(path: &Path, der: &[u8]) -> Result<PrivateKey, SignError> {
    let malformed = |detail: String| SignError::Malformed {
        path: path.to_owned(),
        what: "private key",
        detail,
    };
    let info = PrivateKeyInfo::from_der(der).map_err(|e| malformed(format!("PKCS#8: {e}")))?;
    let alg = info.algorithm.oid;
    let curve = info
        .algorithm
        .parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    if alg == oids::RSA_ENCRYPTION {
        let bits = rsa_bits(path, info.private_key)?;
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| malformed(e.to_string()))?;
        return Ok(PrivateKey::Rsa { pair, bits });
    }
    if alg == oids::EC_PUBLIC_KEY {
        if curve == Some(oids::P256) {
            use p256::pkcs8::DecodePrivateKey as _;
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(der)
                .map_err(|e| malformed(format!("P-256 key: {e}")))?;
            return Ok(PrivateKey::P256(key));
        }
        if curve == Some(oids::P384) {
            use p384::pkcs8::DecodePrivateKey as _;
            let key = p384::ecdsa::SigningKey::from_pkcs8_der(der)
                .map_err(|e| malformed(format!("P-384 key: {e}")))?;
            return Ok(PrivateKey::P384(key));
        }
    }
    Err(SignError::UnsupportedKey {
        path: path.to_owned(),
        kind: algorithm_name(&alg, curve.as_ref()),
    })
}

fn parse_sec1(path: &Path, der: &[u8]) -> Result<PrivateKey, SignError> {
    let malformed = |detail: String| SignError::Malformed {
        path: path.to_owned(),
        what: "private key",
        detail,
    };
    let info = sec1::EcPrivateKey::from_der(der).map_err(|e| malformed(format!("SEC1: {e}")))?;
    let curve = info.parameters.and_then(|p| p.named_curve());
    match curve {
        Some(c) if c == oids::P256 => {
            let secret = p256::SecretKey::from_sec1_der(der)
                .map_err(|e| malformed(format!("P-256 key: {e}")))?;
            Ok(PrivateKey::P256(p256::ecdsa::SigningKey::from(&secret)))
        }
        Some(c) if c == oids::P384 => {
            let secret = p384::SecretKey::from_sec1_der(der)
                .map_err(|e| malformed(format!("P-384 key: {e}")))?;
            Ok(PrivateKey::P384(p384::ecdsa::SigningKey::from(&secret)))
        }
        Some(c) => Err(SignError::UnsupportedKey {
            path: path.to_owned(),
            kind: algorithm_name(&oids::EC_PUBLIC_KEY, Some(&c)),
        }),
        None => Err(malformed("SEC1 key without a named curve".to_owned())),
    }
}

fn read_pkcs12(
    path: &Path,
    password: &Secret,
) -> Result<(Vec<Certificate>, PrivateKey), SignError> {
    use p12_keystore::error::Error as P12Error;

    let bytes = read_file(path)?;
    let store = p12_keystore::KeyStore::from_pkcs12(&bytes, password.expose()).map_err(|e| {
        match e {
            // Integrity MAC mismatch, or (for MAC-less files) a decryption that
            // produced garbage padding: both mean a wrong password.
            P12Error::MacError(_) | P12Error::UnpadError => SignError::WrongPassword {
                path: path.to_owned(),
            },
            other => SignError::Pkcs12 {
                path: path.to_owned(),
                detail: other.to_string(),
            },
        }
    })?;
    let Some((_, key_chain)) = store.private_key_chain() else {
        return Err(SignError::NoPrivateKey {
            path: path.to_owned(),
        });
    };
    let key_der = Zeroizing::new(key_chain.key().to_vec());
    let key = parse_pkcs8(path, &key_der)?;
    let mut certs = Vec::with_capacity(key_chain.chain().len());
    for cert in key_chain.chain() {
        certs.push(
            Certificate::from_der(cert.as_der()).map_err(|e| SignError::Pkcs12 {
                path: path.to_owned(),
                detail: format!("certificate: {e}"),
            })?,
        );
    }
    // Certificates stored without a key (e.g. `-certfile` CAs) that the library did
    // not chain: keep them, they may be intermediates.
    for (_, entry) in store.entries() {
        if let p12_keystore::KeyStoreEntry::Certificate(cert) = entry
            && let Ok(cert) = Certificate::from_der(cert.as_der())
        {
            certs.push(cert);
        }
    }
    Ok((certs, key))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Fixtures, fixtures, now};
    use super::*;

    fn pem(f: &Fixtures, cert: &str, key: &str) -> KeySource {
        KeySource::Pem {
            cert: f.path(cert),
            key: f.path(key),
            chain: None,
        }
    }

    fn opts() -> LoadOptions {
        LoadOptions {
            now: now(),
            allow_invalid_dates: false,
        }
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "***");
        let src = KeySource::Pkcs12 {
            path: "x.p12".into(),
            password: s,
        };
        assert!(!format!("{src:?}").contains("hunter2"));
    }

    #[test]
    fn pem_block_splitting() {
        let text = "junk\n-----BEGIN A-----\nQUJD\n-----END A-----\nmid\n-----BEGIN B C-----\nREVG\n-----END B C-----\n";
        let blocks = pem_blocks(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].label, "A");
        assert_eq!(blocks[1].label, "B C");
        assert!(blocks[1].text.starts_with("-----BEGIN B C-----"));
        assert!(blocks[1].text.ends_with("-----END B C-----"));
        assert!(pem_blocks("-----BEGIN A-----\nQUJD\n").is_err());
    }

    #[test]
    fn loads_every_supported_form() {
        let f = fixtures();
        let cases = [
            ("rsa.pem", "rsa.key", KeyKind::Rsa { bits: 2048 }),
            ("rsa.pem", "rsa-pkcs1.key", KeyKind::Rsa { bits: 2048 }),
            ("rsa4096.pem", "rsa4096.key", KeyKind::Rsa { bits: 4096 }),
            ("p256.pem", "p256.key", KeyKind::EcP256),
            ("p256.pem", "p256-sec1.key", KeyKind::EcP256),
            ("p256.pem", "p256-sec1.der", KeyKind::EcP256),
            ("p256.pem", "p256-pkcs8.der", KeyKind::EcP256),
            ("rsa.pem", "rsa-pkcs1.der", KeyKind::Rsa { bits: 2048 }),
            ("p384.pem", "p384.key", KeyKind::EcP384),
            ("p384.pem", "p384-sec1.key", KeyKind::EcP384),
        ];
        for (cert, key, kind) in cases {
            let signer = Signer::load(&pem(f, cert, key), &opts())
                .unwrap_or_else(|e| panic!("{cert} + {key}: {e}"));
            assert_eq!(signer.certificate_summary().key_kind, kind, "{key}");
        }
    }

    #[test]
    fn chain_file_and_summary() {
        let f = fixtures();
        let src = KeySource::Pem {
            cert: f.path("rsa.pem"),
            key: f.path("rsa.key"),
            chain: Some(f.path("chain.pem")),
        };
        let signer = Signer::load(&src, &opts()).unwrap();
        assert_eq!(signer.chain().len(), 3, "leaf + intermediate + root");
        let s = signer.certificate_summary();
        assert_eq!(s.subject_cn.as_deref(), Some("bsic RSA Leaf"));
        assert!(s.issuer.contains("bsic Test Intermediate"), "{}", s.issuer);
        assert!(s.not_before <= now() && now() < s.not_after);
        let dbg = format!("{signer:?}");
        assert!(dbg.contains("***") && dbg.contains("bsic RSA Leaf"));
    }

    #[test]
    fn pkcs12_default_and_legacy() {
        let f = fixtures();
        for file in ["rsa.p12", "rsa-legacy.p12", "p256.p12"] {
            let src = KeySource::Pkcs12 {
                path: f.path(file),
                password: Secret::new(super::super::tests::P12_PASSWORD),
            };
            let signer = Signer::load(&src, &opts()).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(signer.chain().len() >= 2, "{file}: chain included");
        }
    }

    #[test]
    fn pkcs12_wrong_password() {
        let f = fixtures();
        for file in ["rsa.p12", "rsa-legacy.p12"] {
            let src = KeySource::Pkcs12 {
                path: f.path(file),
                password: Secret::new("not-the-password"),
            };
            let err = Signer::load(&src, &opts()).unwrap_err();
            assert!(
                matches!(err, SignError::WrongPassword { .. }),
                "{file}: {err:?}"
            );
            assert!(!err.to_string().contains("not-the-password"));
        }
    }

    #[test]
    fn key_mismatch() {
        let f = fixtures();
        for (cert, key) in [
            ("rsa.pem", "ca.key"),
            ("rsa.pem", "p256.key"),
            ("p256.pem", "p384.key"),
        ] {
            let err = Signer::load(&pem(f, cert, key), &opts()).unwrap_err();
            assert!(
                matches!(err, SignError::KeyMismatch { .. }),
                "{cert}+{key}: {err:?}"
            );
        }
    }

    #[test]
    fn expired_and_not_yet_valid() {
        let f = fixtures();
        let err = Signer::load(&pem(f, "expired.pem", "p256.key"), &opts()).unwrap_err();
        match err {
            SignError::CertificateDates { state, .. } => assert_eq!(state, "expired"),
            other => panic!("{other:?}"),
        }
        let lenient = LoadOptions {
            now: now(),
            allow_invalid_dates: true,
        };
        Signer::load(&pem(f, "expired.pem", "p256.key"), &lenient).unwrap();
        let past = LoadOptions {
            now: 86_400,
            allow_invalid_dates: false,
        };
        let err = Signer::load(&pem(f, "p256.pem", "p256.key"), &past).unwrap_err();
        assert!(err.to_string().contains("not yet valid"), "{err}");
    }

    #[test]
    fn encrypted_keys_are_refused() {
        let f = fixtures();
        for key in ["p256-enc.key", "rsa-enc-traditional.key"] {
            let err = Signer::load(&pem(f, "p256.pem", key), &opts()).unwrap_err();
            assert!(
                matches!(err, SignError::EncryptedKey { .. }),
                "{key}: {err:?}"
            );
            assert!(err.to_string().contains("encrypted key not supported"));
        }
    }

    #[test]
    fn unsupported_key_types_are_named() {
        let f = fixtures();
        for (key, name) in [
            ("ed25519.key", "Ed25519"),
            ("rsa1024.key", "RSA 1024-bit"),
            ("p521.key", "EC P-521"),
            ("dsa.key", "DSA"),
        ] {
            let err = Signer::load(&pem(f, "p256.pem", key), &opts()).unwrap_err();
            match &err {
                SignError::UnsupportedKey { kind, .. } => assert_eq!(kind, name),
                other => panic!("{key}: {other:?}"),
            }
            assert!(err.to_string().contains(name));
        }
    }

    #[test]
    fn unreadable_and_malformed_files_name_the_path() {
        let f = fixtures();
        let missing = f.path("does-not-exist.pem");
        let err = Signer::load(&pem(f, "does-not-exist.pem", "p256.key"), &opts()).unwrap_err();
        assert!(matches!(err, SignError::Io { .. }));
        assert!(err.to_string().contains(&*missing.to_string_lossy()));

        let err = Signer::load(&pem(f, "garbage.pem", "p256.key"), &opts()).unwrap_err();
        assert!(matches!(err, SignError::Malformed { .. }), "{err:?}");
        assert!(err.to_string().contains("garbage.pem"));

        let err = Signer::load(&pem(f, "p256.pem", "ca.pem"), &opts()).unwrap_err();
        assert!(matches!(err, SignError::NoPrivateKey { .. }), "{err:?}");

        let err = load_ca_bundle(&f.path("p256.key")).unwrap_err();
        assert!(matches!(err, SignError::NoCertificate { .. }), "{err:?}");
    }

    #[test]
    fn ca_bundle() {
        let f = fixtures();
        assert_eq!(load_ca_bundle(&f.path("chain.pem")).unwrap().len(), 2);
        assert_eq!(load_ca_bundle(&f.path("ca.der")).unwrap().len(), 1);
    }
}
