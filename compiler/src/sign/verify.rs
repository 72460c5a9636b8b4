//! Verifying a CMS SignedData produced by [`Signer::sign`](super::Signer::sign) (or by
//! any conforming signer using the same algorithms).
//!
//! Steps: decode the DER; take the attached id-data content; check the signed
//! message-digest (and content-type) attributes against the content; verify the
//! signature over the signed attributes with the signer certificate's key; build
//! a chain from the signer through the included certificates to a trusted CA,
//! verifying each link's signature; check every certificate on that path is
//! within its validity period at `now`.
//!
//! Signature verification uses AWS-LC (RSA PKCS#1 v1.5 with SHA-256/384/512,
//! ECDSA P-256/P-384 with SHA-256/384/512).

use aws_lc_rs::signature::{self as lc, UnparsedPublicKey, VerificationAlgorithm};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::oid::{AssociatedOid, ObjectIdentifier};
use der::{Decode, Encode};
use sha2::Digest as _;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, SubjectKeyIdentifier};
use x509_cert::time::Time;

use super::{CertSummary, VerifyError, date_problem, fmt_unix, oids, summarize, unix_of};

/// What to trust and when.
#[derive(Debug, Clone, Default)]
pub struct TrustOptions {
    /// Trusted CA certificates (see [`load_ca_bundle`](super::load_ca_bundle)).
    pub ca: Vec<Certificate>,
    /// The time certificates must be valid at, Unix seconds.
    pub now: i64,
}

/// How the signer certificate relates to the trusted CAs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStatus {
    /// A chain with valid signatures leads from the signer to a CA in `ca`.
    Trusted,
    /// The signer certificate is self-signed and is not itself one of the trusted CAs.
    SelfSigned,
    /// No chain to a trusted CA could be built.
    Untrusted {
        /// Why, in words.
        reason: String,
    },
}

/// A verified signature.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The signed content, exactly as signed.
    pub content: Vec<u8>,
    /// The signer certificate.
    pub signer: CertSummary,
    /// Whether the signer chains to a trusted CA.
    pub chain_status: ChainStatus,
    /// A certificate on the verified path (signer, intermediates, anchor) expires
    /// within 30 days of `now`.
    pub expires_soon: bool,
    /// The signingTime attribute, Unix seconds, if present.
    pub signing_time: Option<i64>,
}

const THIRTY_DAYS: i64 = 30 * 24 * 60 * 60;

fn malformed(detail: impl Into<String>) -> VerifyError {
    VerifyError::Malformed {
        detail: detail.into(),
    }
}

/// Verifies a DER CMS SignedData with attached content; see the module docs.
///
/// A bad digest, a bad signature or a certificate outside its validity period is an
/// error; a chain that does not reach `trust.ca` is reported in
/// [`Verified::chain_status`] for the caller to judge.
pub fn verify(der: &[u8], trust: &TrustOptions) -> Result<Verified, VerifyError> {
    let info = ContentInfo::from_der(der).map_err(|e| malformed(format!("ContentInfo: {e}")))?;
    if info.content_type != oids::ID_SIGNED_DATA {
        return Err(malformed(format!(
            "content type {} is not signedData",
            info.content_type
        )));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| malformed(format!("SignedData: {e}")))?;

    let encap = &signed.encap_content_info;
    if encap.econtent_type != oids::ID_DATA {
        return Err(VerifyError::Content {
            detail: format!("eContentType {} is not id-data", encap.econtent_type),
        });
    }
    let Some(econtent) = &encap.econtent else {
        return Err(VerifyError::Content {
            detail: "detached signature (no eContent)".to_owned(),
        });
    };
    let content = econtent
        .decode_as::<OctetString>()
        .map_err(|e| malformed(format!("eContent: {e}")))?
        .into_bytes();

    let signer_infos = &signed.signer_infos.0;
    if signer_infos.len() != 1 {
        return Err(VerifyError::SignerCount {
            count: signer_infos.len(),
        });
    }
    let Some(signer_info) = signer_infos.get(0) else {
        return Err(VerifyError::SignerCount { count: 0 });
    };

    let pool: Vec<&Certificate> = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(cert) => Some(cert),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    let signer_cert = pool
        .iter()
        .copied()
        .find(|c| identifies(&signer_info.sid, c))
        .ok_or(VerifyError::SignerCertificateMissing)?;

    let signing_time = check_signer_info(signer_info, signer_cert, &content)?;

    let (path, chain_status) = build_chain(signer_cert, &pool, &trust.ca);
    let mut earliest_expiry = i64::MAX;
    for cert in &path {
        let summary = summarize(cert);
        if let Some(state) = date_problem(&summary, trust.now) {
            return Err(VerifyError::CertificateDates {
                subject: summary.subject,
                state,
                not_before_text: fmt_unix(summary.not_before),
                not_after_text: fmt_unix(summary.not_after),
                now_text: fmt_unix(trust.now),
            });
        }
        earliest_expiry = earliest_expiry.min(summary.not_after);
    }

    Ok(Verified {
        content,
        signer: summarize(signer_cert),
        chain_status,
        expires_soon: earliest_expiry.saturating_sub(trust.now) <= THIRTY_DAYS,
        signing_time,
    })
}

/// Whether `cert` is the one a SignerIdentifier names.
fn identifies(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    let tbs = &cert.tbs_certificate;
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(ias) => {
            ias.issuer == tbs.issuer && ias.serial_number == tbs.serial_number
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
            .extensions
            .iter()
            .flatten()
            .filter(|e| e.extn_id == SubjectKeyIdentifier::OID)
            .filter_map(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).ok())
            .any(|own| own == *ski),
    }
}

/// The single value of a signed attribute.
fn single_attribute<'a>(
    info: &'a SignerInfo,
    oid: ObjectIdentifier,
    name: &'static str,
) -> Result<Option<&'a der::Any>, VerifyError> {
    let Some(attrs) = &info.signed_attrs else {
        return Ok(None);
    };
    let mut matching = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = matching.next() else {
        return Ok(None);
    };
    if matching.next().is_some() || attr.values.len() != 1 {
        return Err(VerifyError::Attribute { name });
    }
    Ok(attr.values.get(0))
}

/// Checks digest attributes and the signature; returns the signing time if present.
fn check_signer_info(
    info: &SignerInfo,
    signer: &Certificate,
    content: &[u8],
) -> Result<Option<i64>, VerifyError> {
    let digest_oid = info.digest_alg.oid;
    let digest = match digest_oid {
        o if o == oids::SHA256 => sha2::Sha256::digest(content).to_vec(),
        o if o == oids::SHA384 => sha2::Sha384::digest(content).to_vec(),
        o if o == oids::SHA512 => sha2::Sha512::digest(content).to_vec(),
        o => {
            return Err(VerifyError::UnsupportedAlgorithm {
                what: "digest",
                oid: o.to_string(),
            });
        }
    };

    let (signed_message, signing_time) = match &info.signed_attrs {
        Some(attrs) => {
            let content_type = single_attribute(info, oids::CONTENT_TYPE, "content-type")?
                .and_then(|v| v.decode_as::<ObjectIdentifier>().ok())
                .ok_or(VerifyError::Attribute {
                    name: "content-type",
                })?;
            if content_type != oids::ID_DATA {
                return Err(VerifyError::Attribute {
                    name: "content-type",
                });
            }
            let message_digest = single_attribute(info, oids::MESSAGE_DIGEST, "message-digest")?
                .and_then(|v| v.decode_as::<OctetString>().ok())
                .ok_or(VerifyError::Attribute {
                    name: "message-digest",
                })?;
            if message_digest.as_bytes() != digest.as_slice() {
                return Err(VerifyError::DigestMismatch);
            }
            let signing_time = match single_attribute(info, oids::SIGNING_TIME, "signing-time")? {
                Some(v) => Some(unix_of(
                    v.to_der().and_then(|d| Time::from_der(&d)).map_err(|_| {
                        VerifyError::Attribute {
                            name: "signing-time",
                        }
                    })?,
                )),
                None => None,
            };
            // The signature covers the DER of the attributes as a SET OF (RFC 5652 §5.4).
            let der = attrs
                .to_der()
                .map_err(|e| malformed(format!("signed attributes: {e}")))?;
            (der, signing_time)
        }
        None => (content.to_vec(), None),
    };

    let spki = &signer.tbs_certificate.subject_public_key_info;
    let algorithm = signature_algorithm(&info.signature_algorithm.oid, Some(&digest_oid), spki)?;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| malformed("signer public key is not a whole number of bytes"))?;
    UnparsedPublicKey::new(algorithm, key)
        .verify(&signed_message, info.signature.as_bytes())
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(signing_time)
}

/// The AWS-LC verification algorithm for a signature algorithm OID (plus, for the
/// bare `rsaEncryption`/`id-ecPublicKey` forms CMS allows, the digest OID) and key.
fn signature_algorithm(
    sig_oid: &ObjectIdentifier,
    digest_oid: Option<&ObjectIdentifier>,
    spki: &spki::SubjectPublicKeyInfoOwned,
) -> Result<&'static dyn VerificationAlgorithm, VerifyError> {
    #[derive(Clone, Copy, PartialEq)]
    enum Hash {
        Sha256,
        Sha384,
        Sha512,
    }
    let unsupported = || VerifyError::UnsupportedAlgorithm {
        what: "signature",
        oid: sig_oid.to_string(),
    };
    let hash_of_digest = || match digest_oid {
        Some(d) if *d == oids::SHA256 => Ok(Hash::Sha256),
        Some(d) if *d == oids::SHA384 => Ok(Hash::Sha384),
        Some(d) if *d == oids::SHA512 => Ok(Hash::Sha512),
        _ => Err(unsupported()),
    };
    let (is_rsa, hash) = match *sig_oid {
        o if o == oids::RSA_ENCRYPTION => (true, hash_of_digest()?),
        o if o == oids::SHA256_WITH_RSA => (true, Hash::Sha256),
        o if o == oids::SHA384_WITH_RSA => (true, Hash::Sha384),
        o if o == oids::SHA512_WITH_RSA => (true, Hash::Sha512),
        o if o == oids::EC_PUBLIC_KEY => (false, hash_of_digest()?),
        o if o == oids::ECDSA_SHA256 => (false, Hash::Sha256),
        o if o == oids::ECDSA_SHA384 => (false, Hash::Sha384),
        o if o == oids::ECDSA_SHA512 => (false, Hash::Sha512),
        _ => return Err(unsupported()),
    };
    let key_oid = spki.algorithm.oid;
    if is_rsa {
        if key_oid != oids::RSA_ENCRYPTION {
            return Err(VerifyError::BadSignature);
        }
        return Ok(match hash {
            Hash::Sha256 => &lc::RSA_PKCS1_2048_8192_SHA256,
            Hash::Sha384 => &lc::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &lc::RSA_PKCS1_2048_8192_SHA512,
        });
    }
    if key_oid != oids::EC_PUBLIC_KEY {
        return Err(VerifyError::BadSignature);
    }
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    match (curve, hash) {
        (Some(c), Hash::Sha256) if c == oids::P256 => Ok(&lc::ECDSA_P256_SHA256_ASN1),
        (Some(c), Hash::Sha384) if c == oids::P256 => Ok(&lc::ECDSA_P256_SHA384_ASN1),
        (Some(c), Hash::Sha512) if c == oids::P256 => Ok(&lc::ECDSA_P256_SHA512_ASN1),
        (Some(c), Hash::Sha256) if c == oids::P384 => Ok(&lc::ECDSA_P384_SHA256_ASN1),
        (Some(c), Hash::Sha384) if c == oids::P384 => Ok(&lc::ECDSA_P384_SHA384_ASN1),
        (Some(c), Hash::Sha512) if c == oids::P384 => Ok(&lc::ECDSA_P384_SHA512_ASN1),
        (c, _) => Err(VerifyError::UnsupportedAlgorithm {
            what: "public key",
            oid: c.map_or_else(|| key_oid.to_string(), |c| c.to_string()),
        }),
    }
}

/// Whether `issuer` signed `child`.
fn signed_by(child: &Certificate, issuer: &Certificate) -> bool {
    if child.tbs_certificate.issuer != issuer.tbs_certificate.subject {
        return false;
    }
    let spki = &issuer.tbs_certificate.subject_public_key_info;
    let Ok(algorithm) = signature_algorithm(&child.signature_algorithm.oid, None, spki) else {
        return false;
    };
    let (Some(key), Some(signature), Ok(tbs)) = (
        spki.subject_public_key.as_bytes(),
        child.signature.as_bytes(),
        child.tbs_certificate.to_der(),
    ) else {
        return false;
    };
    UnparsedPublicKey::new(algorithm, key)
        .verify(&tbs, signature)
        .is_ok()
}

/// The certificates of `chain` after the first (the signer) that are not on the path from
/// the signer upwards, where each step is a certificate whose subject is the previous one's
/// issuer and whose key verifies the previous one's signature.
pub(super) fn unchained(chain: &[Certificate]) -> Vec<&Certificate> {
    let Some((signer, rest)) = chain.split_first() else {
        return Vec::new();
    };
    let mut path: Vec<&Certificate> = vec![signer];
    // Each step adds a distinct certificate, so the loop ends.
    while let Some(&current) = path.last() {
        if signed_by(current, current) {
            break;
        }
        match rest
            .iter()
            .find(|c| !path.contains(c) && signed_by(current, c))
        {
            Some(issuer) => path.push(issuer),
            None => break,
        }
    }
    rest.iter().filter(|c| !path.contains(c)).collect()
}

/// The basicConstraints cA flag, if the extension is present and readable.
fn ca_flag(cert: &Certificate) -> Option<bool> {
    cert.tbs_certificate
        .extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == BasicConstraints::OID)
        .and_then(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
        .map(|bc| bc.ca)
}

fn subject_of(cert: &Certificate) -> String {
    cert.tbs_certificate.subject.to_string()
}

/// Builds the path signer → … → anchor. Returns the certificates on the path (the
/// anchor included when one was reached) and the verdict.
fn build_chain<'a>(
    signer: &'a Certificate,
    pool: &[&'a Certificate],
    anchors: &'a [Certificate],
) -> (Vec<&'a Certificate>, ChainStatus) {
    let mut path: Vec<&Certificate> = vec![signer];
    // Each step adds a distinct certificate, so the loop ends.
    while let Some(&current) = path.last() {
        if anchors.iter().any(|a| a == current) {
            return (path, ChainStatus::Trusted);
        }
        if let Some(anchor) = anchors
            .iter()
            .find(|a| ca_flag(a) != Some(false) && signed_by(current, a))
        {
            path.push(anchor);
            return (path, ChainStatus::Trusted);
        }
        if signed_by(current, current) {
            let status = if path.len() == 1 {
                ChainStatus::SelfSigned
            } else {
                ChainStatus::Untrusted {
                    reason: format!(
                        "the chain ends at the root `{}`, which is not a trusted CA",
                        subject_of(current)
                    ),
                }
            };
            return (path, status);
        }
        let next = pool
            .iter()
            .copied()
            .find(|c| !path.contains(c) && ca_flag(c) == Some(true) && signed_by(current, c));
        match next {
            Some(issuer) => path.push(issuer),
            None => {
                let reason = format!(
                    "no trusted CA or included CA certificate issued `{}` (issuer `{}`)",
                    subject_of(current),
                    current.tbs_certificate.issuer
                );
                return (path, ChainStatus::Untrusted { reason });
            }
        }
    }
    (
        path,
        ChainStatus::Untrusted {
            reason: "empty chain".to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::load_ca_bundle;
    use super::super::tests::{find, fixtures, load_pem, now, openssl_cms_sign};
    use super::*;

    const PLIST: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict><key>PayloadType</key><string>Configuration</string></dict></plist>";

    fn trust(ca: &str) -> TrustOptions {
        TrustOptions {
            ca: load_ca_bundle(&fixtures().path(ca)).unwrap(),
            now: now(),
        }
    }

    #[test]
    fn accepts_own_signatures_for_each_key_kind() {
        for (cert, key, chain) in [
            ("rsa.pem", "rsa.key", Some("int.pem")),
            ("rsa4096.pem", "rsa4096.key", None),
            ("p256.pem", "p256.key", None),
            ("p384.pem", "p384.key", None),
        ] {
            let signer = load_pem(cert, key, chain);
            let der = signer.sign(PLIST, 1_700_000_000).unwrap();
            let v = verify(&der, &trust("ca.pem")).unwrap_or_else(|e| panic!("{cert}: {e}"));
            assert_eq!(v.content, PLIST);
            assert_eq!(v.chain_status, ChainStatus::Trusted, "{cert}");
            assert_eq!(v.signer, signer.certificate_summary());
            assert_eq!(v.signing_time, Some(1_700_000_000));
            assert!(!v.expires_soon);

            let other = verify(&der, &trust("other-ca.pem")).unwrap();
            assert!(
                matches!(other.chain_status, ChainStatus::Untrusted { .. }),
                "{cert}: unrelated CA → {:?}",
                other.chain_status
            );
        }
    }

    #[test]
    fn missing_intermediate_is_untrusted() {
        let signer = load_pem("rsa.pem", "rsa.key", None);
        let der = signer.sign(PLIST, 1_700_000_000).unwrap();
        let v = verify(&der, &trust("ca.pem")).unwrap();
        match v.chain_status {
            ChainStatus::Untrusted { reason } => {
                assert!(reason.contains("bsic Test Intermediate"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn intermediate_as_anchor_is_trusted() {
        let signer = load_pem("rsa.pem", "rsa.key", None);
        let der = signer.sign(PLIST, 1_700_000_000).unwrap();
        let v = verify(&der, &trust("int.pem")).unwrap();
        assert_eq!(v.chain_status, ChainStatus::Trusted);
    }

    #[test]
    fn self_signed_and_no_ca() {
        let signer = load_pem("self.pem", "self.key", None);
        let der = signer.sign(PLIST, 1_700_000_000).unwrap();
        let none = TrustOptions {
            ca: Vec::new(),
            now: now(),
        };
        assert_eq!(
            verify(&der, &none).unwrap().chain_status,
            ChainStatus::SelfSigned
        );
        // Trusting the self-signed certificate itself makes it an anchor.
        assert_eq!(
            verify(&der, &trust("self.pem")).unwrap().chain_status,
            ChainStatus::Trusted
        );
        // A CA-issued signer without any CA given is untrusted, not self-signed.
        let der = load_pem("p256.pem", "p256.key", None)
            .sign(PLIST, 1)
            .unwrap();
        assert!(matches!(
            verify(&der, &none).unwrap().chain_status,
            ChainStatus::Untrusted { .. }
        ));
    }

    #[test]
    fn tampered_content_fails() {
        for (cert, key) in [
            ("rsa.pem", "rsa.key"),
            ("p256.pem", "p256.key"),
            ("p384.pem", "p384.key"),
        ] {
            let mut der = load_pem(cert, key, Some("int.pem"))
                .sign(PLIST, 1_700_000_000)
                .unwrap();
            let at = find(&der, b"Configuration").unwrap();
            der[at] ^= 0x20;
            let err = verify(&der, &trust("ca.pem")).unwrap_err();
            assert!(
                matches!(err, VerifyError::DigestMismatch),
                "{cert}: {err:?}"
            );
        }
    }

    #[test]
    fn tampered_signed_attributes_fail() {
        let signer = load_pem("p256.pem", "p256.key", None);
        let mut der = signer.sign(PLIST, 1_700_000_000).unwrap();
        // 1_700_000_000 is 2023-11-14T22:13:20Z: alter the signing time's year digit.
        let at = find(&der, b"231114221320Z").unwrap();
        der[at + 1] = b'4';
        let err = verify(&der, &trust("ca.pem")).unwrap_err();
        assert!(matches!(err, VerifyError::BadSignature), "{err:?}");
    }

    #[test]
    fn expired_signer_fails_and_expiry_warning() {
        let f = fixtures();
        let signer = super::super::Signer::load(
            &super::super::KeySource::Pem {
                cert: f.path("expired.pem"),
                key: f.path("p256.key"),
                chain: None,
            },
            &super::super::LoadOptions {
                now: now(),
                allow_invalid_dates: true,
            },
        )
        .unwrap();
        let der = signer.sign(PLIST, 1_700_000_000).unwrap();
        let err = verify(&der, &trust("ca.pem")).unwrap_err();
        assert!(
            matches!(err, VerifyError::CertificateDates { .. }),
            "{err:?}"
        );

        let der = load_pem("p256.pem", "p256.key", None)
            .sign(PLIST, 1)
            .unwrap();
        let s = load_pem("p256.pem", "p256.key", None).certificate_summary();
        let soon = TrustOptions {
            ca: trust("ca.pem").ca,
            now: s.not_after - 86_400,
        };
        assert!(verify(&der, &soon).unwrap().expires_soon);
    }

    #[test]
    fn accepts_openssl_signatures() {
        let f = fixtures();
        for (cert, key, extra) in [
            ("rsa.pem", "rsa.key", &["-certfile", "int.pem"][..]),
            ("p256.pem", "p256.key", &[][..]),
            ("p384.pem", "p384.key", &[][..]),
        ] {
            let der = openssl_cms_sign(PLIST, &f.path(cert), &f.path(key), extra);
            let v = verify(&der, &trust("ca.pem")).unwrap_or_else(|e| panic!("{cert}: {e}"));
            assert_eq!(v.content, PLIST);
            assert_eq!(v.chain_status, ChainStatus::Trusted);
        }
    }

    #[test]
    fn rejects_garbage() {
        let t = trust("ca.pem");
        assert!(matches!(
            verify(b"", &t),
            Err(VerifyError::Malformed { .. })
        ));
        assert!(matches!(
            verify(b"\x30\x03\x02\x01\x00", &t),
            Err(VerifyError::Malformed { .. })
        ));
        let ca_der = std::fs::read(fixtures().path("ca.der")).unwrap();
        assert!(matches!(
            verify(&ca_der, &t),
            Err(VerifyError::Malformed { .. })
        ));
    }
}
