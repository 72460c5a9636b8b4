//! Microsoft Intune. Profiles go through Microsoft Graph (v1.0): for each profile and each
//! Intune platform it targets, the body of `POST /deviceManagement/deviceConfigurations` — a
//! `macOSCustomConfiguration` for Macs, an `iosCustomConfiguration` for iPhone and iPad
//! (Intune's iOS/iPadOS platform) — carrying the unsigned profile base64-encoded in `payload`,
//! as Microsoft's Graph reference documents the two resources. `upload.sh` creates or updates
//! each by display name, then assigns it (`…/{id}/assign`, a `groupAssignmentTarget`) to the
//! Entra ID group whose display name is the bsic group's, looked up with `GET /groups`.
//! Intune has no tvOS or visionOS custom profiles; those platforms are left out.
//!
//! Intune takes no custom DDM declarations through Graph. Its settings catalog has the
//! software-update declarations (Declarative Device Management > Software Update, Software
//! Update Settings), but Microsoft documents them for the admin center, not their Graph
//! setting IDs; so the configuration declarations are written as the values to enter there
//! (`declarations/`), and docs/targets.md gives the click path.
//!
//! `upload.sh` is `compiler/templates/intune/upload.sh` around one `group.sh` per group.

use base64ct::{Base64, Encoding};
use minijinja::{Value, context};
use serde_json::json;

use super::{
    Artifact, Context, GroupLayout, MdmTarget, Template, TemplateError, TargetFile,
    declaration_file, display_name, file_name, is_configuration, is_profile,
    mdm_description, profile_file,
};
use crate::model::Platform;

/// An Intune platform that takes custom configuration profiles through Graph.
struct IntunePlatform {
    /// The file-name suffix of its bodies.
    suffix: &'static str,
    /// The Graph resource type (`@odata.type`) of its custom configuration.
    odata_type: &'static str,
}

const MACOS: IntunePlatform = IntunePlatform {
    suffix: "macos",
    odata_type: "#microsoft.graph.macOSCustomConfiguration",
};
const IOS: IntunePlatform = IntunePlatform {
    suffix: "ios",
    odata_type: "#microsoft.graph.iosCustomConfiguration",
};

/// `upload.sh`: its functions, every group's `upload` lines, then the pruning.
const UPLOAD: Template = template!("intune/upload.sh");
/// One group's `upload` lines.
const GROUP: Template = template!("intune/group.sh");

pub(super) struct Intune;

impl MdmTarget for Intune {
    fn name(&self) -> &'static str {
        "intune"
    }

    fn about(&self) -> &'static str {
        "Microsoft Intune: Graph custom-configuration bodies assigned to Entra ID groups, with an upload script"
    }

    fn next_step(&self, out: &str) -> String {
        format!(
            "INTUNE_TENANT_ID=… INTUNE_CLIENT_ID=… INTUNE_CLIENT_SECRET=… sh {out}intune/upload.sh"
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
                files.push(profile_file(
                    "intune",
                    group,
                    artifact,
                    format!(
                        "Intune admin center: Devices > Configuration > Create > New policy > macOS or iOS/iPadOS > Templates > Custom: upload this file, assign to Entra ID group `{group}`"
                    ),
                ));
                graph_bodies(group, artifact, context, &mut files, &mut uploads);
            } else if is_configuration(artifact) {
                files.push(declaration_file(
                    "intune",
                    group,
                    artifact,
                    format!(
                        "Intune admin center: Devices > Configuration > Create > New policy > Settings catalog > Declarative Device Management: enter these values, assign to Entra ID group `{group}`"
                    ),
                ));
            }
        }
        let lines = context.render(GROUP.name, context! { group, profiles => uploads })?;
        Ok(GroupLayout::with_fragment(files, UPLOAD.name, lines))
    }
}

/// The Graph bodies of one profile of `group`, one per Intune platform it goes to, into
/// `files`; and into `uploads`, what `upload.sh` sends for each.
fn graph_bodies(
    group: &str,
    artifact: &Artifact,
    context: &Context<'_>,
    files: &mut Vec<TargetFile>,
    uploads: &mut Vec<Value>,
) {
    let name = display_name(artifact);
    let description = mdm_description(context, &artifact.bytes);
    let stem = file_name(artifact).trim_end_matches(".mobileconfig");
    for platform in intune_platforms(&artifact.platforms) {
        let path = format!("intune/graph/{group}/{stem}.{}.json", platform.suffix);
        uploads.push(context! {
            odata_type => platform.odata_type,
            name => &name,
            path => path.trim_start_matches("intune/"),
        });
        files.push(TargetFile {
            bytes: body(platform.odata_type, &name, &description, file_name(artifact), &artifact.bytes),
            path,
            upload: "Microsoft Graph: POST or PATCH /deviceManagement/deviceConfigurations, then …/assign (upload.sh)".into(),
            artifact: Some(artifact.path.clone()),
        });
    }
}

/// The Intune platforms that take a profile for these Apple platforms: macOS profiles are
/// `macOSCustomConfiguration`s, iOS and iPadOS ones `iosCustomConfiguration`s (Intune's
/// iOS/iPadOS platform); tvOS and visionOS have no custom configuration in Intune.
fn intune_platforms(platforms: &[Platform]) -> Vec<IntunePlatform> {
    let mut intune = Vec::new();
    if platforms.contains(&Platform::MacOs) {
        intune.push(MACOS);
    }
    if platforms
        .iter()
        .any(|p| matches!(p, Platform::Ios | Platform::IpadOs))
    {
        intune.push(IOS);
    }
    intune
}

/// The create body Microsoft's Graph reference gives for a custom configuration:
/// `displayName`, `description`, `payloadName`, `payloadFileName` and the profile as
/// base64 `payload`.
fn body(odata_type: &str, name: &str, description: &str, file: &str, profile: &[u8]) -> Vec<u8> {
    let body = json!({
        "@odata.type": odata_type,
        "displayName": name,
        "description": description,
        "payloadName": name,
        "payloadFileName": file,
        "payload": Base64::encode_string(profile),
    });
    let mut bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macos_goes_to_macos_and_iphone_and_ipad_to_ios_only() {
        let suffixes = |platforms: &[Platform]| -> Vec<&str> {
            intune_platforms(platforms).iter().map(|p| p.suffix).collect()
        };
        assert_eq!(suffixes(&[Platform::MacOs]), ["macos"]);
        assert_eq!(suffixes(&[Platform::Ios, Platform::IpadOs]), ["ios"]);
        assert_eq!(suffixes(&[Platform::MacOs, Platform::IpadOs]), ["macos", "ios"]);
        assert!(suffixes(&[Platform::TvOs, Platform::VisionOs]).is_empty());
    }

    #[test]
    fn the_body_carries_the_profile_base64_encoded() {
        let body = body(MACOS.odata_type, "n", "d", "p.mobileconfig", b"<plist/>");
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["@odata.type"], "#microsoft.graph.macOSCustomConfiguration");
        assert_eq!(body["payload"], "PHBsaXN0Lz4=");
        assert_eq!(body["payloadFileName"], "p.mobileconfig");
    }
}
