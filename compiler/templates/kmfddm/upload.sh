#!/bin/sh
# Uploads the declarations bsic built for {{ organization }} to KMFDDM, puts them into one set per
# group, and gives the enrollment IDs listed in $BSIC_ENROLLMENTS/<group>.txt (one ID per
# line; '#' starts a comment) the sets enrollment-sets.tsv lists for the group: its own and
# those of the groups that include it (transitively) and of `all`.
#
#   KMFDDM_URL=https://kmfddm.example.com KMFDDM_API_KEY=... sh dist/kmfddm/upload.sh
#
# Each group's set ends up holding exactly that group's declarations (members bsic no longer
# builds are taken out), and an enrollment listed for a group leaves the sets of this
# project's groups it is not a member of. Every change is made without notifying devices;
# each set is notified once at the end, so no device syncs a half-made state. KMFDDM cannot
# list the enrollments of a set: an ID taken off every list keeps its set until removed by
# hand.
#
# Environment: KMFDDM_URL (required), KMFDDM_API_KEY (required), KMFDDM_USER (default
# kmfddm), BSIC_ENROLLMENTS (default: enrollments, relative to where the script is run
# from), BSIC_PRUNE (1: also empty the sets of groups no longer built), CURL_OPTS (extra
# curl options), BSIC_SERVER_TOKENS (where the server token map goes, default
# server-tokens.json beside this script), BSIC_TOKENS_ONLY (1: change nothing, only read the
# server's tokens back into the map). Needs curl and jq.
#
# KMFDDM gives every declaration a ServerToken of its own, so the tokens devices report are
# not bsic's: after the upload the script reads each declaration's token back and writes the
# map that `bsic status` reads to tell a device holding the current declaration from one
# holding an older one.
{% include "upload-prelude.sh" %}

: "${KMFDDM_URL:?set KMFDDM_URL to the KMFDDM server URL}"
: "${KMFDDM_API_KEY:?set KMFDDM_API_KEY to the KMFDDM API key}"
KMFDDM_URL=${KMFDDM_URL%/}
enrollments=${BSIC_ENROLLMENTS:-enrollments}
case $enrollments in /*) ;; *) enrollments=$called_from/$enrollments ;; esac
secret_config api user "${KMFDDM_USER:-kmfddm}:$KMFDDM_API_KEY"
touched=''

{% include "kmfddm/api.sh" %}

list() {
  # list PATH: the strings of the JSON array at PATH, one per line
  answer=$(api GET "$1")
  printf '%s' "$answer" | jq -r '.[]?'
}

reconcile() {
  # reconcile SET FILE: takes out of SET every declaration that FILE does not list
  ids=$(list "/v1/set-declarations/$1")
  printf '%s\n' "$ids" | while read -r id; do
    [ -n "$id" ] || continue
    grep -qxF -- "$id" "$2" || {
      echo "remove $id from $1"
      api DELETE "/v1/set-declarations/$1" -G --data-urlencode "declaration=$id" \
        --data-urlencode nonotify=1
    }
  done
}

assign() {
  # assign GROUP: gives each enrollment listed for GROUP every set enrollment-sets.tsv lists
  # for GROUP, and takes the other sets of this project away from it
  awk -F "$tab" -v group="$1" '$1 == group { print $2 }' enrollment-sets.tsv > "$private/sets"
  awk -F "$tab" -v group="$1" '$2 == group { print $1 }' "$private/enrolled" |
    while read -r enrollment; do
      while read -r set; do
        api PUT "/v1/enrollment-sets/$enrollment?set=$set&nonotify=1"
      done < "$private/sets"
      others=$(list "/v1/enrollment-sets/$enrollment")
      printf '%s\n' "$others" | while read -r other; do
        [ -n "$other" ] || continue
        grep -qxF -- "$other" "$private/sets" && continue
        cut -f2 enrollment-sets.tsv | grep -qxF -- "$other" || continue
        echo "move $enrollment out of $other"
        api DELETE "/v1/enrollment-sets/$enrollment" -G --data-urlencode "set=$other" \
          --data-urlencode nonotify=1
      done
    done
}

{% include "kmfddm/token-map.sh" %}

if [ "${BSIC_TOKENS_ONLY:-0}" = 1 ]; then
  # Only read the server's tokens back (nothing is changed on the server).
  write_token_map
  exit 0
fi

# Every enrollments list is read and checked before anything is sent.
: > "$private/enrolled"
grep -v '^#' enrollment-sets.tsv | cut -f1 | uniq | while read -r group; do
  file=$enrollments/$group.txt
  if [ ! -f "$file" ]; then
    echo "no $file: no enrollment gets group $group's sets" >&2
    continue
  fi
  tr -d '\r' < "$file" | sed 's/#.*//; s/^[[:space:]]*//; s/[[:space:]]*$//' |
    while read -r enrollment; do
      [ -n "$enrollment" ] || continue
      case $enrollment in
        *[!A-Za-z0-9._:-]*) echo "$file: '$enrollment' is not an enrollment ID" >&2; exit 1 ;;
      esac
      printf '%s\t%s\n' "$enrollment" "$group"
    done >> "$private/enrolled"
done
twice=$(cut -f1 "$private/enrolled" | sort | uniq -d)
if [ -n "$twice" ]; then
  echo "listed for more than one group: $(echo $twice)" >&2
  exit 1
fi

for file in declarations/*.json; do
  [ -f "$file" ] || continue  # no declarations at all: the pattern stays as it is
  echo "declaration $file"
  api PUT '/v1/declarations?nonotify=1' -H 'Content-Type: application/json' \
    --data-binary "@$file"
done
{{ groups }}
# Now that every set is filled, each listed enrollment gets its group's sets.
grep -v '^#' enrollment-sets.tsv | cut -f1 | uniq | while read -r group; do
  assign "$group"
done

# With BSIC_PRUNE=1, the sets of groups no longer built (named {{ identifier_prefix|sh_quote }}.<group>) are emptied.
if [ "${BSIC_PRUNE:-0}" = 1 ]; then
  names=$(list /v1/sets)
  set -f
  for set in $names; do
    case $set in
      {{ identifier_prefix|sh_quote }}.*)
        cut -f2 enrollment-sets.tsv | grep -qxF -- "$set" || {
          echo "prune $set"
          reconcile "$set" /dev/null
          touched="$touched$set
"
        } ;;
    esac
  done
  set +f
fi

# One notification per changed set, now that everything is in place.
set -f
for set in $touched; do
  api POST /v1/notify -G --data-urlencode "set=$set" > /dev/null
done
set +f

# The ServerToken KMFDDM assigned to each declaration, for `bsic status`.
write_token_map || {
  echo "the upload is complete, but the server token map was not written; bsic status cannot tell current declarations from older ones until it is (retry: BSIC_TOKENS_ONLY=1 sh upload.sh)" >&2
  exit 1
}
