//! Typed errors for loading signing identities, signing and verifying.
//!
//! Every variant carries a stable diagnostic code (`bsic::sign::…` for loading and
//! signing, `bsic::verify::…` for verification) and a help line. No variant ever
//! carries a password or key bytes.

use std::path::PathBuf;

use miette::Diagnostic;
use thiserror::Error;

/// Errors raised while loading a signing identity, loading a CA bundle or signing.
#[derive(Debug, Error, Diagnostic)]
#[non_exhaustive]
pub enum SignError {
    /// A file could not be read: missing, unreadable, or far larger than any certificate or
    /// key (the cause, shown under the message, says which).
    #[error("cannot read {}", path.display())]
    #[diagnostic(
        code("bsic::sign::io"),
        help(
            "give the PEM or DER certificate, key or chain file, or the PKCS#12 archive, readable by this user (such files are a few kilobytes; more than 1 MiB is refused)"
        )
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A file was read but its content could not be parsed.
    #[error("{} is not a valid {what}: {detail}", path.display())]
    #[diagnostic(
        code("bsic::sign::malformed"),
        help(
            "expected PEM (`-----BEGIN …-----`) or DER; inspect it with `openssl x509 -in FILE -text` or `openssl pkey -in FILE -noout`"
        )
    )]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What the file was expected to hold ("certificate", "private key", …).
        what: &'static str,
        /// What went wrong.
        detail: String,
    },

    /// The certificate file holds no certificate.
    #[error("{} contains no certificate", path.display())]
    #[diagnostic(
        code("bsic::sign::no-certificate"),
        help("the file must contain at least one `-----BEGIN CERTIFICATE-----` block")
    )]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },

    /// The key file (or PKCS#12 archive) holds no private key.
    #[error("{} contains no private key", path.display())]
    #[diagnostic(
        code("bsic::sign::no-private-key"),
        help(
            "expected `BEGIN PRIVATE KEY`, `BEGIN RSA PRIVATE KEY` or `BEGIN EC PRIVATE KEY`, or a PKCS#12 file exported with its key"
        )
    )]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },

    /// The private key is password-protected PEM.
    #[error("{}: encrypted key not supported, decrypt it or use PKCS#12", path.display())]
    #[diagnostic(
        code("bsic::sign::encrypted-key"),
        help(
            "decrypt it with `openssl pkey -in KEY -out KEY.dec`, or bundle key and certificate with `openssl pkcs12 -export` and pass the password"
        )
    )]
    EncryptedKey {
        /// The file.
        path: PathBuf,
    },

    /// The PKCS#12 password is wrong (the archive's integrity check failed).
    #[error("{}: wrong PKCS#12 password (integrity check failed)", path.display())]
    #[diagnostic(
        code("bsic::sign::wrong-password"),
        help(
            "check the password; `openssl pkcs12 -in FILE -info -noout` asks for it and tells whether it is right"
        )
    )]
    WrongPassword {
        /// The PKCS#12 file.
        path: PathBuf,
    },

    /// No usable PKCS#12 password source.
    #[error("no PKCS#12 password: {message}")]
    #[diagnostic(
        code("bsic::sign::no-password"),
        help(
            "pass --p12-password-env VAR or --p12-password-file FILE (or set them in bsic.kdl's `signing` block); passwords are never taken on the command line"
        )
    )]
    Password {
        /// What went wrong, without the password.
        message: String,
    },

    /// The PKCS#12 archive could not be decoded.
    #[error("{}: cannot read PKCS#12 archive: {detail}", path.display())]
    #[diagnostic(
        code("bsic::sign::pkcs12"),
        help(
            "re-export it with `openssl pkcs12 -export` (the OpenSSL 3 default and `-legacy` are both supported)"
        )
    )]
    Pkcs12 {
        /// The PKCS#12 file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },

    /// The key type is not supported for signing.
    #[error("{}: unsupported key type {kind}", path.display())]
    #[diagnostic(
        code("bsic::sign::unsupported-key"),
        help("use an RSA key of 2048 to 4096 bits, or an ECDSA key on P-256 or P-384")
    )]
    UnsupportedKey {
        /// The file holding the key.
        path: PathBuf,
        /// The key type, e.g. `Ed25519`, `RSA 1024-bit`, `EC P-521`, `DSA`.
        kind: String,
    },

    /// The private key does not belong to the certificate.
    #[error("the private key in {} does not match the certificate in {}", key.display(), cert.display())]
    #[diagnostic(
        code("bsic::sign::key-mismatch"),
        help(
            "compare `openssl x509 -in CERT -noout -pubkey` with `openssl pkey -in KEY -pubout`: they must be identical"
        )
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },

    /// A certificate is expired or not yet valid at the given time.
    #[error(
        "certificate `{subject}` is {state} at {now_text}: valid from {not_before_text} to {not_after_text}"
    )]
    #[diagnostic(
        code("bsic::sign::certificate-dates"),
        help(
            "renew the certificate, check the clock, or allow it explicitly (`allow_invalid_dates`) for tests"
        )
    )]
    CertificateDates {
        /// Subject of the offending certificate.
        subject: String,
        /// `expired` or `not yet valid`.
        state: &'static str,
        /// Unix seconds the check was made at.
        now: i64,
        /// `now` as RFC 3339.
        now_text: String,
        /// notBefore as RFC 3339.
        not_before_text: String,
        /// notAfter as RFC 3339.
        not_after_text: String,
    },

    /// The signing time cannot be encoded (before 1970 or after 9999).
    #[error("signing time {time} cannot be encoded")]
    #[diagnostic(
        code("bsic::sign::signing-time"),
        help("SOURCE_DATE_EPOCH must be a Unix time between 1970 and 9999")
    )]
    SigningTime {
        /// The rejected Unix time.
        time: i64,
    },

    /// The CMS structure could not be built or the signature could not be computed.
    #[error("cannot build the CMS signature: {detail}")]
    #[diagnostic(
        code("bsic::sign::cms"),
        help(
            "this is a bug or an unusable key; please report it with the key type (never the key)"
        )
    )]
    Cms {
        /// What went wrong.
        detail: String,
    },
}

/// Errors raised while verifying a CMS SignedData.
#[derive(Debug, Error, Diagnostic)]
#[non_exhaustive]
pub enum VerifyError {
    /// The input is not a DER CMS SignedData structure we can read.
    #[error("not a readable CMS SignedData: {detail}")]
    #[diagnostic(
        code("bsic::verify::malformed"),
        help(
            "the input must be DER (a signed .mobileconfig); inspect it with `openssl cms -cmsout -print -inform DER -in FILE`"
        )
    )]
    Malformed {
        /// What went wrong.
        detail: String,
    },

    /// The signature is detached, or the content is not id-data.
    #[error("unsupported content: {detail}")]
    #[diagnostic(
        code("bsic::verify::content"),
        help("only attached id-data content (as in signed configuration profiles) is supported")
    )]
    Content {
        /// What went wrong.
        detail: String,
    },

    /// An algorithm is not supported.
    #[error("unsupported {what} algorithm {oid}")]
    #[diagnostic(
        code("bsic::verify::unsupported-algorithm"),
        help(
            "supported: SHA-256/384/512 digests, RSA PKCS#1 v1.5 and ECDSA P-256/P-384 signatures"
        )
    )]
    UnsupportedAlgorithm {
        /// `digest`, `signature` or `public key`.
        what: &'static str,
        /// The dotted OID.
        oid: String,
    },

    /// There is not exactly one signer.
    #[error("expected exactly one signer, found {count}")]
    #[diagnostic(
        code("bsic::verify::signer-count"),
        help("configuration profiles carry exactly one SignerInfo")
    )]
    SignerCount {
        /// How many SignerInfos were found.
        count: usize,
    },

    /// The signer's certificate is not among the included certificates.
    #[error("the signer's certificate is not included in the signature")]
    #[diagnostic(
        code("bsic::verify::signer-certificate-missing"),
        help("re-sign with the signer certificate included")
    )]
    SignerCertificateMissing,

    /// A required signed attribute is missing or malformed.
    #[error("signed attribute {name} is missing or malformed")]
    #[diagnostic(
        code("bsic::verify::attribute"),
        help("the signature was not produced by a conforming CMS signer")
    )]
    Attribute {
        /// The attribute's name.
        name: &'static str,
    },

    /// The content does not match the signed message digest (content tampered).
    #[error("the content does not match the signed message digest")]
    #[diagnostic(
        code("bsic::verify::digest-mismatch"),
        help("the content was modified after signing; sign it again")
    )]
    DigestMismatch,

    /// The signature does not verify with the signer's public key.
    #[error("the signature does not verify with the signer's public key")]
    #[diagnostic(
        code("bsic::verify::bad-signature"),
        help(
            "the signed attributes or the signature were modified, or the wrong certificate is included"
        )
    )]
    BadSignature,

    /// A certificate on the chain is outside its validity period.
    #[error(
        "certificate `{subject}` is {state} at {now_text}: valid from {not_before_text} to {not_after_text}"
    )]
    #[diagnostic(
        code("bsic::verify::certificate-dates"),
        help("the certificate must be valid at the verification time")
    )]
    CertificateDates {
        /// Subject of the offending certificate.
        subject: String,
        /// `expired` or `not yet valid`.
        state: &'static str,
        /// notBefore as RFC 3339.
        not_before_text: String,
        /// notAfter as RFC 3339.
        not_after_text: String,
        /// The verification time as RFC 3339.
        now_text: String,
    },
}

/// `cms::builder::Error` does not implement `std::error::Error`: keep its text.
impl From<cms::builder::Error> for SignError {
    fn from(err: cms::builder::Error) -> Self {
        SignError::Cms {
            detail: err.to_string(),
        }
    }
}

impl From<der::Error> for SignError {
    fn from(err: der::Error) -> Self {
        SignError::Cms {
            detail: format!("DER encoding: {err}"),
        }
    }
}

/// Signing goes ahead, but something about the identity deserves attention. Printed as
/// warnings by the command line; never carries key bytes or a password.
#[derive(Debug, Clone, PartialEq, Eq, Error, Diagnostic)]
#[non_exhaustive]
pub enum SignWarning {
    /// A file holding a private key or a password can be read by other users.
    #[error("{} ({what}) is readable by group or others (mode {mode:03o})", path.display())]
    #[diagnostic(
        code("bsic::sign::readable-secret"),
        severity(Warning),
        help(
            "anyone who can read it can sign profiles your devices trust; `chmod 600` it (or keep it in a CI secret)"
        )
    )]
    ReadableSecret {
        /// The file.
        path: PathBuf,
        /// What it holds: "private key" or "PKCS#12 password".
        what: &'static str,
        /// Its permission bits.
        mode: u32,
    },

    /// A chain certificate is not on the path from the signer certificate upwards.
    #[error("chain certificate `{subject}` does not chain to the signer `{signer}`")]
    #[diagnostic(
        code("bsic::sign::unchained-certificate"),
        severity(Warning),
        help(
            "it neither issued the signer certificate nor one of its issuers (subject/issuer names and signatures checked), so devices cannot use it to trust the profile; give --chain the signer's intermediate CA certificates"
        )
    )]
    UnchainedCertificate {
        /// The stray certificate's subject.
        subject: String,
        /// The signer certificate's subject.
        signer: String,
    },

    /// Signing with `--allow-invalid-certificate-dates`.
    #[error("signing with --allow-invalid-certificate-dates{}", match problems.as_str() {
        "" => String::new(),
        p => format!(": {p}"),
    })]
    #[diagnostic(
        code("bsic::sign::invalid-dates-allowed"),
        severity(Warning),
        help(
            "devices refuse a profile whose signer certificate is expired or not yet valid; use this only for tests, and renew the certificate for production"
        )
    )]
    InvalidDatesAllowed {
        /// The certificates outside their validity at the signing clock, or empty.
        problems: String,
    },
}

#[cfg(test)]
impl crate::diag::Examples for SignError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::Io {
                path: "x".into(),
                source: std::io::Error::other("x"),
            },
            Self::Malformed {
                path: "x".into(),
                what: "x",
                detail: "x".into(),
            },
            Self::NoCertificate { path: "x".into() },
            Self::NoPrivateKey { path: "x".into() },
            Self::EncryptedKey { path: "x".into() },
            Self::WrongPassword { path: "x".into() },
            Self::Password {
                message: "x".into(),
            },
            Self::Pkcs12 {
                path: "x".into(),
                detail: "x".into(),
            },
            Self::UnsupportedKey {
                path: "x".into(),
                kind: "x".into(),
            },
            Self::KeyMismatch {
                cert: "x".into(),
                key: "x".into(),
            },
            Self::CertificateDates {
                subject: "x".into(),
                state: "x",
                now: 0,
                now_text: "x".into(),
                not_before_text: "x".into(),
                not_after_text: "x".into(),
            },
            Self::SigningTime { time: 0 },
            Self::Cms { detail: "x".into() },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::Io { .. }
                | Self::Malformed { .. }
                | Self::NoCertificate { .. }
                | Self::NoPrivateKey { .. }
                | Self::EncryptedKey { .. }
                | Self::WrongPassword { .. }
                | Self::Password { .. }
                | Self::Pkcs12 { .. }
                | Self::UnsupportedKey { .. }
                | Self::KeyMismatch { .. }
                | Self::CertificateDates { .. }
                | Self::SigningTime { .. }
                | Self::Cms { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
impl crate::diag::Examples for VerifyError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::Malformed { detail: "x".into() },
            Self::Content { detail: "x".into() },
            Self::UnsupportedAlgorithm {
                what: "x",
                oid: "x".into(),
            },
            Self::SignerCount { count: 0 },
            Self::SignerCertificateMissing,
            Self::Attribute { name: "x" },
            Self::DigestMismatch,
            Self::BadSignature,
            Self::CertificateDates {
                subject: "x".into(),
                state: "x",
                not_before_text: "x".into(),
                not_after_text: "x".into(),
                now_text: "x".into(),
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::Malformed { .. }
                | Self::Content { .. }
                | Self::UnsupportedAlgorithm { .. }
                | Self::SignerCount { .. }
                | Self::SignerCertificateMissing { .. }
                | Self::Attribute { .. }
                | Self::DigestMismatch { .. }
                | Self::BadSignature { .. }
                | Self::CertificateDates { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
impl crate::diag::Examples for SignWarning {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::ReadableSecret {
                path: "x".into(),
                what: "x",
                mode: 0,
            },
            Self::UnchainedCertificate {
                subject: "x".into(),
                signer: "x".into(),
            },
            Self::InvalidDatesAllowed {
                problems: "x".into(),
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::ReadableSecret { .. }
                | Self::UnchainedCertificate { .. }
                | Self::InvalidDatesAllowed { .. } => {}
            }
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let e = SignError::KeyMismatch {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        };
        assert_eq!(
            e.code().map(|c| c.to_string()).as_deref(),
            Some("bsic::sign::key-mismatch")
        );
        assert!(e.help().is_some());
        let v = VerifyError::DigestMismatch;
        assert_eq!(
            v.code().map(|c| c.to_string()).as_deref(),
            Some("bsic::verify::digest-mismatch")
        );
    }

    #[test]
    fn encrypted_key_message() {
        let e = SignError::EncryptedKey {
            path: "k.pem".into(),
        };
        assert_eq!(
            e.to_string(),
            "k.pem: encrypted key not supported, decrypt it or use PKCS#12"
        );
    }
}
