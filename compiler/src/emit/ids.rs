//! Identifiers, server tokens and payload UUIDs, all derived from content.
//!
//! The same content always gives the same token and UUID, so an unchanged policy produces
//! unchanged bytes and MDMs do not re-push it to devices.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::model::Platform;

/// bsic's UUIDv5 namespace (a fixed random UUID; never change it or every UUID churns).
const NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_2c3e_8d4a_4f5b_9e0c_7a1d_2b3c_4d5e);

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha256(bytes))
}

/// The SHA-256 digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// A DDM `ServerToken`: the hash of the declaration's type, identifier and payload. Public so
/// `bsic verify` can recompute it from a published declaration and catch a hand edit that
/// updated the manifest's hash too.
pub fn server_token(kind: &str, identifier: &str, payload: &serde_json::Value) -> String {
    let canonical =
        serde_json::json!({ "Type": kind, "Identifier": identifier, "Payload": payload });
    sha256_hex(canonical.to_string().as_bytes())[..40].to_string()
}

/// A profile `PayloadUUID` for `identifier` with content hash `content`.
pub(super) fn payload_uuid(identifier: &str, content: &str) -> String {
    Uuid::new_v5(&NAMESPACE, format!("{identifier}\n{content}").as_bytes())
        .hyphenated()
        .to_string()
        .to_uppercase()
}

/// The label of a platform subset in identifiers: `macos`, `ios-ipados`.
pub(super) fn platform_label(platforms: &[Platform]) -> String {
    let names: Vec<String> = platforms
        .iter()
        .map(|p| p.name().to_ascii_lowercase())
        .collect();
    names.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_content_derived() {
        let a = payload_uuid("com.example.pilot.profile", "abc");
        assert_eq!(a, payload_uuid("com.example.pilot.profile", "abc"));
        assert_ne!(a, payload_uuid("com.example.pilot.profile", "abd"));
        assert_eq!(a.len(), 36);
        assert_eq!(a, a.to_uppercase());
        assert_eq!(
            platform_label(&[Platform::Ios, Platform::IpadOs]),
            "ios-ipados"
        );
    }
}
