#!/usr/bin/env bash
# `bsic catalog import` on a generated real-size lookup-service feed (default 6,000 releases,
# each with Apple-sized SupportedDevices), and `bsic check` on the generated 1,000-policy
# fleet without and with that catalog pinned: wall time and peak RSS (GNU time). The figures
# in docs/catalog.md.
#
# Usage: bench/catalog.sh [RELEASES] [POLICIES]
# Environment: BENCH_DIR (scratch; default a fresh one under $TMPDIR), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RELEASES=${1:-6000}
POLICIES=${2:-1000}
RUNS=${RUNS:-3}
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bsic-catalog-bench.XXXXXX")}
mkdir -p "$WORK"

cargo build --release --quiet --bin bsic
BSIC="${CARGO_TARGET_DIR:-$ROOT/target}/release/bsic"
python3 "$ROOT/bench/catalog_feed.py" "$RELEASES" "$WORK/pmv.json"
size=$(du -m "$WORK/pmv.json" | cut -f1)

# The best of RUNS: "wall_seconds rss_mb".
measure() {
  local best="" line
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null 2>&1 || true
    line=$(tail -1 "$WORK/time")
    if [ -z "$best" ] || awk -v a="$line" -v b="$best" 'BEGIN { split(a, x); split(b, y); exit !(x[1] < y[1]) }'; then
      best=$line
    fi
  done
  awk -v l="$best" 'BEGIN { split(l, x); printf "%.3f s, peak RSS %.0f MB", x[1], x[2] / 1024 }'
}

fleet="$WORK/fleet"
rm -rf "$fleet"
cargo run -q --release -p xtask -- gen-fleet "$POLICIES" --out "$fleet"
echo "catalog import: $RELEASES releases ($size MB): $(measure "$BSIC" catalog import "$WORK/pmv.json" --out "$fleet/catalog/apple-releases.json")"
export SOURCE_DATE_EPOCH=1780000000 # 2026-05-28: the fleet's deadlines are ahead
echo "check, $POLICIES policies, no catalog: $(measure "$BSIC" check "$fleet")"
pin=$("$BSIC" catalog import "$WORK/pmv.json" --out "$fleet/catalog/apple-releases.json" | grep -o 'catalog "[^"]*" sha256="[0-9a-f]*"')
pin=${pin/catalog \"$fleet\//catalog \"}
printf '%s\n' "$pin" >>"$fleet/bsic.kdl"
"$BSIC" check "$fleet" >/dev/null 2>&1 || { echo "the fleet does not check with the catalog pinned"; "$BSIC" check "$fleet" 2>&1 | tail -5; exit 1; }
echo "check, $POLICIES policies, catalog pinned: $(measure "$BSIC" check "$fleet")"
