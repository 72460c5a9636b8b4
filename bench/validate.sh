#!/usr/bin/env bash
# `bsic validate` against `check-jsonschema` on the same raw files, in one run.
#
# Usage: bench/validate.sh
# The files are real bsic output: a generated 1,000-policy fleet is built, then one group's
# declarations (settings, enforcement, activations, status subscription) are copied under
# new identifiers until there are about 1,000 and all the fleet's profiles into a scratch directory, as a repository of
# hand-kept files would hold them. Rows:
#   one declaration per process (the pre-commit case), bsic and check-jsonschema;
#   1,000 declarations in one process: bsic, and check-jsonschema with one call per
#   declaration type (it takes one schema per call);
#   the profiles in one process: bsic only (check-jsonschema cannot read plists).
# Environment: BENCH_DIR (scratch; default a fresh one under $TMPDIR), RUNS (default 10).
# Needs: cargo, hyperfine, check-jsonschema (pip install check-jsonschema).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${RUNS:-10}
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bsic-validate-bench.XXXXXX")}
mkdir -p "$WORK"

cargo build --release --quiet --bin bsic
BSIC="${CARGO_TARGET_DIR:-$ROOT/target}/release/bsic"

fleet="$WORK/fleet-1000"
[ -d "$fleet" ] || cargo xtask gen-fleet 1000 --out "$fleet" >/dev/null
"$BSIC" build "$fleet" --out "$fleet/dist" --quiet 2>/dev/null
raw="$WORK/raw"
rm -rf "$raw" && mkdir -p "$raw/ddm" "$raw/profiles"
# 1,000 declarations that agree with each other: the first group's settings, enforcement,
# activation and status subscription, each copied under 250 identifiers. (Declarations of
# different groups disagree on purpose, and bsic reports every such pair as a warning; that
# would time the rendering of thousands of warnings, not validation.)
python3 - "$fleet/dist/ddm" "$raw/ddm" <<'PY'
import json, pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
group = sorted(p for p in src.iterdir() if p.is_dir())[0]
files = sorted(group.glob("*.json"))
for n in range(1000 // len(files)):
    for path in files:
        declaration = json.loads(path.read_text())
        declaration["Identifier"] += f".{n}"
        payload = declaration["Payload"]
        if "StandardConfigurations" in payload:
            payload["StandardConfigurations"] = [f"{c}.{n}" for c in payload["StandardConfigurations"]]
        (out / f"{path.stem}.{n}.json").write_text(json.dumps(declaration, indent=2) + "\n")
PY
declarations=$(find "$raw/ddm" -name '*.json' | wc -l)
find "$fleet/dist/profiles" -name '*.mobileconfig' | sort | xargs -I{} cp {} "$raw/profiles/"
one=$(find "$raw/ddm" -name '*settings*.json' | sort | awk 'NR == 1')
[ -n "$one" ] || one=$(find "$raw/ddm" -name '*.json' | sort | awk 'NR == 1')
profiles=$(find "$raw/profiles" -name '*.mobileconfig' | wc -l)

# One check-jsonschema call per declaration type over that type's files.
cjs="$WORK/cjs.sh"
echo "set -e" >"$cjs"
for schema in "$ROOT"/schemas/apple/declaration.*.schema.json; do
  type=${schema##*/declaration.}
  type=${type%.schema.json}
  list="$WORK/cjs-$type.txt"
  grep -l "\"Type\": *\"$type\"" "$raw"/ddm/*.json >"$list" 2>/dev/null || true
  [ -s "$list" ] && echo "xargs -a $list check-jsonschema --schemafile $schema >/dev/null" >>"$cjs"
done
one_type=$(grep -o '"Type": *"[^"]*"' "$one" | awk 'NR == 1' | sed 's/.*"\([^"]*\)"$/\1/')
one_schema="$ROOT/schemas/apple/declaration.$one_type.schema.json"

mean() { # mean wall seconds of a command over $2 runs
  hyperfine --warmup 1 --runs "$2" --style none --export-json "$WORK/h.json" -N "$1" >/dev/null 2>&1
  python3 -c "import json; print('%.4f' % json.load(open('$WORK/h.json'))['results'][0]['mean'])"
}

echo "| run | bsic validate (s) | check-jsonschema (s) |"
echo "|---|---:|---:|"
echo "| one declaration, one process | $(mean "$BSIC validate $one --quiet" "$RUNS") | $(mean "check-jsonschema --schemafile $one_schema $one" 3) |"
echo "| $declarations declarations, one process (check-jsonschema: one call per type) | $(mean "$BSIC validate $raw/ddm --quiet" "$RUNS") | $(mean "bash $cjs" 3) |"
echo "| $profiles profiles (of many groups: overlapping Restrictions are warned about), one process | $(mean "$BSIC validate $raw/profiles --quiet" "$RUNS") | n/a (no plist) |"
