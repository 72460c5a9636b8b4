//! Jamf Pro: each profile unsigned (Jamf Pro's API rejects signed profiles and re-signs what
//! it sends), wrapped in the XML body of the Classic API — `os_x_configuration_profile` for
//! Macs, `configuration_profile` for mobile devices — scoped to the computer or mobile-device
//! group named like the bsic group, plus `upload.sh`, which creates or updates each profile by
//! name with curl and an API client's bearer token. Jamf Pro takes no custom DDM declarations
//! through its API: its software-update settings are made with its own managed software
//! updates, so declarations are not part of this layout.

use std::fmt::Write as _;

use super::{
    Artifact, Context, GroupLayout, SH_PRELUDE, Target, TargetFile, display_name, file_name,
    has_mobile, is_profile, mdm_description, mdm_description_stem, sh_quote, xml_escape,
};
use crate::emit::profile::DISPLAY_NAME_PREFIX;
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

const SCRIPT: &str = "jamf/upload.sh";

pub(super) fn render_group(
    group: &str,
    members: &[&Artifact],
    context: &Context<'_>,
) -> GroupLayout {
    let mut files = Vec::new();
    let mut lines = String::new();
    for artifact in members.iter().filter(|a| is_profile(a)) {
        let name = display_name(artifact);
        let plist = String::from_utf8_lossy(&artifact.bytes);
        files.push(TargetFile {
            path: format!("jamf/profiles/{group}/{}", file_name(artifact)),
            bytes: artifact.bytes.clone(),
            upload: "Jamf Pro: Computers or Devices > Configuration Profiles > Upload (unsigned)"
                .into(),
            artifact: Some(artifact.path.clone()),
        });
        let stem = artifact.identifier.clone();
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
            files.push(TargetFile {
                path: path.clone(),
                bytes: body(root, scope, &name, group, &plist, &description).into_bytes(),
                upload: format!(
                    "Jamf Pro Classic API: PUT/POST /JSSResource/{endpoint} (upload.sh)"
                ),
                artifact: Some(artifact.path.clone()),
            });
            let relative = path.trim_start_matches("jamf/");
            let _ = writeln!(
                lines,
                "upload {endpoint} {} {} {}",
                sh_quote(&name),
                sh_quote(relative),
                sh_quote(&description)
            );
        }
    }
    GroupLayout::with_fragment(files, SCRIPT, lines)
}

/// `upload.sh`: its functions, then one `upload` line per profile body (`body`).
pub(super) fn finish<'a>(body: impl Fn(&str) -> &'a str, context: &Context<'_>) -> Vec<TargetFile> {
    let script = format!(
        r#"#!/bin/sh
# Creates or updates, by name, every configuration profile bsic built for {org} in Jamf Pro
# through the Classic API, each scoped to the Jamf group named like its bsic group (create
# those smart or static groups first).
#
#   JAMF_URL=https://example.jamfcloud.com JAMF_CLIENT_ID=... JAMF_CLIENT_SECRET=... \
#   sh dist/jamf/upload.sh
#
# The API client needs Read, Create and Update on macOS and mobile device configuration
# profiles (and Delete for BSIC_PRUNE=1, which deletes the profiles this project made earlier
# that this build no longer has). A profile of the same name that this project did not make
# stops the script. CURL_OPTS adds curl options. Needs curl and jq.
{prelude}
: "${{JAMF_URL:?set JAMF_URL to the Jamf Pro URL}}"
: "${{JAMF_CLIENT_ID:?set JAMF_CLIENT_ID to an API client ID}}"
: "${{JAMF_CLIENT_SECRET:?set JAMF_CLIENT_SECRET to the API client secret}}"
JAMF_URL=${{JAMF_URL%/}}
secret_config token data-urlencode "client_secret=$JAMF_CLIENT_SECRET"
answer=$(http -fsS -K "$private/token" -X POST "$JAMF_URL/api/oauth/token" \
  --data-urlencode "client_id=$JAMF_CLIENT_ID" --data-urlencode grant_type=client_credentials)
token=$(printf '%s' "$answer" | jq -r '.access_token // empty')
[ -n "$token" ] || {{ echo "no token from $JAMF_URL" >&2; exit 1; }}
secret_config api header "Authorization: Bearer $token"
uploaded=''

get() {{
  # get PATH: a Classic API resource as JSON
  http -fsS -K "$private/api" -H 'Accept: application/json' "$JAMF_URL$1"
}}

upload() {{
  # upload ENDPOINT NAME FILE DESCRIPTION: create the profile of that name, or update it
  # unless it has this DESCRIPTION already (which names the content: an update is sent to
  # every device that has the profile)
  uploaded="$uploaded$1$tab$2
"
  name=$(printf %s "$2" | sed 's/ /%20/g')
  status=$(http -sS -o "$private/current" -w '%{{http_code}}' -K "$private/api" \
    -H 'Accept: application/json' "$JAMF_URL/JSSResource/$1/name/$name")
  case $status in
    200)
      have=$(jq -r '.[keys[0]].general.description // empty' "$private/current")
      if [ "$have" = "$4" ]; then
        echo "unchanged $3"
        return 0
      fi
      case $have in
        {stem}*) ;;
        *)
          echo "Jamf Pro has a profile named '$2' that this project did not make: rename or delete it" >&2
          exit 1 ;;
      esac
      echo "update $3"
      http -fsS -K "$private/api" -H 'Content-Type: application/xml' \
        -X PUT --data-binary "@$3" "$JAMF_URL/JSSResource/$1/name/$name" ;;
    404)
      echo "create $3"
      http -fsS -K "$private/api" -H 'Content-Type: application/xml' \
        -X POST --data-binary "@$3" "$JAMF_URL/JSSResource/$1/id/0" ;;
    *)
      echo "Jamf Pro answered HTTP $status when looking up '$2' in $1" >&2
      exit 1 ;;
  esac
  echo
}}
{body}
# With BSIC_PRUNE=1, the profiles this project made earlier (bsic's name prefix and its
# description) that this build no longer has are deleted.
if [ "${{BSIC_PRUNE:-0}}" = 1 ]; then
  for endpoint in osxconfigurationprofiles mobiledeviceconfigurationprofiles; do
    list=$(get "/JSSResource/$endpoint")
    rows=$(printf '%s' "$list" | jq -r --arg prefix {prefix} \
      '.[keys[0]][]? | select(.name | startswith($prefix)) | "\(.id)\t\(.name)"')
    printf '%s\n' "$rows" | while IFS="$tab" read -r id name; do
      [ -n "$id" ] || continue
      printf '%s' "$uploaded" | grep -qxF -- "$endpoint$tab$name" && continue
      details=$(get "/JSSResource/$endpoint/id/$id")
      ours=$(printf '%s' "$details" | jq --arg stem {stem} \
        '.[keys[0]].general.description // "" | startswith($stem)')
      [ "$ours" = true ] || continue
      echo "delete $endpoint profile '$name' (no longer built)"
      http -fsS -o /dev/null -K "$private/api" -X DELETE "$JAMF_URL/JSSResource/$endpoint/id/$id"
    done
  done
fi
"#,
        org = context.organization,
        body = body(SCRIPT),
        prefix = sh_quote(DISPLAY_NAME_PREFIX),
        stem = sh_quote(&mdm_description_stem(context)),
        prelude = SH_PRELUDE,
    );
    vec![TargetFile {
        path: SCRIPT.into(),
        bytes: script.into_bytes(),
        upload: format!("run it: {}", Target::Jamf.next_step("")),
        artifact: None,
    }]
}
