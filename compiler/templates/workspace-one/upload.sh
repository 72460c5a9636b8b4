#!/bin/sh
# Creates or updates, by name, every configuration profile bsic built for {{ organization }} in
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
{% include "upload-prelude.sh" %}

: "${WS1_API_URL:?set WS1_API_URL to the UEM API server URL}"
: "${WS1_TENANT_CODE:?set WS1_TENANT_CODE to the UEM API key (aw-tenant-code)}"
: "${WS1_OG_ID:?set WS1_OG_ID to the ID of the organization group that manages the profiles}"
WS1_API_URL=${WS1_API_URL%/}
case $WS1_OG_ID in
  *[!0-9]*)
    echo "WS1_OG_ID must be the numeric ID of the organization group, not its Group ID text" >&2
    exit 1 ;;
esac
uploaded=''

if [ -n "${WS1_CLIENT_ID:-}" ]; then
  : "${WS1_TOKEN_URL:?set WS1_TOKEN_URL to the OAuth token URL of your region}"
  : "${WS1_CLIENT_SECRET:?set WS1_CLIENT_SECRET to the OAuth client secret}"
  secret_config token data-urlencode "client_secret=$WS1_CLIENT_SECRET"
  answer=$(http -fsS -K "$private/token" -X POST -H 'Accept: application/json' \
    --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$WS1_CLIENT_ID" "$WS1_TOKEN_URL")
  token=$(printf '%s' "$answer" | jq -r '.access_token // empty')
  [ -n "$token" ] || { echo "no access token from $WS1_TOKEN_URL" >&2; exit 1; }
  secret_config api header "Authorization: Bearer $token" \
    header "aw-tenant-code: $WS1_TENANT_CODE"
else
  : "${WS1_USERNAME:?set WS1_CLIENT_ID (OAuth) or WS1_USERNAME and WS1_PASSWORD}"
  : "${WS1_PASSWORD:?set WS1_PASSWORD}"
  secret_config api user "$WS1_USERNAME:$WS1_PASSWORD" \
    header "aw-tenant-code: $WS1_TENANT_CODE"
fi

api() {
  # api VERSION METHOD PATH [curl options...]
  version=$1; method=$2; path=$3; shift 3
  http -sS --fail-with-body -K "$private/api" -X "$method" \
    -H "Accept: application/json;version=$version" \
    -H 'Content-Type: application/json' "$@" "$WS1_API_URL$path"
}

search() {
  # search VERSION PATH QUERY...: the answer of a search, or UEM's error on stderr
  version=$1; path=$2; shift 2
  found=$(api "$version" GET "$path" -G "$@") || { printf '%s\n' "$found" >&2; return 1; }
  printf '%s' "$found"
}

smart_group_id() {
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
}

profiles() {
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
  [ -f "$1" ] || { echo '[]'; return 0; }
  jq -s --arg og "$WS1_OG_ID" 'map(.ProfileList // []) | add // []
    | map(select((.OrganizationGroupId // $og | tostring) == $og))' "$@"
}

profile_id() {
  # profile_id NAME PLATFORM: the ID of the profile of exactly that name on that platform
  list=$(profiles "$1") || return 1
  ids=$(printf '%s' "$list" | jq -r --arg name "$1" --arg platform "$2" \
    '[.[] | select(.ProfileName == $name and .Platform == $platform) | .ProfileId | tostring]
     | join(" ")') || return 1
  case $ids in
    *" "*) echo "more than one $2 profile is named '$1' in UEM: keep one" >&2; return 1 ;;
  esac
  printf '%s' "$ids"
}

upload() {
  # upload SEGMENT PLATFORM NAME GROUP FILE: update the profile of that name, or create it
  group_id=$(smart_group_id "$4") || exit 1
  [ -n "$group_id" ] || { echo "no smart group named '$4' in UEM: create it first" >&2; exit 1; }
  existing=$(profile_id "$3" "$2") || exit 1
  if [ -n "$existing" ]; then
    current=$(api 2 GET "/api/mdm/profiles/$existing") || exit 1
    ours=$(printf '%s' "$current" | jq --arg stem {{ description_stem|sh_quote }} \
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
      '.General += {ProfileId: $id, CreateNewVersion: $new_version, ManagedLocationGroupID: $og}
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
}

{{ groups }}
# With BSIC_PRUNE=1, the profiles this project made earlier (bsic's name prefix and its
# description) that this build no longer has are deleted.
if [ "${BSIC_PRUNE:-0}" = 1 ]; then
  list=$(profiles {{ display_name_prefix|sh_quote }})
  rows=$(printf '%s' "$list" | jq -r --arg prefix {{ display_name_prefix|sh_quote }} \
    '.[] | select(.ProfileName | startswith($prefix))
     | "\(.ProfileId)\t\(.Platform)\t\(.ProfileName)"')
  printf '%s\n' "$rows" | while IFS="$tab" read -r id platform name; do
    [ -n "$id" ] || continue
    printf '%s' "$uploaded" | grep -qxF -- "$platform$tab$name" && continue
    details=$(api 2 GET "/api/mdm/profiles/$id")
    ours=$(printf '%s' "$details" | jq --arg stem {{ description_stem|sh_quote }} \
      '.General.Description // "" | startswith($stem)')
    [ "$ours" = true ] || continue
    echo "delete $platform profile '$name' (no longer built)"
    api 2 DELETE "/api/mdm/profiles/$id"
  done
fi
