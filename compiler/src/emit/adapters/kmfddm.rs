//! KMFDDM (the DDM server of NanoHUB): every declaration as its API takes it, one
//! declaration set per group, the set each group's enrollments get, and `upload.sh`, which
//! drives KMFDDM's HTTP API with curl:
//!
//! * `PUT /v1/declarations` with the declaration JSON as body,
//! * `PUT /v1/set-declarations/{set}?declaration={identifier}` for each member of a set,
//! * `GET /v1/set-declarations/{set}`, then `DELETE …?declaration={identifier}` for each
//!   member no longer built, so each set converges on its group's declarations,
//! * `PUT /v1/enrollment-sets/{enrollment-id}?set={set}` for each enrollment ID the admin
//!   lists in `$BSIC_ENROLLMENTS/<group>.txt` (relative to where the script is run from),
//! * with `BSIC_PRUNE=1`, `GET /v1/sets` and the same emptying for `<prefix>.<group>` sets of
//!   groups no longer built,
//!
//! * last, `GET /v1/declarations/{identifier}` for each declaration, to write the server
//!   token map (`server-tokens.json`, see [`TOKEN_MAP`]): KMFDDM ignores the `ServerToken` a
//!   declaration carries and assigns its own, which is what devices report, so `bsic status`
//!   needs the pair to judge them (`BSIC_TOKENS_ONLY=1` only refreshes the map),
//!
//! all with HTTP basic auth as user `kmfddm` and the API key. KMFDDM carries declarations
//! only: profiles stay in the generic `profiles/` for the MDM server (NanoMDM) to install.
//!
//! The script's parts that are not per group, [`API`] and [`TOKEN_MAP`], are self-contained
//! shell constants.

use std::fmt::Write as _;

use super::{
    Artifact, Context, Fragment, GroupLayout, SH_PRELUDE, Target, TargetFile, declaration_type,
    file_name, sh_quote,
};

const SCRIPT: &str = "kmfddm/upload.sh";
const MAPPING: &str = "kmfddm/enrollment-sets.tsv";
/// Each declaration's identifier and bsic's `ServerToken` for it, one per line: what
/// `upload.sh` pairs with the token KMFDDM assigns when it writes the server token map.
const TOKENS: &str = "kmfddm/tokens.tsv";

/// `api`, the one way `upload.sh` talks to KMFDDM: on an HTTP error it stops, naming the
/// request and the status (401 as the API key refused) and showing what the server said, so
/// a rejected declaration shows KMFDDM's reason; with no answer at all, curl's error and the
/// URL. The body of a success is written on stdout.
const API: &str = r#"api() {
  # api METHOD PATH [curl options...]: the answer on stdout; any HTTP error stops the script
  method=$1; path=$2; shift 2
  : > "$private/answer"
  code=$(http -sS -K "$private/api" -X "$method" -o "$private/answer" -w '%{http_code}' \
    "$@" "$KMFDDM_URL$path") || {
    echo "$method $KMFDDM_URL$path: no answer from KMFDDM (curl's error above)" >&2
    exit 1
  }
  case $code in
    2??|304) cat "$private/answer" ;;
    401)
      echo "$method $KMFDDM_URL$path: HTTP 401 Unauthorized: KMFDDM refused the API key (check KMFDDM_API_KEY and KMFDDM_USER)" >&2
      exit 1 ;;
    *)
      said=$(jq -r '.error? // .message? // empty' "$private/answer" 2>/dev/null) ||
        said=''
      [ -n "$said" ] || said=$(head -c 300 "$private/answer" | tr -d '\r')
      echo "$method $KMFDDM_URL$path: HTTP $code: ${said:-(no message)}" >&2
      exit 1 ;;
  esac
}
"#;

/// `write_token_map`: reads back the `ServerToken` KMFDDM assigned to each declaration of
/// `tokens.tsv` (`GET /v1/declarations/{id}`, all in one curl run) and writes the server
/// token map `bsic status` reads, atomically (a temporary file renamed over the old map), to
/// `$BSIC_SERVER_TOKENS` (relative to where the script is run from) or `server-tokens.json`
/// beside the script. A self-contained block: it needs only the prelude's `http`, `$private`
/// and `$called_from` and the `api` credentials file.
const TOKEN_MAP: &str = r#"
write_token_map() {
  # write_token_map: {"format": "bsic-server-tokens/1", "server": "kmfddm", "declarations":
  # {ID: {"bsic": BSIC-TOKEN, "server": KMFDDM-TOKEN}}} for every declaration of tokens.tsv
  map=${BSIC_SERVER_TOKENS:-server-tokens.json}
  case $map in /*) ;; *) [ -z "${BSIC_SERVER_TOKENS:-}" ] || map=$called_from/$map ;; esac
  mkdir "$private/tokens" || return 1
  grep -v '^#' tokens.tsv | jq -R -r --arg base "$KMFDDM_URL" --arg dir "$private/tokens" '
      split("\t") | select(length == 2)
      | "url = \"\($base)/v1/declarations/\(.[0] | @uri)\"\noutput = \"\($dir)/\(input_line_number).json\""' \
    > "$private/token-requests" || return 1
  if [ -s "$private/token-requests" ]; then
    http -fsS --fail-early -K "$private/api" -K "$private/token-requests" || {
      echo "GET $KMFDDM_URL/v1/declarations/{id}: reading the server's tokens back failed (curl's error above)" >&2
      return 1
    }
  fi
  # Each answer is the declaration as KMFDDM stores it, with its Identifier and ServerToken.
  for answer in "$private/tokens"/*.json; do
    [ -f "$answer" ] && cat "$answer"
  done | jq -n 'reduce inputs as $d ({}; .[$d.Identifier] = $d.ServerToken)' \
    > "$private/server-tokens" || return 1
  tmp=$(mktemp "$map.XXXXXX") || return 1
  if grep -v '^#' tokens.tsv | jq -R -n --slurpfile server "$private/server-tokens" '
      {format: "bsic-server-tokens/1", server: "kmfddm", declarations: (
        [inputs | split("\t") | select(length == 2) | . as [$id, $bsic]
         | {key: $id, value: {bsic: $bsic, server: ($server[0][$id]
             // error("KMFDDM has no ServerToken for \($id)"))}}] | from_entries)}' \
    > "$tmp" && mv -f "$tmp" "$map"; then
    echo "server tokens: $map"
  else
    rm -f "$tmp"
    return 1
  fi
}
"#;

pub(super) fn render_group(
    group: &str,
    members: &[&Artifact],
    context: &Context<'_>,
) -> GroupLayout {
    let set = format!("{}.{group}", context.identifier_prefix);
    let mut files = Vec::new();
    let mut set_members = String::new();
    let mut tokens = String::new();
    for artifact in members {
        if declaration_type(artifact).is_none() {
            continue;
        }
        let _ = writeln!(set_members, "{}", artifact.identifier);
        let _ = writeln!(tokens, "{}\t{}", artifact.identifier, artifact.token);
        files.push(TargetFile {
            path: format!("kmfddm/declarations/{}", file_name(artifact)),
            bytes: artifact.bytes.clone(),
            upload: "KMFDDM: PUT /v1/declarations (upload.sh)".into(),
            artifact: Some(artifact.path.clone()),
        });
    }
    files.push(TargetFile {
        path: format!("kmfddm/sets/{group}.txt"),
        bytes: set_members.into_bytes(),
        upload: format!("KMFDDM: PUT /v1/set-declarations/{set} for each line (upload.sh)"),
        artifact: None,
    });
    let script = format!(
        r#"
# group {group}
set={set}
while read -r id; do
  api PUT "/v1/set-declarations/$set?declaration=$id&nonotify=1"
done < {members}
reconcile "$set" {members}
assign "$set" {group_word}
touched="$touched$set
"
"#,
        set = sh_quote(&set),
        members = sh_quote(&format!("sets/{group}.txt")),
        group_word = sh_quote(group),
    );
    GroupLayout {
        files,
        fragments: vec![
            Fragment {
                path: MAPPING,
                text: format!("{group}\t{set}\n"),
            },
            Fragment {
                path: SCRIPT,
                text: script,
            },
            Fragment {
                path: TOKENS,
                text: tokens,
            },
        ],
    }
}

/// The group → set table and `upload.sh`, around every group's fragments (`body`).
pub(super) fn finish<'a>(body: impl Fn(&str) -> &'a str, context: &Context<'_>) -> Vec<TargetFile> {
    let mut script = String::new();
    let _ = write!(
        script,
        r#"#!/bin/sh
# Uploads the declarations bsic built for {org} to KMFDDM, puts them into one set per
# group, and assigns each group's set to the enrollment IDs listed in
# $BSIC_ENROLLMENTS/<group>.txt (one ID per line; '#' starts a comment).
#
#   KMFDDM_URL=https://kmfddm.example.com KMFDDM_API_KEY=... sh dist/kmfddm/upload.sh
#
# Each group's set ends up holding exactly that group's declarations (members bsic no longer
# builds are taken out), and an enrollment listed for a group leaves the sets of this
# project's other groups. Every change is made without notifying devices; each set is
# notified once at the end, so no device syncs a half-made state. KMFDDM cannot list the
# enrollments of a set: an ID taken off every list keeps its set until removed by hand.
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
{prelude}
: "${{KMFDDM_URL:?set KMFDDM_URL to the KMFDDM server URL}}"
: "${{KMFDDM_API_KEY:?set KMFDDM_API_KEY to the KMFDDM API key}}"
KMFDDM_URL=${{KMFDDM_URL%/}}
enrollments=${{BSIC_ENROLLMENTS:-enrollments}}
case $enrollments in /*) ;; *) enrollments=$called_from/$enrollments ;; esac
secret_config api user "${{KMFDDM_USER:-kmfddm}}:$KMFDDM_API_KEY"
touched=''

{api}
list() {{
  # list PATH: the strings of the JSON array at PATH, one per line
  answer=$(api GET "$1")
  printf '%s' "$answer" | jq -r '.[]?'
}}

reconcile() {{
  # reconcile SET FILE: takes out of SET every declaration that FILE does not list
  ids=$(list "/v1/set-declarations/$1")
  printf '%s\n' "$ids" | while read -r id; do
    [ -n "$id" ] || continue
    grep -qxF -- "$id" "$2" || {{
      echo "remove $id from $1"
      api DELETE "/v1/set-declarations/$1" -G --data-urlencode "declaration=$id" \
        --data-urlencode nonotify=1
    }}
  done
}}

assign() {{
  # assign SET GROUP: gives SET to each enrollment listed for GROUP, and takes the sets of
  # this project's other groups away from it
  awk -F "$tab" -v group="$2" '$2 == group {{ print $1 }}' "$private/enrolled" |
    while read -r enrollment; do
      api PUT "/v1/enrollment-sets/$enrollment?set=$1&nonotify=1"
      others=$(list "/v1/enrollment-sets/$enrollment")
      printf '%s\n' "$others" | while read -r other; do
        [ -n "$other" ] && [ "$other" != "$1" ] || continue
        cut -f2 enrollment-sets.tsv | grep -qxF -- "$other" || continue
        echo "move $enrollment out of $other"
        api DELETE "/v1/enrollment-sets/$enrollment" -G --data-urlencode "set=$other" \
          --data-urlencode nonotify=1
      done
    done
}}

{token_map}
if [ "${{BSIC_TOKENS_ONLY:-0}}" = 1 ]; then
  # Only read the server's tokens back (nothing is changed on the server).
  write_token_map
  exit 0
fi

# Every enrollments list is read and checked before anything is sent.
: > "$private/enrolled"
grep -v '^#' enrollment-sets.tsv | cut -f1 | while read -r group; do
  file=$enrollments/$group.txt
  if [ ! -f "$file" ]; then
    echo "no $file: group $group's set is not assigned to any enrollment" >&2
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
{body}
# With BSIC_PRUNE=1, the sets of groups no longer built (named {prefix}.<group>) are emptied.
if [ "${{BSIC_PRUNE:-0}}" = 1 ]; then
  names=$(list /v1/sets)
  set -f
  for set in $names; do
    case $set in
      {prefix}.*)
        cut -f2 enrollment-sets.tsv | grep -qxF -- "$set" || {{
          echo "prune $set"
          reconcile "$set" /dev/null
          touched="$touched$set
"
        }} ;;
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
write_token_map || {{
  echo "the upload is complete, but the server token map was not written; bsic status cannot tell current declarations from older ones until it is (retry: BSIC_TOKENS_ONLY=1 sh upload.sh)" >&2
  exit 1
}}
"#,
        org = context.organization,
        body = body(SCRIPT),
        prefix = sh_quote(context.identifier_prefix),
        prelude = SH_PRELUDE,
        api = API,
        token_map = TOKEN_MAP,
    );
    vec![
        TargetFile {
            path: MAPPING.into(),
            bytes: format!("# group\tdeclaration set\n{}", body(MAPPING)).into_bytes(),
            upload: "KMFDDM: PUT /v1/enrollment-sets/{enrollment-id}?set={set} (upload.sh)".into(),
            artifact: None,
        },
        TargetFile {
            path: TOKENS.into(),
            bytes: format!("# identifier\tbsic ServerToken\n{}", body(TOKENS)).into_bytes(),
            upload: "read by upload.sh: paired with KMFDDM's ServerToken in server-tokens.json"
                .into(),
            artifact: None,
        },
        TargetFile {
            path: SCRIPT.into(),
            bytes: script.into_bytes(),
            upload: format!("run it: {}", Target::Kmfddm.next_step("")),
            artifact: None,
        },
    ]
}
