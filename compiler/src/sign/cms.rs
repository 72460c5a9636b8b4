//! Producing the CMS SignedData with RustCrypto's `cms` builder.
//!
//! The builder computes the message digest and adds the content-type and
//! message-digest attributes; the signing time is added here as a hand-built
//! attribute so that it comes from the caller (SOURCE_DATE_EPOCH), not the clock.
//! The raw signature comes from [`KeySigner`], which bridges our key backends
//! (AWS-LC for RSA, RustCrypto for deterministic ECDSA) to the `signature` traits
//! the builder takes.

use std::time::Duration;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
use der::asn1::{BitString, GeneralizedTime, SetOfVec, UtcTime};
use der::{Any, Encode, Tag};
use spki::{AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, SignatureBitStringEncoding};
use x509_cert::attr::{Attribute, AttributeValue};
use x509_cert::time::Time;

use super::keys::PrivateKey;
use super::{SignError, Signer, oids};

/// A raw signature value (PKCS#1 v1.5 bytes, or a DER `ECDSA-Sig-Value`).
struct RawSignature(Vec<u8>);

impl SignatureBitStringEncoding for RawSignature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

/// Adapter giving the builder a `signature::Signer` over our private key.
struct KeySigner<'a> {
    key: &'a PrivateKey,
    public_key: spki::SubjectPublicKeyInfoOwned,
}

impl signature::Keypair for KeySigner<'_> {
    type VerifyingKey = spki::SubjectPublicKeyInfoOwned;

    fn verifying_key(&self) -> Self::VerifyingKey {
        self.public_key.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for KeySigner<'_> {
    fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
        Ok(match self.key {
            // What `openssl cms -sign` writes for RSA: rsaEncryption with NULL parameters;
            // the hash is named by the SignerInfo's digestAlgorithm.
            PrivateKey::Rsa { .. } => AlgorithmIdentifierOwned {
                oid: oids::RSA_ENCRYPTION,
                parameters: Some(Any::null()),
            },
            PrivateKey::P256(_) => AlgorithmIdentifierOwned {
                oid: oids::ECDSA_SHA256,
                parameters: None,
            },
            PrivateKey::P384(_) => AlgorithmIdentifierOwned {
                oid: oids::ECDSA_SHA384,
                parameters: None,
            },
        })
    }
}

impl signature::Signer<RawSignature> for KeySigner<'_> {
    fn try_sign(&self, msg: &[u8]) -> Result<RawSignature, signature::Error> {
        match self.key {
            PrivateKey::Rsa { pair, .. } => {
                // PKCS#1 v1.5 is deterministic; AWS-LC ignores the RNG argument.
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
                    .map_err(|_| signature::Error::new())?;
                Ok(RawSignature(sig))
            }
            PrivateKey::P256(key) => {
                // RFC 6979 deterministic nonce, SHA-256.
                let sig: p256::ecdsa::Signature = signature::Signer::try_sign(key, msg)?;
                Ok(RawSignature(sig.to_der().as_bytes().to_vec()))
            }
            PrivateKey::P384(key) => {
                // RFC 6979 deterministic nonce, SHA-384 (the curve's own digest).
                let sig: p384::ecdsa::Signature = signature::Signer::try_sign(key, msg)?;
                Ok(RawSignature(sig.to_der().as_bytes().to_vec()))
            }
        }
    }
}

/// The digest algorithm paired with each key type.
fn digest_algorithm(key: &PrivateKey) -> AlgorithmIdentifierOwned {
    let oid = match key {
        PrivateKey::Rsa { .. } | PrivateKey::P256(_) => oids::SHA256,
        PrivateKey::P384(_) => oids::SHA384,
    };
    // Parameters absent, as OpenSSL writes SHA-2 identifiers in CMS.
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

/// The signingTime attribute: UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5652 §11.3).
fn signing_time_attribute(unix: i64) -> Result<Attribute, SignError> {
    let bad_time = || SignError::SigningTime { time: unix };
    let secs = u64::try_from(unix).map_err(|_| bad_time())?;
    let duration = Duration::from_secs(secs);
    let datetime = der::DateTime::from_unix_duration(duration).map_err(|_| bad_time())?;
    let time = if datetime.year() < 2050 {
        Time::UtcTime(UtcTime::from_date_time(datetime).map_err(|_| bad_time())?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_date_time(datetime))
    };
    let value = AttributeValue::from(Any::encode_from(&time)?);
    let mut values = SetOfVec::new();
    values.insert(value)?;
    Ok(Attribute {
        oid: oids::SIGNING_TIME,
        values,
    })
}

impl Signer {
    /// Signs `content` and returns a DER CMS `ContentInfo` holding a `SignedData`.
    ///
    /// `signing_time_unix` goes into the signingTime attribute (use SOURCE_DATE_EPOCH
    /// for reproducible builds). The output depends only on the content, the
    /// identity and the time: signing twice gives identical bytes.
    pub fn sign(&self, content: &[u8], signing_time_unix: i64) -> Result<Vec<u8>, SignError> {
        let Some(leaf) = self.chain.first() else {
            return Err(SignError::Cms {
                detail: "no signer certificate".to_owned(),
            });
        };
        let econtent = EncapsulatedContentInfo {
            econtent_type: oids::ID_DATA,
            econtent: Some(Any::new(Tag::OctetString, content)?),
        };
        let sid = SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: leaf.tbs_certificate.issuer.clone(),
            serial_number: leaf.tbs_certificate.serial_number.clone(),
        });
        let key_signer = KeySigner {
            key: &self.key,
            public_key: leaf.tbs_certificate.subject_public_key_info.clone(),
        };
        let digest = digest_algorithm(&self.key);

        let mut signer_info =
            SignerInfoBuilder::new(&key_signer, sid, digest.clone(), &econtent, None)?;
        signer_info.add_signed_attribute(signing_time_attribute(signing_time_unix)?)?;

        let mut builder = SignedDataBuilder::new(&econtent);
        builder.add_digest_algorithm(digest)?;
        for cert in &self.chain {
            builder.add_certificate(CertificateChoices::Certificate(cert.clone()))?;
        }
        builder.add_signer_info::<KeySigner<'_>, RawSignature>(signer_info)?;
        let content_info = builder.build()?;
        debug_assert_eq!(content_info.content_type, oids::ID_SIGNED_DATA);
        Ok(content_info.to_der()?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixtures, load_pem, openssl_cms_verify};
    use super::*;
    use der::{Decode, Tagged};

    const PLIST: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadIdentifier</key>
	<string>com.example.bsic.test</string>
</dict>
</plist>"#;

    #[test]
    fn signing_time_encoding_switches_at_2050() {
        let utc = signing_time_attribute(2_524_607_999).unwrap(); // 2049-12-31T23:59:59Z
        let gen_ = signing_time_attribute(2_524_608_000).unwrap(); // 2050-01-01T00:00:00Z
        let tag = |a: &Attribute| a.values.get(0).map(|v| v.tag());
        assert_eq!(tag(&utc), Some(Tag::UtcTime));
        assert_eq!(tag(&gen_), Some(Tag::GeneralizedTime));
        assert!(matches!(
            signing_time_attribute(-1),
            Err(SignError::SigningTime { time: -1 })
        ));
    }

    #[test]
    fn each_key_kind_signs_and_openssl_verifies() {
        let f = fixtures();
        for (cert, key, chain) in [
            ("rsa.pem", "rsa.key", Some("int.pem")),
            ("rsa4096.pem", "rsa4096.key", None),
            ("p256.pem", "p256.key", None),
            ("p384.pem", "p384.key", None),
        ] {
            let signer = load_pem(cert, key, chain);
            let der = signer.sign(PLIST, 1_700_000_000).unwrap();
            let out = openssl_cms_verify(&der, &f.path("ca.pem"))
                .unwrap_or_else(|e| panic!("{cert}: openssl rejected: {e}"));
            assert_eq!(out, PLIST, "{cert}: openssl returns the exact content");
            assert!(
                openssl_cms_verify(&der, &f.path("other-ca.pem")).is_err(),
                "{cert}: an unrelated CA must not verify"
            );
        }
    }

    #[test]
    fn openssl_accepts_generalized_signing_time() {
        let f = fixtures();
        let signer = load_pem("p256.pem", "p256.key", None);
        let der = signer.sign(PLIST, 2_600_000_000).unwrap(); // 2052
        assert!(super::super::tests::find(&der, b"20520522141320Z").is_some());
        assert_eq!(openssl_cms_verify(&der, &f.path("ca.pem")).unwrap(), PLIST);
    }

    #[test]
    fn structure_is_as_specified() {
        use cms::content_info::ContentInfo;
        use cms::signed_data::SignedData;
        let signer = load_pem("rsa.pem", "rsa.key", Some("int.pem"));
        let der = signer.sign(PLIST, 1_700_000_000).unwrap();
        let ci = ContentInfo::from_der(&der).unwrap();
        assert_eq!(ci.content_type, oids::ID_SIGNED_DATA);
        let sd: SignedData = ci.content.decode_as().unwrap();
        assert_eq!(sd.encap_content_info.econtent_type, oids::ID_DATA);
        assert_eq!(sd.certificates.as_ref().map(|c| c.0.len()), Some(2));
        let si = sd.signer_infos.0.get(0).unwrap();
        assert!(matches!(si.sid, SignerIdentifier::IssuerAndSerialNumber(_)));
        assert_eq!(si.digest_alg.oid, oids::SHA256);
        assert_eq!(si.signature_algorithm.oid, oids::RSA_ENCRYPTION);
        let attrs: Vec<_> = si
            .signed_attrs
            .as_ref()
            .unwrap()
            .iter()
            .map(|a| a.oid)
            .collect();
        for oid in [oids::CONTENT_TYPE, oids::MESSAGE_DIGEST, oids::SIGNING_TIME] {
            assert!(attrs.contains(&oid), "{oid} present");
        }
        assert_eq!(attrs.len(), 3);
    }

    #[test]
    fn output_is_byte_identical_for_same_input() {
        for (cert, key) in [
            ("rsa.pem", "rsa.key"),
            ("p256.pem", "p256.key"),
            ("p384.pem", "p384.key"),
        ] {
            let signer = load_pem(cert, key, None);
            let a = signer.sign(PLIST, 1_700_000_000).unwrap();
            let b = signer.sign(PLIST, 1_700_000_000).unwrap();
            assert_eq!(a, b, "{cert}: deterministic");
            // A fresh load of the same key gives the same bytes too.
            let c = load_pem(cert, key, None)
                .sign(PLIST, 1_700_000_000)
                .unwrap();
            assert_eq!(a, c, "{cert}: deterministic across loads");
            let d = signer.sign(PLIST, 1_700_000_001).unwrap();
            assert_ne!(a, d, "{cert}: signing time is signed");
        }
    }

    #[test]
    fn tampered_content_is_rejected_by_openssl() {
        let f = fixtures();
        for (cert, key) in [
            ("rsa.pem", "rsa.key"),
            ("p256.pem", "p256.key"),
            ("p384.pem", "p384.key"),
        ] {
            let signer = load_pem(cert, key, Some("int.pem"));
            let mut der = signer.sign(PLIST, 1_700_000_000).unwrap();
            let at = super::super::tests::find(&der, b"com.example.bsic.test").unwrap();
            der[at] ^= 0x01;
            assert!(
                openssl_cms_verify(&der, &f.path("ca.pem")).is_err(),
                "{cert}"
            );
        }
    }

    #[test]
    fn pkcs12_identity_signs() {
        let f = fixtures();
        for file in ["rsa.p12", "rsa-legacy.p12", "p256.p12"] {
            let signer = Signer::load(
                &super::super::KeySource::Pkcs12 {
                    path: f.path(file),
                    password: super::super::Secret::new(super::super::tests::P12_PASSWORD),
                },
                &super::super::LoadOptions {
                    now: super::super::tests::now(),
                    allow_invalid_dates: false,
                },
            )
            .unwrap();
            let der = signer.sign(PLIST, 1_700_000_000).unwrap();
            assert_eq!(
                openssl_cms_verify(&der, &f.path("ca.pem")).unwrap(),
                PLIST,
                "{file}"
            );
        }
    }

    /// Throughput: `cargo test --release -p bsic sign::cms::tests::throughput -- --ignored --nocapture`
    #[test]
    #[ignore = "timing measurement; run in release"]
    fn throughput() {
        for (cert, key) in [
            ("rsa.pem", "rsa.key"),
            ("p256.pem", "p256.key"),
            ("p384.pem", "p384.key"),
        ] {
            let signer = load_pem(cert, key, Some("int.pem"));
            let plists: Vec<Vec<u8>> = (0..1000)
                .map(|i| {
                    String::from_utf8_lossy(PLIST)
                        .replace("bsic.test", &format!("bsic.test{i}"))
                        .into_bytes()
                })
                .collect();
            let start = std::time::Instant::now();
            let mut total = 0;
            for p in &plists {
                total += signer.sign(p, 1_700_000_000).unwrap().len();
            }
            let elapsed = start.elapsed();
            println!(
                "{}: 1000 signatures in {:.3} s ({:.3} ms each, {} bytes out)",
                signer.certificate_summary().key_kind,
                elapsed.as_secs_f64(),
                elapsed.as_secs_f64(),
                total
            );
        }
    }
}
