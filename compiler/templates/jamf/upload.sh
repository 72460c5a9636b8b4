#!/bin/sh
# Creates or updates, by name, every configuration profile bsic built for {{ organization }} in Jamf Pro
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
{% include "upload-prelude.sh" %}

: "${JAMF_URL:?set JAMF_URL to the Jamf Pro URL}"
: "${JAMF_CLIENT_ID:?set JAMF_CLIENT_ID to an API client ID}"
: "${JAMF_CLIENT_SECRET:?set JAMF_CLIENT_SECRET to the API client secret}"
JAMF_URL=${JAMF_URL%/}
secret_config token data-urlencode "client_secret=$JAMF_CLIENT_SECRET"
answer=$(http -fsS -K "$private/token" -X POST "$JAMF_URL/api/oauth/token" \
  --data-urlencode "client_id=$JAMF_CLIENT_ID" --data-urlencode grant_type=client_credentials)
token=$(printf '%s' "$answer" | jq -r '.access_token // empty')
[ -n "$token" ] || { echo "no token from $JAMF_URL" >&2; exit 1; }
secret_config api header "Authorization: Bearer $token"
uploaded=''

get() {
  # get PATH: a Classic API resource as JSON
  http -fsS -K "$private/api" -H 'Accept: application/json' "$JAMF_URL$1"
}

upload() {
  # upload ENDPOINT NAME FILE DESCRIPTION: create the profile of that name, or update it
  # unless it has this DESCRIPTION already (which names the content: an update is sent to
  # every device that has the profile)
  uploaded="$uploaded$1$tab$2
"
  name=$(printf %s "$2" | sed 's/ /%20/g')
  status=$(http -sS -o "$private/current" -w '%{http_code}' -K "$private/api" \
    -H 'Accept: application/json' "$JAMF_URL/JSSResource/$1/name/$name")
  case $status in
    200)
      have=$(jq -r '.[keys[0]].general.description // empty' "$private/current")
      if [ "$have" = "$4" ]; then
        echo "unchanged $3"
        return 0
      fi
      case $have in
        {{ description_stem|sh_quote }}*) ;;
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
}
{{ groups }}
# With BSIC_PRUNE=1, the profiles this project made earlier (bsic's name prefix and its
# description) that this build no longer has are deleted.
if [ "${BSIC_PRUNE:-0}" = 1 ]; then
  for endpoint in osxconfigurationprofiles mobiledeviceconfigurationprofiles; do
    list=$(get "/JSSResource/$endpoint")
    rows=$(printf '%s' "$list" | jq -r --arg prefix {{ display_name_prefix|sh_quote }} \
      '.[keys[0]][]? | select(.name | startswith($prefix)) | "\(.id)\t\(.name)"')
    printf '%s\n' "$rows" | while IFS="$tab" read -r id name; do
      [ -n "$id" ] || continue
      printf '%s' "$uploaded" | grep -qxF -- "$endpoint$tab$name" && continue
      details=$(get "/JSSResource/$endpoint/id/$id")
      ours=$(printf '%s' "$details" | jq --arg stem {{ description_stem|sh_quote }} \
        '.[keys[0]].general.description // "" | startswith($stem)')
      [ "$ours" = true ] || continue
      echo "delete $endpoint profile '$name' (no longer built)"
      http -fsS -o /dev/null -K "$private/api" -X DELETE "$JAMF_URL/JSSResource/$endpoint/id/$id"
    done
  done
fi
