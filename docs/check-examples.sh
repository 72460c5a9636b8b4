#!/usr/bin/env bash
# Checks the KDL examples in the documentation against the real compiler.
#
#   docs/check-examples.sh [FILE.md ...]      (default: docs/language.md docs/diagnostics.md)
#
# Every ```kdl block is copied into its own temporary project made of the repository's
# bsic.kdl and policies/groups.kdl, then `bsic check` runs on that project:
#
#   ```kdl                  must pass: `bsic check` exits 0 (warnings are allowed)
#   ```kdl expect=CODE[,CODE…]
#                           must report exactly these codes (e.g. bsic::unknown-node), as
#                           errors, warnings or a fatal error, and no other code
#
# A block whose first line is `// bsic.kdl` replaces the project file instead of being
# added as a policy file. Set BSIC to the binary to test; otherwise the script builds
# target/debug/bsic with cargo. Exits 1 if any block fails, 2 on usage errors.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ "$#" -eq 0 ]; then
  set -- docs/language.md docs/diagnostics.md
fi
for doc in "$@"; do
  [ -f "$doc" ] || { echo "check-examples: no such file: $doc" >&2; exit 2; }
done

if [ -z "${BSIC:-}" ]; then
  cargo build --quiet --package bsic
  BSIC="${CARGO_TARGET_DIR:-$root/target}/debug/bsic"
fi
[ -x "$BSIC" ] || { echo "check-examples: $BSIC is not executable" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Split every document into numbered blocks: block-N.kdl plus block-N.meta holding
# "<document>:<line> <expected code or empty>".
count=0
for doc in "$@"; do
  count=$(awk -v dir="$work" -v doc="$doc" -v start="$count" '
    BEGIN { n = start; inside = 0 }
    /^[ \t]*```kdl([ \t].*)?$/ && !inside {
      inside = 1; n++
      match($0, /^[ \t]*/); indent = RLENGTH
      expect = ""
      if (match($0, /expect=[^ \t]+/)) expect = substr($0, RSTART + 7, RLENGTH - 7)
      printf "%s:%d %s\n", doc, NR, expect > (dir "/block-" n ".meta")
      printf "" > (dir "/block-" n ".kdl")
      next
    }
    /^[ \t]*```/ && inside { inside = 0; next }
    inside {
      line = $0
      match(line, /^[ \t]*/)
      cut = (RLENGTH < indent) ? RLENGTH : indent
      print substr(line, cut + 1) >> (dir "/block-" n ".kdl")
    }
    END { print n }
  ' "$doc")
done

if [ "$count" -eq 0 ]; then
  echo "check-examples: no \`\`\`kdl blocks found" >&2
  exit 1
fi

# Examples date their deadlines in 2026: judge them as of 2026-01-01 so none is "past".
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1767225600}"

failed=0
for i in $(seq 1 "$count"); do
  read -r where expect < "$work/block-$i.meta" || true
  project="$work/project-$i"
  mkdir -p "$project/policies"
  cp bsic.kdl "$project/bsic.kdl"
  cp policies/groups.kdl "$project/policies/groups.kdl"
  command=(check "$project" --format json)
  first_line="$(head -n 1 "$work/block-$i.kdl")"
  if [ "$first_line" = '// bsic.kdl' ]; then
    cp "$work/block-$i.kdl" "$project/bsic.kdl"
  elif printf '%s' "$first_line" | grep -qE '^// tests/[a-z0-9_/-]+\.test\.kdl$'; then
    # A policy test: runs with `bsic test` against the reference policies.
    cp -r policies/. "$project/policies/"
    mkdir -p "$project/tests"
    cp "$work/block-$i.kdl" "$project/${first_line#// }"
    command=(test "$project")
  else
    cp "$work/block-$i.kdl" "$project/policies/example.kdl"
  fi

  status=0
  output="$("$BSIC" --color never "${command[@]}" 2>&1)" || status=$?

  if [ -z "$expect" ]; then
    if [ "$status" -ne 0 ]; then
      echo "FAIL $where: bsic check exited $status"
      printf '%s\n' "$output" | sed 's/^/    /'
      failed=$((failed + 1))
    else
      echo "ok   $where"
    fi
  else
    # Every code reported: JSON lines carry "code":"…"; fatal errors print the code alone
    # on a line.
    reported="$(printf '%s\n' "$output" |
      sed -n -e 's/.*"code":"\(bsic::[a-z0-9:-]*\)".*/\1/p' \
             -e 's/^[[:space:]]*\(bsic::[a-z0-9:-]*\)[[:space:]]*$/\1/p' | sort -u)"
    wanted="$(printf '%s\n' "$expect" | tr ',' '\n' | sort -u)"
    # The base project defines groups most examples leave alone: ignore `unreached-group`
    # unless the example is about it.
    if ! printf '%s\n' "$wanted" | grep -qx 'bsic::unreached-group'; then
      reported="$(printf '%s\n' "$reported" | grep -vx 'bsic::unreached-group' || true)"
    fi
    if [ "$reported" = "$wanted" ]; then
      echo "ok   $where ($expect)"
    else
      echo "FAIL $where: expected exactly $expect, got: $(echo $reported)"
      printf '%s\n' "$output" | sed 's/^/    /'
      failed=$((failed + 1))
    fi
  fi
done

echo "$count examples, $failed failed"
[ "$failed" -eq 0 ]
