//! Workspace ONE UEM. Profiles go through UEM's REST API: for each profile and each UEM
//! platform it targets, the body of `POST /api/mdm/profiles/platforms/{appleosx|apple}/create`
//! (profiles API version 2, the form of Omnissa's own UEM SDK, `github.com/euc-oss/
//! terraform-sdk-uem`): a `General` section naming the profile and the smart group named like
//! the bsic group, and one Custom Settings payload per profile payload, each the
//! `<dict>…</dict>` snippet that Omnissa's samples (`euc-oss/euc-samples`) paste into the
//! console. `upload.sh` fills in the tenant's organization group and smart group IDs, then
//! creates each profile or updates it by name, with curl and jq. The same snippets are also
//! written one per file, for admins who paste them in the console.
//!
//! Each configuration declaration is written as a custom declaration (`Type`, `Identifier`,
//! `Payload`: UEM sets the `ServerToken` and makes the activation when the profile is
//! assigned, so activations and status subscriptions are left out).
//!
//! `upload.sh` is `compiler/templates/workspace-one/upload.sh` around one `group.sh` per
//! group.

use minijinja::{Value, context};
use serde_json::json;

use super::{
    Artifact, Context, GroupLayout, MdmTarget, Template, TemplateError, TargetFile,
    declaration_file, display_name, file_name, has_mobile, is_configuration, is_profile,
    mdm_description,
};
use crate::model::Platform;

/// A UEM device platform that takes profiles through the API.
struct UemPlatform {
    /// The URL segment of the create and update endpoints.
    segment: &'static str,
    /// The `Platform` value UEM reports for the profiles of that platform.
    name: &'static str,
}

const MACOS: UemPlatform = UemPlatform {
    segment: "appleosx",
    name: "AppleOsX",
};
const IOS: UemPlatform = UemPlatform {
    segment: "apple",
    name: "Apple iOS",
};

/// `upload.sh`: its functions, every group's `upload` lines, then the pruning.
const UPLOAD: Template = template!("workspace-one/upload.sh");
/// One group's `upload` lines.
const GROUP: Template = template!("workspace-one/group.sh");

pub(super) struct WorkspaceOne;

impl MdmTarget for WorkspaceOne {
    fn name(&self) -> &'static str {
        "workspace-one"
    }

    fn about(&self) -> &'static str {
        "Workspace ONE UEM: custom declarations and unsigned profiles"
    }

    fn next_step(&self, out: &str) -> String {
        format!(
            "WS1_API_URL=… WS1_TENANT_CODE=… WS1_OG_ID=… (OAuth or basic credentials) sh {out}workspace-one/upload.sh"
        )
    }

    fn templates(&self) -> &'static [Template] {
        &[UPLOAD, GROUP]
    }

    fn upload_script(&self) -> Option<Template> {
        Some(UPLOAD)
    }

    fn render_group(
        &self,
        group: &str,
        members: &[&Artifact],
        context: &Context<'_>,
    ) -> Result<GroupLayout, TemplateError> {
        let mut files = Vec::new();
        let mut uploads = Vec::new();
        for artifact in members {
            if is_profile(artifact) {
                profile_files(group, artifact, context, &mut files, &mut uploads);
                continue;
            }
            if is_configuration(artifact) {
                files.push(declaration_file(
                    "workspace-one",
                    group,
                    artifact,
                    format!(
                        "Workspace ONE UEM console: custom declaration (Declarative Device Management) in a profile assigned to smart group `{group}`"
                    ),
                ));
            }
        }
        let lines = context.render(GROUP.name, context! { group, profiles => uploads })?;
        Ok(GroupLayout::with_fragment(files, UPLOAD.name, lines))
    }
}

/// A profile of `group` as Custom Settings snippets, one file per payload, and as one API
/// body per UEM platform, into `files`; and into `uploads`, what `upload.sh` sends for each.
fn profile_files(
    group: &str,
    artifact: &Artifact,
    context: &Context<'_>,
    files: &mut Vec<TargetFile>,
    uploads: &mut Vec<Value>,
) {
    let snippets = custom_xml(&artifact.bytes);
    let stem = file_name(artifact).trim_end_matches(".mobileconfig");
    for (index, snippet) in snippets.iter().enumerate() {
        files.push(TargetFile {
            path: format!("workspace-one/custom-xml/{group}/{stem}.{index}.xml"),
            bytes: snippet.clone().into_bytes(),
            upload: format!(
                "Workspace ONE UEM console: Resources > Profiles > Add (macOS, iOS) > Custom Settings payload: paste this <dict>, assign to smart group `{group}`"
            ),
            artifact: Some(artifact.path.clone()),
        });
    }
    let name = display_name(artifact);
    let description = mdm_description(context, &artifact.bytes);
    for platform in uem_platforms(&artifact.platforms) {
        let path = format!("workspace-one/api/{group}/{stem}.{}.json", platform.segment);
        uploads.push(context! {
            segment => platform.segment,
            platform => platform.name,
            name => &name,
            path => path.trim_start_matches("workspace-one/"),
        });
        files.push(TargetFile {
            path,
            bytes: api_body(&name, group, &description, &snippets),
            upload: format!(
                "Workspace ONE UEM API: POST /api/mdm/profiles/platforms/{}/create or update (upload.sh)",
                platform.segment
            ),
            artifact: Some(artifact.path.clone()),
        });
    }
}

/// The UEM platforms whose API takes a profile for these Apple platforms: macOS profiles are
/// `AppleOsX`, the others `Apple iOS` (UEM's API has no tvOS or visionOS profile endpoint).
fn uem_platforms(platforms: &[Platform]) -> Vec<UemPlatform> {
    let mut uem = Vec::new();
    if platforms.contains(&Platform::MacOs) {
        uem.push(MACOS);
    }
    if has_mobile(platforms) {
        uem.push(IOS);
    }
    uem
}

/// The profiles-v2 create body: what bsic knows of `General`, and the payload snippets.
/// The tenant's IDs (`ManagedLocationGroupID`, `SmartGroupId`) are filled in by `upload.sh`.
fn api_body(name: &str, group: &str, description: &str, snippets: &[String]) -> Vec<u8> {
    let settings: Vec<_> = snippets
        .iter()
        .map(|snippet| json!({ "CustomSettings": snippet.trim_end() }))
        .collect();
    let body = json!({
        "General": {
            "Name": name,
            "Description": description,
            "AssignmentType": "Auto",
            "IsActive": true,
            "IsManaged": true,
            "ProfileScope": "Production",
            "ProfileContext": "Device",
            "AssignedSmartGroups": [{ "Name": group }],
        },
        "CustomSettingsList": settings,
    });
    let mut bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
    bytes.push(b'\n');
    bytes
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
        payload.insert(
            "PayloadType".into(),
            crate::apple::types::RESTRICTIONS.into(),
        );
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

    #[test]
    fn macos_and_mobile_profiles_go_to_their_own_uem_platform() {
        let segments = |platforms: &[Platform]| -> Vec<&str> {
            uem_platforms(platforms).iter().map(|p| p.segment).collect()
        };
        assert_eq!(segments(&[Platform::MacOs]), ["appleosx"]);
        assert_eq!(segments(&[Platform::Ios, Platform::TvOs]), ["apple"]);
        assert_eq!(
            segments(&[Platform::MacOs, Platform::Ios]),
            ["appleosx", "apple"]
        );
    }

    #[test]
    fn the_api_body_names_the_group_and_carries_each_snippet() {
        let body = api_body(
            "Software updates: pilot",
            "pilot",
            "Generated by bsic",
            &["<dict/>\n".into()],
        );
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["General"]["AssignedSmartGroups"][0]["Name"], "pilot");
        assert_eq!(body["CustomSettingsList"][0]["CustomSettings"], "<dict/>");
    }
}
