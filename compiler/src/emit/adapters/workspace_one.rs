//! Workspace ONE UEM: each configuration declaration as a custom declaration (`Type`,
//! `Identifier` and `Payload`; UEM sets the `ServerToken` and makes the activation when the
//! profile is assigned), and each payload of each profile as the `<dict>…</dict>` snippet that
//! UEM's Custom Settings (Custom XML) payload takes, the form Omnissa's own samples
//! (github.com/euc-oss/euc-samples, `UEM-Samples/Profiles`) paste there. One folder per
//! group, matching the smart group the admin assigns them to. Activations and status
//! subscriptions are left out: UEM creates its own.

use super::{
    Artifact, Context, TargetFile, declaration_type, file_name, is_profile, without_server_token,
};
use crate::emit::ddm::{ACTIVATION_TYPE, STATUS_TYPE};

pub(super) fn render(artifacts: &[Artifact], _context: &Context<'_>) -> Vec<TargetFile> {
    let mut files = Vec::new();
    for artifact in artifacts {
        let group = &artifact.group;
        if is_profile(artifact) {
            let stem = file_name(artifact).trim_end_matches(".mobileconfig");
            for (index, snippet) in custom_xml(&artifact.bytes).into_iter().enumerate() {
                files.push(TargetFile {
                    path: format!("workspace-one/custom-xml/{group}/{stem}.{index}.xml"),
                    bytes: snippet.into_bytes(),
                    upload: format!(
                        "Workspace ONE UEM: Resources > Profiles > Add (macOS, iOS) > Custom Settings payload: paste this <dict>, assign to smart group `{group}`"
                    ),
                    artifact: Some(artifact.path.clone()),
                });
            }
            continue;
        }
        let kind = declaration_type(artifact).unwrap_or_default();
        if kind == ACTIVATION_TYPE || kind == STATUS_TYPE {
            continue;
        }
        files.push(TargetFile {
            path: format!("workspace-one/declarations/{group}/{}", file_name(artifact)),
            bytes: without_server_token(artifact),
            upload: format!(
                "Workspace ONE UEM: custom declaration (Declarative Device Management) in a profile assigned to smart group `{group}`"
            ),
            artifact: Some(artifact.path.clone()),
        });
    }
    files
}

/// Each payload of an (unsigned) profile as a plist `<dict>…</dict>` snippet with a trailing
/// newline. Empty when the profile does not parse, which emit's own Apple check rules out.
fn custom_xml(profile: &[u8]) -> Vec<String> {
    let Ok(plist::Value::Dictionary(top)) = plist::Value::from_reader_xml(profile) else {
        return Vec::new();
    };
    let Some(plist::Value::Array(payloads)) = top.get("PayloadContent") else {
        return Vec::new();
    };
    payloads
        .iter()
        .filter_map(|payload| {
            let mut document = Vec::new();
            plist::to_writer_xml(&mut document, payload).ok()?;
            let text = String::from_utf8(document).ok()?;
            let start = text.find("<dict>")?;
            let end = text.rfind("</dict>")? + "</dict>".len();
            Some(format!("{}\n", text.get(start..end)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_becomes_a_dict_snippet_that_parses_back() {
        let mut payload = plist::Dictionary::new();
        payload.insert("PayloadType".into(), "com.apple.applicationaccess".into());
        payload.insert("allowRapidSecurityResponseRemoval".into(), false.into());
        let mut top = plist::Dictionary::new();
        top.insert(
            "PayloadContent".into(),
            plist::Value::Array(vec![plist::Value::Dictionary(payload.clone())]),
        );
        let mut profile = Vec::new();
        plist::to_writer_xml(&mut profile, &plist::Value::Dictionary(top)).unwrap();
        let snippets = custom_xml(&profile);
        assert_eq!(snippets.len(), 1);
        assert!(snippets[0].starts_with("<dict>") && snippets[0].ends_with("</dict>\n"));
        let wrapped = format!("<plist version=\"1.0\">{}</plist>", snippets[0]);
        let back = plist::Value::from_reader_xml(wrapped.as_bytes()).unwrap();
        assert_eq!(back, plist::Value::Dictionary(payload));
    }
}
