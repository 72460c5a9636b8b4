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
    Artifact, Context, GroupLayout, SH_PRELUDE, Target, TargetFile, declaration_type, display_name,
    file_name, has_mobile, is_profile, mdm_description, mdm_description_stem, sh_quote,
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

pub(super) fn render_group(
    group: &str,
    members: &[&Artifact],
    context: &Context<'_>,
) -> GroupLayout {
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
            let description = mdm_description(context, &artifact.bytes);
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
                    bytes: api_body(&name, group, &description, &snippets),
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
        bytes: script(context, body(SCRIPT)).into_bytes(),
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

/// `upload.sh`: its functions, one `upload` line per API body (`body`), then the pruning.
fn script(context: &Context<'_>, body: &str) -> String {
    format!(
        r#"#!/bin/sh
# Creates or updates, by name, every configuration profile bsic built for {organization} in
# Workspace ONE UEM through its REST API (profiles v2), each assigned to the smart group named
# like its bsic group (create those smart groups first).
#
#   WS1_API_URL=https://as1234.awmdm.com WS1_TENANT_CODE=... WS1_OG_ID=1234 \
#   WS1_TOKEN_URL=https://na.uemauth.workspaceone.com/connect/token \
#   WS1_CLIENT_ID=... WS1_CLIENT_SECRET=... sh dist/workspace-one/upload.sh
#
# WS1_OG_ID is the numeric ID of the organization group that manages the profiles; lookups
# stay inside it. Authenticate with an OAuth client (WS1_TOKEN_URL, WS1_CLIENT_ID,
# WS1_CLIENT_SECRET) or an admin account (WS1_USERNAME, WS1_PASSWORD). A profile whose
# content did not change (its description names the content) is saved without a new
# version, so devices do not reinstall it.
# With BSIC_PRUNE=1, the profiles this project made earlier that this build no longer has
# are deleted. CURL_OPTS adds curl options. Needs curl 7.76 or later and jq.
{prelude}
: "${{WS1_API_URL:?set WS1_API_URL to the UEM API server URL}}"
: "${{WS1_TENANT_CODE:?set WS1_TENANT_CODE to the UEM API key (aw-tenant-code)}}"
: "${{WS1_OG_ID:?set WS1_OG_ID to the ID of the organization group that manages the profiles}}"
WS1_API_URL=${{WS1_API_URL%/}}
case $WS1_OG_ID in
  *[!0-9]*)
    echo "WS1_OG_ID must be the numeric ID of the organization group, not its Group ID text" >&2
    exit 1 ;;
esac
uploaded=''

if [ -n "${{WS1_CLIENT_ID:-}}" ]; then
  : "${{WS1_TOKEN_URL:?set WS1_TOKEN_URL to the OAuth token URL of your region}}"
  : "${{WS1_CLIENT_SECRET:?set WS1_CLIENT_SECRET to the OAuth client secret}}"
  secret_config token data-urlencode "client_secret=$WS1_CLIENT_SECRET"
  answer=$(http -fsS -K "$private/token" -X POST -H 'Accept: application/json' \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$WS1_CLIENT_ID" "$WS1_TOKEN_URL")
  token=$(printf '%s' "$answer" | jq -r '.access_token // empty')
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
  http -sS --fail-with-body -K "$private/api" -X "$method" \
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
  # smart_group_id NAME: the ID of the one smart group of exactly that name, if there is one
  found=$(search 1 /api/mdm/smartgroups/search --data-urlencode "name=$1" \
    --data-urlencode "organizationgroupid=$WS1_OG_ID") || return 1
  ids=$(printf '%s' "$found" | jq -r --arg name "$1" \
    '[.SmartGroups[]? | select(.Name == $name) | .SmartGroupID | tostring] | join(" ")') ||
    return 1
  case $ids in
    *" "*) echo "more than one smart group is named '$1' in UEM: keep one" >&2; return 1 ;;
  esac
  printf '%s' "$ids"
}}

profiles() {{
  # profiles TEXT: the profiles whose names contain TEXT, every page, as one JSON array;
  # only those WS1_OG_ID manages (UEM may list a parent group's too)
  rm -f "$private"/page.*
  page=0; seen=0
  while :; do
    found=$(search 2 /api/mdm/profiles/search --data-urlencode "searchtext=$1" \
      --data-urlencode "organizationgroupid=$WS1_OG_ID" --data-urlencode "page=$page" \
      --data-urlencode pagesize=500) || return 1
    [ -n "$found" ] || break
    printf '%s' "$found" > "$private/page.$page"
    count=$(printf '%s' "$found" | jq '.ProfileList // [] | length') || return 1
    total=$(printf '%s' "$found" | jq '.TotalResults // 0') || return 1
    seen=$((seen + count))
    [ "$count" -gt 0 ] && [ "$seen" -lt "$total" ] || break
    page=$((page + 1))
  done
  set -- "$private"/page.*
  [ -f "$1" ] || {{ echo '[]'; return 0; }}
  jq -s --arg og "$WS1_OG_ID" 'map(.ProfileList // []) | add // []
    | map(select((.OrganizationGroupId // $og | tostring) == $og))' "$@"
}}

profile_id() {{
  # profile_id NAME PLATFORM: the ID of the profile of exactly that name on that platform
  list=$(profiles "$1") || return 1
  ids=$(printf '%s' "$list" | jq -r --arg name "$1" --arg platform "$2" \
    '[.[] | select(.ProfileName == $name and .Platform == $platform) | .ProfileId | tostring]
     | join(" ")') || return 1
  case $ids in
    *" "*) echo "more than one $2 profile is named '$1' in UEM: keep one" >&2; return 1 ;;
  esac
  printf '%s' "$ids"
}}

upload() {{
  # upload SEGMENT PLATFORM NAME GROUP FILE: update the profile of that name, or create it
  group_id=$(smart_group_id "$4") || exit 1
  [ -n "$group_id" ] || {{ echo "no smart group named '$4' in UEM: create it first" >&2; exit 1; }}
  existing=$(profile_id "$3" "$2") || exit 1
  if [ -n "$existing" ]; then
    current=$(api 2 GET "/api/mdm/profiles/$existing") || exit 1
    ours=$(printf '%s' "$current" | jq --arg stem {stem} \
      '.General.Description // "" | startswith($stem)') || exit 1
    if [ "$ours" != true ]; then
      echo "UEM has a $2 profile named '$3' that this project did not make: rename or delete it" >&2
      exit 1
    fi
    same=$(printf '%s' "$current" | jq --slurpfile new "$5" \
      '.General.Description == $new[0].General.Description') || exit 1
    if [ "$same" = true ]; then
      echo "update $5 (content unchanged: no new version)"; new_version=false
    else
      echo "update $5"; new_version=true
    fi
    jq --argjson og "$WS1_OG_ID" --argjson group "$group_id" --argjson id "$existing" \
      --argjson new_version "$new_version" \
      '.General += {{ProfileId: $id, CreateNewVersion: $new_version, ManagedLocationGroupID: $og}}
       | .General.AssignedSmartGroups[0].SmartGroupId = $group' "$5" > "$private/body"
    api 2 POST "/api/mdm/profiles/platforms/$1/update" --data-binary "@$private/body"
  else
    echo "create $5"
    jq --argjson og "$WS1_OG_ID" --argjson group "$group_id" \
      '.General.ManagedLocationGroupID = $og
       | .General.AssignedSmartGroups[0].SmartGroupId = $group' "$5" > "$private/body"
    api 2 POST "/api/mdm/profiles/platforms/$1/create" --data-binary "@$private/body"
  fi
  echo
  uploaded="$uploaded$2$tab$3
"
}}

{body}
# With BSIC_PRUNE=1, the profiles this project made earlier (bsic's name prefix and its
# description) that this build no longer has are deleted.
if [ "${{BSIC_PRUNE:-0}}" = 1 ]; then
  list=$(profiles {prefix})
  rows=$(printf '%s' "$list" | jq -r --arg prefix {prefix} \
    '.[] | select(.ProfileName | startswith($prefix))
     | "\(.ProfileId)\t\(.Platform)\t\(.ProfileName)"')
  printf '%s\n' "$rows" | while IFS="$tab" read -r id platform name; do
    [ -n "$id" ] || continue
    printf '%s' "$uploaded" | grep -qxF -- "$platform$tab$name" && continue
    details=$(api 2 GET "/api/mdm/profiles/$id")
    ours=$(printf '%s' "$details" | jq --arg stem {stem} \
      '.General.Description // "" | startswith($stem)')
    [ "$ours" = true ] || continue
    echo "delete $platform profile '$name' (no longer built)"
    api 2 DELETE "/api/mdm/profiles/$id"
  done
fi
"#,
        organization = context.organization,
        prelude = SH_PRELUDE,
        prefix = sh_quote(DISPLAY_NAME_PREFIX),
        stem = sh_quote(&mdm_description_stem(context)),
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
