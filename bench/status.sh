#!/usr/bin/env bash
# `bsic status` on N generated status reports (default 100,000) with an N-row inventory:
# wall time (hyperfine, or GNU time's best of RUNS without it) and peak RSS (GNU time). The
# figures in docs/status.md; `bench/status.sh 1000000` is the million-device one (about 1 GB
# of JSON Lines in BENCH_DIR).
#
# Usage: bench/status.sh [N]
# Environment: BENCH_DIR (scratch; default a fresh one under $TMPDIR), RUNS (default 5),
#   FORMAT (default json; human prints the summary only).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
N=${1:-100000}
RUNS=${RUNS:-5}
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bsic-status-bench.XXXXXX")}
mkdir -p "$WORK"

cargo build --release --quiet --bin bsic
BSIC="${CARGO_TARGET_DIR:-$ROOT/target}/release/bsic"
project="$WORK/project"
rm -rf "$project" && cp -r "$ROOT/tests/fixtures/status/fleet" "$project"
"$BSIC" build "$project" --out "$project/dist" --quiet 2>/dev/null
python3 "$ROOT/bench/status_reports.py" "$project/dist/manifest.json" "$N" "$project/in"
size=$(du -m "$project/in/reports.jsonl" | cut -f1)

cmd="$BSIC status --dir $project --reports $project/in/reports.jsonl --devices $project/in/devices.csv --dist $project/dist --now 2027-01-01T00:00:00 --format ${FORMAT:-json} --html $WORK/report.html"
if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$RUNS" --style none --export-json "$WORK/h.json" -N "$cmd" >/dev/null
    wall=$(python3 -c "import json; print('%.2f s (mean of $RUNS)' % json.load(open('$WORK/h.json'))['results'][0]['mean'])")
else
    best=""
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f %e -o "$WORK/time.txt" $cmd >/dev/null 2>&1
        t=$(tail -1 "$WORK/time.txt")
        best=$(python3 -c "print(min(float(x) for x in '$best $t'.split()))")
    done
    wall="$best s (best of $RUNS)"
fi
/usr/bin/time -v -o "$WORK/time.txt" $cmd >/dev/null 2>&1
rss=$(awk '/Maximum resident/ { printf "%.0f", $6 / 1024 }' "$WORK/time.txt")
html=$(( $(stat -c %s "$WORK/report.html") / 1024 ))
echo "bsic status: $N reports ($size MB of JSON Lines) + $N-row inventory: $wall, peak RSS $rss MB, HTML report $html KB (load average $(cut -d' ' -f1 /proc/loadavg))"
