#!/bin/sh
# Creates or updates, by display name, every configuration profile bsic built for {{ organization }}
# in Microsoft Intune through Microsoft Graph (v1.0 deviceConfigurations: a
# macOSCustomConfiguration for Macs, an iosCustomConfiguration for iPhone and iPad), and
# assigns each to the Entra ID group whose display name is its bsic group's (create those
# groups first).
#
#   INTUNE_TENANT_ID=contoso.onmicrosoft.com INTUNE_CLIENT_ID=... INTUNE_CLIENT_SECRET=... \
#   sh dist/intune/upload.sh
#
# The app registration needs the application permissions DeviceManagementConfiguration.ReadWrite.All
# and Group.Read.All (admin consent given). A profile whose content did not change (its
# description names the content) is not sent again; its assignment is set all the same. A
# profile of the same name that this project did not make stops the script.
# With BSIC_PRUNE=1, the profiles this project made earlier that this build no longer has
# are deleted. GRAPH_URL and LOGIN_URL select a national cloud (default: the global service).
# The software-update declarations in declarations/ are entered in the settings catalog by
# hand (docs/targets.md). CURL_OPTS adds curl options. Needs curl 7.76 or later and jq.
{% include "upload-prelude.sh" %}

: "${INTUNE_TENANT_ID:?set INTUNE_TENANT_ID to the Entra ID tenant ID or domain}"
: "${INTUNE_CLIENT_ID:?set INTUNE_CLIENT_ID to the client ID of the app registration}"
: "${INTUNE_CLIENT_SECRET:?set INTUNE_CLIENT_SECRET to the client secret of the app registration}"
GRAPH_URL=${GRAPH_URL:-https://graph.microsoft.com}
GRAPH_URL=${GRAPH_URL%/}
LOGIN_URL=${LOGIN_URL:-https://login.microsoftonline.com}
LOGIN_URL=${LOGIN_URL%/}
config_path=/deviceManagement/deviceConfigurations
uploaded=''

secret_config token data-urlencode "client_secret=$INTUNE_CLIENT_SECRET"
answer=$(http -fsS -K "$private/token" -X POST \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode "client_id=$INTUNE_CLIENT_ID" \
  --data-urlencode "scope=$GRAPH_URL/.default" \
  "$LOGIN_URL/$INTUNE_TENANT_ID/oauth2/v2.0/token")
token=$(printf '%s' "$answer" | jq -r '.access_token // empty')
[ -n "$token" ] || { echo "no access token from $LOGIN_URL" >&2; exit 1; }
secret_config api header "Authorization: Bearer $token"

graph() {
  # graph METHOD PATH [curl options...]: a Graph v1.0 request, its answer on stdout
  method=$1; path=$2; shift 2
  http -sS --fail-with-body -K "$private/api" -X "$method" -H 'Accept: application/json' \
    "$@" "$GRAPH_URL/v1.0$path"
}

every_page() {
  # every_page PATH [curl options...]: the `value` of every page of a Graph collection, as
  # one JSON array; follows @odata.nextLink only on GRAPH_URL, which gets the token
  rm -f "$private"/page.*
  page=0
  found=$(graph GET "$@") || { printf '%s\n' "$found" >&2; return 1; }
  while :; do
    printf '%s' "$found" > "$private/page.$page"
    next=$(printf '%s' "$found" | jq -r '."@odata.nextLink" // empty') || return 1
    [ -n "$next" ] || break
    case $next in
      "$GRAPH_URL/v1.0/"*) ;;
      *) echo "Graph sent a next page outside GRAPH_URL: $next" >&2; return 1 ;;
    esac
    page=$((page + 1))
    found=$(graph GET "${next#"$GRAPH_URL/v1.0"}") || { printf '%s\n' "$found" >&2; return 1; }
  done
  jq -s 'map(.value // []) | add // []' "$private"/page.*
}

group_id() {
  # group_id NAME: the ID of the one Entra ID group of exactly that display name
  quoted=$(printf '%s' "$1" | sed "s/'/''/g")
  list=$(every_page /groups -G --data-urlencode "\$filter=displayName eq '$quoted'" \
    --data-urlencode "\$select=id,displayName") || return 1
  ids=$(printf '%s' "$list" | jq -r --arg name "$1" \
    '[.[] | select(.displayName == $name) | .id] | join(" ")') || return 1
  case $ids in
    "") echo "no Entra ID group is named '$1': create it first" >&2; return 1 ;;
    *" "*) echo "more than one Entra ID group is named '$1': keep one" >&2; return 1 ;;
  esac
  printf '%s' "$ids"
}

configurations() {
  # configurations: every device configuration's type, ID, name and description
  every_page "$config_path" -G --data-urlencode "\$select=id,displayName,description"
}

upload() {
  # upload TYPE NAME GROUP FILE: create the profile of that type and name, or update it,
  # then assign it to the group
  group=$(group_id "$3") || exit 1
  list=$(configurations) || exit 1
  ids=$(printf '%s' "$list" | jq -r --arg type "$1" --arg name "$2" \
    '[.[] | select(."@odata.type" == $type and .displayName == $name) | .id] | join(" ")') ||
    exit 1
  case $ids in
    *" "*) echo "Intune has more than one $1 named '$2': keep one" >&2; exit 1 ;;
  esac
  if [ -n "$ids" ]; then
    id=$ids
    have=$(printf '%s' "$list" | jq -r --arg id "$id" '.[] | select(.id == $id) | .description // ""')
    want=$(jq -r '.description' "$4")
    case $have in
      {{ description_stem|sh_quote }}*) ;;
      *)
        echo "Intune has a profile named '$2' that this project did not make: rename or delete it" >&2
        exit 1 ;;
    esac
    if [ "$have" = "$want" ]; then
      echo "unchanged $4"
    else
      echo "update $4"
      answer=$(graph PATCH "$config_path/$id" -H 'Content-Type: application/json' \
        --data-binary "@$4") || { printf '%s\n' "$answer" >&2; exit 1; }
    fi
  else
    echo "create $4"
    created=$(graph POST "$config_path" -H 'Content-Type: application/json' \
      --data-binary "@$4") || { printf '%s\n' "$created" >&2; exit 1; }
    id=$(printf '%s' "$created" | jq -r '.id // empty')
    [ -n "$id" ] || { echo "Graph created '$2' but answered no id" >&2; exit 1; }
  fi
  jq -n --arg group "$group" '{assignments: [{"@odata.type": "#microsoft.graph.deviceConfigurationAssignment",
      target: {"@odata.type": "#microsoft.graph.groupAssignmentTarget", groupId: $group}}]}' \
    > "$private/assign"
  echo "assign '$2' to Entra ID group '$3'"
  answer=$(graph POST "$config_path/$id/assign" -H 'Content-Type: application/json' \
    --data-binary "@$private/assign") || { printf '%s\n' "$answer" >&2; exit 1; }
  uploaded="$uploaded$1$tab$2
"
}

{{ groups }}
# With BSIC_PRUNE=1, the profiles this project made earlier (bsic's name prefix and its
# description) that this build no longer has are deleted.
if [ "${BSIC_PRUNE:-0}" = 1 ]; then
  list=$(configurations) || exit 1
  rows=$(printf '%s' "$list" | jq -r --arg prefix {{ display_name_prefix|sh_quote }} \
    --arg stem {{ description_stem|sh_quote }} \
    '.[] | select((.displayName // "" | startswith($prefix)) and (.description // "" | startswith($stem)))
     | "\(.id)\t\(."@odata.type")\t\(.displayName)"')
  printf '%s\n' "$rows" | while IFS="$tab" read -r id type name; do
    [ -n "$id" ] || continue
    printf '%s' "$uploaded" | grep -qxF -- "$type$tab$name" && continue
    echo "delete $type '$name' (no longer built)"
    answer=$(graph DELETE "$config_path/$id") || { printf '%s\n' "$answer" >&2; exit 1; }
  done
fi
