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

use std::fmt::Write as _;

use serde_json::json;

use super::{
    Artifact, Context, GroupLayout, MDM_DESCRIPTION, SH_SECRETS, Target, TargetFile,
    declaration_type, display_name, file_name, has_mobile, is_profile, sh_quote,
    without_server_token,
};
use crate::emit::ddm::{ACTIVATION_TYPE, STATUS_TYPE};
use crate::emit::profile::DISPLAY_NAME_PREFIX;
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

const SCRIPT: &str = "workspace-one/upload.sh";

pub(super) fn render_group(group: &str, members: &[&Artifact]) -> GroupLayout {
    let mut files = Vec::new();
    let mut lines = String::new();
    for artifact in members {
        if is_profile(artifact) {
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
            for platform in uem_platforms(&artifact.platforms) {
                let path = format!("workspace-one/api/{group}/{stem}.{}.json", platform.segment);
                let _ = writeln!(
                    lines,
                    "upload {} {} {} {} {}",
                    platform.segment,
                    sh_quote(platform.name),
                    sh_quote(&name),
                    sh_quote(group),
                    sh_quote(path.trim_start_matches("workspace-one/")),
                );
                files.push(TargetFile {
                    path,
                    bytes: api_body(&name, group, &snippets),
                    upload: format!(
                        "Workspace ONE UEM API: POST /api/mdm/profiles/platforms/{}/create or update (upload.sh)",
                        platform.segment
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
                "Workspace ONE UEM console: custom declaration (Declarative Device Management) in a profile assigned to smart group `{group}`"
            ),
            artifact: Some(artifact.path.clone()),
        });
    }
    GroupLayout::with_fragment(files, SCRIPT, lines)
}

/// `upload.sh`: its functions, then one `upload` line per API body (`body`).
pub(super) fn finish<'a>(body: impl Fn(&str) -> &'a str, context: &Context<'_>) -> Vec<TargetFile> {
    vec![TargetFile {
        path: SCRIPT.into(),
        bytes: format!(
            "{}{}{}",
            script_head(context.organization),
            body(SCRIPT),
            script_tail()
        )
        .into_bytes(),
        upload: format!("run it: {}", Target::WorkspaceOne.next_step("")),
        artifact: None,
    }]
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
fn api_body(name: &str, group: &str, snippets: &[String]) -> Vec<u8> {
    let settings: Vec<_> = snippets
        .iter()
        .map(|snippet| json!({ "CustomSettings": snippet.trim_end() }))
        .collect();
    let body = json!({
        "General": {
            "Name": name,
            "Description": MDM_DESCRIPTION,
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

fn script_head(organization: &str) -> String {
    format!(
        r#"#!/bin/sh
# Creates or updates, by name, every configuration profile bsic built for {organization} in
# Workspace ONE UEM through its REST API (profiles v2), each assigned to the smart group named
# like its bsic group (create those smart groups first).
#
#   WS1_API_URL=https://as1234.awmdm.com WS1_TENANT_CODE=... WS1_OG_ID=1234 \
#   WS1_TOKEN_URL=https://na.uemauth.workspaceone.com/connect/token \
#   WS1_CLIENT_ID=... WS1_CLIENT_SECRET=... sh upload.sh
#
# WS1_OG_ID is the ID of the organization group that manages the profiles. Authenticate with
# an OAuth client (WS1_TOKEN_URL, WS1_CLIENT_ID, WS1_CLIENT_SECRET) or an admin account
# (WS1_USERNAME, WS1_PASSWORD). With BSIC_PRUNE=1, profiles bsic made earlier that this build
# no longer has are deleted. CURL_OPTS adds curl options. Needs curl 7.76 or later and jq.
set -eu
cd "$(dirname "$0")"
: "${{WS1_API_URL:?set WS1_API_URL to the UEM API server URL}}"
: "${{WS1_TENANT_CODE:?set WS1_TENANT_CODE to the UEM API key (aw-tenant-code)}}"
: "${{WS1_OG_ID:?set WS1_OG_ID to the ID of the organization group that manages the profiles}}"
command -v jq >/dev/null 2>&1 || {{ echo "upload.sh needs jq" >&2; exit 1; }}
tab=$(printf '\t')
uploaded=''
{secrets}
if [ -n "${{WS1_CLIENT_ID:-}}" ]; then
  : "${{WS1_TOKEN_URL:?set WS1_TOKEN_URL to the OAuth token URL of your region}}"
  : "${{WS1_CLIENT_SECRET:?set WS1_CLIENT_SECRET to the OAuth client secret}}"
  secret_config token data-urlencode "client_secret=$WS1_CLIENT_SECRET"
  # shellcheck disable=SC2086
  token=$(curl -fsS ${{CURL_OPTS:-}} -K "$private/token" -X POST -H 'Accept: application/json' \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$WS1_CLIENT_ID" "$WS1_TOKEN_URL" |
    jq -r '.access_token // empty')
  [ -n "$token" ] || {{ echo "no access token from $WS1_TOKEN_URL" >&2; exit 1; }}
  secret_config api header "Authorization: Bearer $token" \
    header "aw-tenant-code: $WS1_TENANT_CODE"
else
  : "${{WS1_USERNAME:?set WS1_CLIENT_ID (OAuth) or WS1_USERNAME and WS1_PASSWORD}}"
  : "${{WS1_PASSWORD:?set WS1_PASSWORD}}"
  secret_config api user "$WS1_USERNAME:$WS1_PASSWORD" \
    header "aw-tenant-code: $WS1_TENANT_CODE"
fi

api() {{
  # api VERSION METHOD PATH [curl options...]
  version=$1; method=$2; path=$3; shift 3
  # shellcheck disable=SC2086
  curl -sS --fail-with-body ${{CURL_OPTS:-}} -K "$private/api" -X "$method" \
    -H "Accept: application/json;version=$version" \
    -H 'Content-Type: application/json' "$@" "$WS1_API_URL$path"
}}

search() {{
  # search VERSION PATH QUERY...: the answer of a search, or UEM's error on stderr
  version=$1; path=$2; shift 2
  found=$(api "$version" GET "$path" -G "$@") || {{ printf '%s\n' "$found" >&2; return 1; }}
  printf '%s' "$found"
}}

smart_group_id() {{
  # smart_group_id NAME: the ID of the smart group of exactly that name
  found=$(search 1 /api/mdm/smartgroups/search --data-urlencode "name=$1") || return 1
  printf '%s' "$found" | jq -r --arg name "$1" \
    '[.SmartGroups[]? | select(.Name == $name) | .SmartGroupID][0] // empty'
}}

profile_id() {{
  # profile_id NAME PLATFORM: the ID of the profile of exactly that name on that platform
  found=$(search 2 /api/mdm/profiles/search --data-urlencode "searchtext=$1" \
    --data-urlencode pagesize=500) || return 1
  printf '%s' "$found" | jq -r --arg name "$1" --arg platform "$2" \
    '[.ProfileList[]? | select(.ProfileName == $name and .Platform == $platform) | .ProfileId][0] // empty'
}}

upload() {{
  # upload SEGMENT PLATFORM NAME GROUP FILE: update the profile of that name, or create it
  group_id=$(smart_group_id "$4") || exit 1
  [ -n "$group_id" ] || {{ echo "no smart group named '$4' in UEM: create it first" >&2; exit 1; }}
  existing=$(profile_id "$3" "$2") || exit 1
  if [ -n "$existing" ]; then
    echo "update $5"
    jq --argjson og "$WS1_OG_ID" --argjson group "$group_id" --argjson id "$existing" \
      '.General += {{ProfileId: $id, CreateNewVersion: true, ManagedLocationGroupID: $og}}
       | .General.AssignedSmartGroups[0].SmartGroupId = $group' "$5" |
      api 2 POST "/api/mdm/profiles/platforms/$1/update" --data-binary @-
  else
    echo "create $5"
    jq --argjson og "$WS1_OG_ID" --argjson group "$group_id" \
      '.General.ManagedLocationGroupID = $og
       | .General.AssignedSmartGroups[0].SmartGroupId = $group' "$5" |
      api 2 POST "/api/mdm/profiles/platforms/$1/create" --data-binary @-
  fi
  echo
  uploaded="$uploaded$2$tab$3
"
}}

"#,
        secrets = SH_SECRETS,
    )
}

/// After every upload: with `BSIC_PRUNE=1`, the profiles bsic made earlier (its name prefix
/// and description) that this build no longer has are deleted.
fn script_tail() -> String {
    format!(
        r#"
if [ "${{BSIC_PRUNE:-0}}" = 1 ]; then
  found=$(search 2 /api/mdm/profiles/search --data-urlencode {search} \
    --data-urlencode pagesize=500) || exit 1
  printf '%s' "$found" |
    jq -r --arg prefix {prefix} '.ProfileList[]? | select(.ProfileName | startswith($prefix))
      | "\(.ProfileId)\t\(.Platform)\t\(.ProfileName)"' |
    while IFS="$tab" read -r id platform name; do
      printf '%s' "$uploaded" | grep -qxF -- "$platform$tab$name" && continue
      details=$(api 2 GET "/api/mdm/profiles/$id") || exit 1
      [ "$(printf '%s' "$details" | jq -r '.General.Description // empty')" = {description} ] ||
        continue
      echo "delete $platform profile '$name' (no longer built)"
      api 2 DELETE "/api/mdm/profiles/$id" || exit 1
    done
fi
"#,
        search = sh_quote(&format!("searchtext={DISPLAY_NAME_PREFIX}")),
        prefix = sh_quote(DISPLAY_NAME_PREFIX),
        description = sh_quote(MDM_DESCRIPTION),
    )
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
        let body = api_body("Software updates: pilot", "pilot", &["<dict/>\n".into()]);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["General"]["AssignedSmartGroups"][0]["Name"], "pilot");
        assert_eq!(body["CustomSettingsList"][0]["CustomSettings"], "<dict/>");
    }
}
