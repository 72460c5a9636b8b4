//! Jamf Pro: each profile unsigned (Jamf Pro's API rejects signed profiles and re-signs what
//! it sends), wrapped in the XML body of the Classic API — `os_x_configuration_profile` for
//! Macs, `configuration_profile` for mobile devices — scoped to the computer or mobile-device
//! group named like the bsic group, plus `upload.sh`, which creates or updates each profile by
//! name with curl and an API client's bearer token. Jamf Pro takes no custom DDM declarations
//! through its API: its software-update settings are made with its own managed software
//! updates, so declarations are not part of this layout.
//!
//! `upload.sh` is `compiler/templates/jamf/upload.sh` around one `group.sh` per group.

use minijinja::{Value, context};

use super::{
    Artifact, Context, GroupLayout, MdmTarget, Template, TemplateError, TargetFile,
    display_name, file_name, has_mobile, is_profile, mdm_description, 
    xml_escape,
};
use crate::model::Platform;

/// The Classic API body. `redeploy_on_update` is `All`: on an update, Jamf Pro then sends the
/// changed profile to the devices that have it already, not only to newly scoped ones.
fn body(
    root: &str,
    scope: &str,
    name: &str,
    group: &str,
    plist: &str,
    description: &str,
) -> String {
    let (all, groups, item) = match scope {
        "computer" => ("all_computers", "computer_groups", "computer_group"),
        _ => (
            "all_mobile_devices",
            "mobile_device_groups",
            "mobile_device_group",
        ),
    };
    let level = if scope == "computer" {
        "\n    <level>System</level>"
    } else {
        ""
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root}>\n  <general>\n    <name>{name}</name>\n    \
         <description>{description}</description>{level}\n    \
         <distribution_method>Install Automatically</distribution_method>\n    \
         <user_removable>false</user_removable>\n    <redeploy_on_update>All</redeploy_on_update>\n    \
         <payloads>{payloads}</payloads>\n  </general>\n  <scope>\n    <{all}>false</{all}>\n    \
         <{groups}>\n      <{item}>\n        <name>{group}</name>\n      </{item}>\n    </{groups}>\n  \
         </scope>\n</{root}>\n",
        name = xml_escape(name),
        description = xml_escape(description),
        group = xml_escape(group),
        payloads = xml_escape(plist),
    )
}

/// `upload.sh`: its functions, every group's `upload` lines, then the pruning.
const UPLOAD: Template = template!("jamf/upload.sh");
/// One group's `upload` lines.
const GROUP: Template = template!("jamf/group.sh");

pub(super) struct Jamf;

impl MdmTarget for Jamf {
    fn name(&self) -> &'static str {
        "jamf"
    }

    fn about(&self) -> &'static str {
        "Jamf Pro: unsigned profiles and Classic API bodies, with an upload script"
    }

    fn next_step(&self, out: &str) -> String {
        format!("JAMF_URL=… JAMF_CLIENT_ID=… JAMF_CLIENT_SECRET=… sh {out}jamf/upload.sh")
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
        for artifact in members.iter().filter(|a| is_profile(a)) {
            files.push(TargetFile {
                path: format!("jamf/profiles/{group}/{}", file_name(artifact)),
                bytes: artifact.bytes.clone(),
                upload:
                    "Jamf Pro: Computers or Devices > Configuration Profiles > Upload (unsigned)"
                        .into(),
                artifact: Some(artifact.path.clone()),
            });
            classic_bodies(group, artifact, context, &mut files, &mut uploads);
        }
        let lines = context.render(GROUP.name, context! { profiles => uploads })?;
        Ok(GroupLayout::with_fragment(files, UPLOAD.name, lines))
    }
}

/// The Classic API bodies of one profile of `group`, one per Jamf scope it goes to, into
/// `files`; and into `uploads`, what `upload.sh` sends for each.
fn classic_bodies(
    group: &str,
    artifact: &Artifact,
    context: &Context<'_>,
    files: &mut Vec<TargetFile>,
    uploads: &mut Vec<Value>,
) {
    let name = display_name(artifact);
    let plist = String::from_utf8_lossy(&artifact.bytes);
    let stem = &artifact.identifier;
    let mut scopes = Vec::new();
    if artifact.platforms.contains(&Platform::MacOs) {
        scopes.push((
            "computer",
            "os_x_configuration_profile",
            "osxconfigurationprofiles",
        ));
    }
    if has_mobile(&artifact.platforms) {
        scopes.push((
            "mobile",
            "configuration_profile",
            "mobiledeviceconfigurationprofiles",
        ));
    }
    for (scope, root, endpoint) in scopes {
        let path = format!("jamf/classic/{group}/{stem}.{scope}.xml");
        // The digest covers the whole body (scope and settings too), described blank.
        let description = mdm_description(
            context,
            body(root, scope, &name, group, &plist, "").as_bytes(),
        );
        uploads.push(context! {
            endpoint,
            name => &name,
            path => path.trim_start_matches("jamf/"),
            description => &description,
        });
        files.push(TargetFile {
            bytes: body(root, scope, &name, group, &plist, &description).into_bytes(),
            path,
            upload: format!("Jamf Pro Classic API: PUT/POST /JSSResource/{endpoint} (upload.sh)"),
            artifact: Some(artifact.path.clone()),
        });
    }
}
