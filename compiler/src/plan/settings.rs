//! Setting-level differences: declarations and profiles flattened to dotted Apple keys.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One key that changes; `None` on a side where it is not set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SettingChange {
    pub key: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// Profile keys that identify rather than configure.
const PROFILE_METADATA: &[&str] = &[
    "PayloadUUID",
    "PayloadIdentifier",
    "PayloadVersion",
    "PayloadDisplayName",
    "PayloadDescription",
    "PayloadOrganization",
    "PayloadType",
    "PayloadScope",
    "PayloadRemovalDisallowed",
];

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, inner, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), scalar(other));
        }
    }
}

/// The settings a file carries: a declaration's `Payload`, or each profile payload's keys
/// under its `PayloadType`. Signed profiles are opened without checking the signature.
fn settings_of(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Ok(document) = serde_json::from_slice::<Value>(bytes) {
        flatten("", &document["Payload"], &mut out);
        return out;
    }
    let plist_bytes = if bytes.starts_with(b"<?xml") || bytes.starts_with(b"bplist") {
        bytes.to_vec()
    } else {
        let trust = crate::sign::TrustOptions {
            ca: Vec::new(),
            now: 0,
        };
        match crate::sign::verify(bytes, &trust) {
            Ok(verified) => verified.content,
            Err(_) => return out,
        }
    };
    let Ok(value) = plist::Value::from_reader(std::io::Cursor::new(plist_bytes)) else {
        return out;
    };
    let json = crate::apple::plist::to_json(&value);
    for payload in json["PayloadContent"].as_array().into_iter().flatten() {
        let kind = payload["PayloadType"].as_str().unwrap_or("payload");
        if let Value::Object(map) = payload {
            for (key, inner) in map {
                if !PROFILE_METADATA.contains(&key.as_str()) {
                    flatten(&format!("{kind}.{key}"), inner, &mut out);
                }
            }
        }
    }
    out
}

/// The keys that differ between two files (either may be absent).
pub(super) fn diff(old: Option<&[u8]>, new: Option<&[u8]>) -> Vec<SettingChange> {
    let old = old.map(settings_of).unwrap_or_default();
    let new = new.map(settings_of).unwrap_or_default();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .map(|k| SettingChange {
            key: k.clone(),
            old: old.get(k).cloned(),
            new: new.get(k).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_keys_are_dotted() {
        let old = br#"{"Type":"t","Payload":{"AutomaticActions":{"InstallSecurityUpdate":"AlwaysOn"},"Notifications":true}}"#;
        let new =
            br#"{"Type":"t","Payload":{"AutomaticActions":{"InstallSecurityUpdate":"Allowed"}}}"#;
        let changes = diff(Some(old), Some(new));
        assert_eq!(
            changes,
            vec![
                SettingChange {
                    key: "AutomaticActions.InstallSecurityUpdate".into(),
                    old: Some("AlwaysOn".into()),
                    new: Some("Allowed".into()),
                },
                SettingChange {
                    key: "Notifications".into(),
                    old: Some("true".into()),
                    new: None,
                },
            ]
        );
    }
}
