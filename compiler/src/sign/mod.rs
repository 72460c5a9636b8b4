//! Signing and verifying configuration profiles as CMS SignedData.
//!
//! **In:** the bytes of a profile (an XML plist), a signing identity and a signing
//! time. The identity comes from PEM files (certificate, private key, optional
//! chain) or from a PKCS#12 archive and a password ([`KeySource`]); the signing
//! time is Unix seconds, normally `SOURCE_DATE_EPOCH`.
//!
//! **Out:** a DER-encoded CMS `SignedData` (RFC 5652) in a `ContentInfo`, the form
//! macOS and iOS expect for a signed `.mobileconfig`:
//!
//! - content attached as `id-data` `eContent`;
//! - signer identified by issuer and serial number;
//! - the signer certificate and every chain certificate included;
//! - signed attributes: content type, message digest and signing time (UTCTime
//!   before 2050, GeneralizedTime from 2050 on);
//! - signatures: RSA 2048–4096 PKCS#1 v1.5 with SHA-256 (signature algorithm
//!   `rsaEncryption`, as OpenSSL writes it), ECDSA P-256 with SHA-256, ECDSA P-384
//!   with SHA-384. ECDSA nonces are derived per RFC 6979, so the same content, key
//!   and signing time always give byte-identical output.
//!
//! [`verify`] reads such a structure back, checks the message digest and the
//! signature, builds the certificate chain to the CAs in [`TrustOptions`] and checks
//! validity dates; it returns the content and a [`ChainStatus`].
//!
//! Key material is never printed: [`Secret`] and [`Signer`] have redacting `Debug`
//! implementations, errors name files and key *types* only, and decoded private key
//! bytes are zeroized after use (RSA keys live inside AWS-LC, which cleanses memory
//! when it frees it; ECDSA keys zeroize themselves on drop).

mod cms;
mod error;
mod keys;
mod verify;

#[cfg(test)]
mod tests;

use der::Decode;
use der::asn1::{Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

pub use error::{SignError, SignWarning, VerifyError};
pub use keys::{KeySource, LoadOptions, Secret, Signer, load_ca_bundle, secret_file_warning};
pub use verify::{ChainStatus, TrustOptions, Verified, verify};
/// An X.509 certificate, as held in a CA bundle.
pub use x509_cert::Certificate;

/// What a certificate says about itself, for display and for decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// The subject's common name, if it has one.
    pub subject_cn: Option<String>,
    /// The full subject, RFC 4514 string form.
    pub subject: String,
    /// The issuer, RFC 4514 string form.
    pub issuer: String,
    /// The serial number, upper-case hex.
    pub serial: String,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
    /// The kind of public key the certificate certifies.
    pub key_kind: KeyKind,
}

/// Kind of public (or private) key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA, with its modulus size in bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
    /// ECDSA on NIST P-256 (secp256r1).
    EcP256,
    /// ECDSA on NIST P-384 (secp384r1).
    EcP384,
    /// Anything else, named (e.g. `Ed25519`, `EC P-521`, or a dotted OID).
    Other(String),
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA {bits}-bit"),
            KeyKind::EcP256 => f.write_str("ECDSA P-256"),
            KeyKind::EcP384 => f.write_str("ECDSA P-384"),
            KeyKind::Other(name) => f.write_str(name),
        }
    }
}

/// Object identifiers used across the module.
mod oids {
    use der::oid::ObjectIdentifier as Oid;

    pub(super) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    pub(super) const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
    pub(super) const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
    pub(super) const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
    pub(super) const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    pub(super) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    pub(super) const ECDSA_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
    pub(super) const ECDSA_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    pub(super) const ECDSA_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
    pub(super) const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    pub(super) const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    pub(super) const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
    pub(super) const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");
    pub(super) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    pub(super) const ED448: Oid = Oid::new_unwrap("1.3.101.113");
    pub(super) const X25519: Oid = Oid::new_unwrap("1.3.101.110");
    pub(super) const X448: Oid = Oid::new_unwrap("1.3.101.111");
    pub(super) const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
    pub(super) const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    pub(super) const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
    pub(super) const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
    pub(super) const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
    pub(super) const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    pub(super) const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    pub(super) const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
    pub(super) const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
    pub(super) const COMMON_NAME: Oid = Oid::new_unwrap("2.5.4.3");
}

/// A human name for a key algorithm (and curve), for error messages.
fn algorithm_name(
    alg: &der::oid::ObjectIdentifier,
    curve: Option<&der::oid::ObjectIdentifier>,
) -> String {
    let curve_name = |c: Option<&der::oid::ObjectIdentifier>| match c {
        Some(c) if *c == oids::P256 => "EC P-256".to_owned(),
        Some(c) if *c == oids::P384 => "EC P-384".to_owned(),
        Some(c) if *c == oids::P521 => "EC P-521".to_owned(),
        Some(c) if *c == oids::SECP256K1 => "EC secp256k1".to_owned(),
        Some(c) => format!("EC curve {c}"),
        None => "EC (no named curve)".to_owned(),
    };
    match *alg {
        a if a == oids::RSA_ENCRYPTION => "RSA".to_owned(),
        a if a == oids::RSA_PSS => "RSA-PSS".to_owned(),
        a if a == oids::EC_PUBLIC_KEY => curve_name(curve),
        a if a == oids::ED25519 => "Ed25519".to_owned(),
        a if a == oids::ED448 => "Ed448".to_owned(),
        a if a == oids::X25519 => "X25519".to_owned(),
        a if a == oids::X448 => "X448".to_owned(),
        a if a == oids::DSA => "DSA".to_owned(),
        a => format!("algorithm {a}"),
    }
}

/// Number of significant bits in a big-endian unsigned integer.
fn bit_length(bytes: &[u8]) -> usize {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

/// The kind of key a SubjectPublicKeyInfo holds.
fn spki_kind(spki: &SubjectPublicKeyInfoOwned) -> KeyKind {
    let alg = spki.algorithm.oid;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<der::oid::ObjectIdentifier>().ok());
    if alg == oids::RSA_ENCRYPTION {
        let bits = spki
            .subject_public_key
            .as_bytes()
            .and_then(|b| pkcs1::RsaPublicKey::from_der(b).ok())
            .map(|k| bit_length(k.modulus.as_bytes()))
            .unwrap_or(0);
        return KeyKind::Rsa { bits };
    }
    if alg == oids::EC_PUBLIC_KEY {
        match curve {
            Some(c) if c == oids::P256 => return KeyKind::EcP256,
            Some(c) if c == oids::P384 => return KeyKind::EcP384,
            _ => {}
        }
    }
    KeyKind::Other(algorithm_name(&alg, curve.as_ref()))
}

/// Unix seconds of an X.509 time (saturating at `i64::MAX`).
fn unix_of(time: x509_cert::time::Time) -> i64 {
    i64::try_from(time.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// RFC 3339 text for Unix seconds, for messages.
fn fmt_unix(secs: i64) -> String {
    u64::try_from(secs)
        .ok()
        .and_then(|s| der::DateTime::from_unix_duration(std::time::Duration::from_secs(s)).ok())
        .map(|d| d.to_string())
        .unwrap_or_else(|| format!("@{secs}"))
}

/// The first common name of a distinguished name, decoded from the usual string types.
fn common_name(name: &x509_cert::name::Name) -> Option<String> {
    name.0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == oids::COMMON_NAME)
        .and_then(|atv| {
            let v = &atv.value;
            Utf8StringRef::try_from(v)
                .map(|s| s.as_str().to_owned())
                .or_else(|_| PrintableStringRef::try_from(v).map(|s| s.as_str().to_owned()))
                .or_else(|_| Ia5StringRef::try_from(v).map(|s| s.as_str().to_owned()))
                .or_else(|_| TeletexStringRef::try_from(v).map(|s| s.as_str().to_owned()))
                .ok()
        })
}

/// Summarizes a certificate.
fn summarize(cert: &Certificate) -> CertSummary {
    let tbs = &cert.tbs_certificate;
    CertSummary {
        subject_cn: common_name(&tbs.subject),
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        serial: tbs
            .serial_number
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect(),
        not_before: unix_of(tbs.validity.not_before),
        not_after: unix_of(tbs.validity.not_after),
        key_kind: spki_kind(&tbs.subject_public_key_info),
    }
}

/// Why a certificate is not valid at `now`, if it is not.
fn date_problem(summary: &CertSummary, now: i64) -> Option<&'static str> {
    if now < summary.not_before {
        Some("not yet valid")
    } else if now > summary.not_after {
        Some("expired")
    } else {
        None
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0xff]), 9);
    }

    #[test]
    fn rfc3339_times() {
        assert_eq!(fmt_unix(0), "1970-01-01T00:00:00Z");
        assert_eq!(fmt_unix(-5), "@-5");
    }

    #[test]
    fn key_kind_display() {
        assert_eq!(KeyKind::Rsa { bits: 2048 }.to_string(), "RSA 2048-bit");
        assert_eq!(KeyKind::EcP384.to_string(), "ECDSA P-384");
    }
}
