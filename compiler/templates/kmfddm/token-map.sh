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
