#!/usr/bin/env bash
# bsic against the process floor and the usual alternatives, in one run.
#
#   bench/compare.sh [--contour CMD] [--ratios-only] [SIZE...]   default sizes: 100 1000 10000
#
# First the ratios of issue 22 (bench/ratios.py), each against something measured in the same
# run: one-file `check` and `validate` against spawning /bin/true, contour on one declaration
# (only with --contour; CMD is a shell command with {} for the file, e.g. 'contour validate {}'),
# CPU ÷ wall of `check` and `validate` on 1,000 policies, build + sign of 1,000 policies
# (RSA-2048 and P-256) against unsigned build + signatures ÷ cores (from `openssl speed`) and
# against one `openssl cms -sign` per profile, and `bsic lsp` on 1,000 policies through Neovim's
# own client (bench/nvim_latency.lua; when `nvim` is installed). With --ratios-only that is all.
#
# Then, for each size, it generates a fleet (`cargo xtask gen-fleet SIZE`) and measures wall
# time (hyperfine when installed, else a `date +%s%N` loop) and peak RSS (`/usr/bin/time -v`) of:
#   bsic check · bsic build (unsigned) · bsic build, profiles signed (P-256) · the same with
#   all four MDM layouts (--target fleet, kmfddm, jamf, workspace-one)
#   python3 bench/python_validate.py (plistlib + jsonschema over the same artifacts)
#   check-jsonschema over the JSON declarations (one call per declaration type)
#   openssl cms -sign, once per profile
# plus `bsic check` on a one-file repository (cold process start).
#
# The last run's figures (with nproc, `openssl speed rsa2048` and the load average) go to
# bench/results.md.
#
# Environment: BSIC (the binary to measure; default: build target/release/bsic), BSIC_SHIPPED
# (optional: a static musl build, as bsic ships for Linux, whose one-file commands are timed
# too: `cargo build --release --target x86_64-unknown-linux-musl`), BENCH_DIR
# (scratch directory; default a fresh one under $TMPDIR, use a tmpfs such as /dev/shm to take
# the disk out of the numbers), RUNS (default 5), ALT_MAX (skip the slow per-file alternatives
# above this size; default 10000).
# Needs: cargo, python3 with jsonschema, openssl; optional: hyperfine, check-jsonschema
# (pip install check-jsonschema), GNU time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONTOUR=""
RATIOS_ONLY=0
SIZES=()
while [ $# -gt 0 ]; do
  case $1 in
    --contour) CONTOUR=$2; shift 2 ;;
    --ratios-only) RATIOS_ONLY=1; shift ;;
    *) SIZES+=("$1"); shift ;;
  esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100 1000 10000)
RUNS=${RUNS:-5}
ALT_MAX=${ALT_MAX:-10000}
WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/bsic-bench.XXXXXX")}
mkdir -p "$WORK"
RESULTS="$WORK/results.md"

if [ -z "${BSIC:-}" ]; then
  cargo build --release --quiet --bin bsic
  BSIC="${CARGO_TARGET_DIR:-$ROOT/target}/release/bsic"
fi
HAVE_HYPERFINE=$(command -v hyperfine >/dev/null && echo 1 || echo 0)
HAVE_GNU_TIME=$([ -x /usr/bin/time ] && echo 1 || echo 0)
HAVE_CJS=$(command -v check-jsonschema >/dev/null && echo 1 || echo 0)

# A throw-away P-256 signing identity.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=bsic bench" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# mean wall seconds of a shell command, over RUNS runs (after one warm-up)
wall() {
  local cmd=$1 runs=${2:-$RUNS}
  if [ "$HAVE_HYPERFINE" = 1 ]; then
    hyperfine --warmup 1 --runs "$runs" --style none --export-json "$WORK/h.json" \
      -N "$cmd" >/dev/null 2>&1 || hyperfine --warmup 1 --runs "$runs" --style none \
      --export-json "$WORK/h.json" "$cmd" >/dev/null 2>&1
    python3 -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["results"][0]["mean"])' "$WORK/h.json"
  else
    bash -c "$cmd" >/dev/null 2>&1 || true
    local start end
    start=$(date +%s%N)
    for _ in $(seq "$runs"); do bash -c "$cmd" >/dev/null 2>&1 || true; done
    end=$(date +%s%N)
    awk -v s="$start" -v e="$end" -v n="$runs" 'BEGIN { printf "%.4f\n", (e - s) / n / 1e9 }'
  fi
}

# peak RSS in MB of a shell command (one run)
rss() {
  if [ "$HAVE_GNU_TIME" = 1 ]; then
    /usr/bin/time -v bash -c "$1" 2>&1 >/dev/null | awk '/Maximum resident/ { printf "%.0f\n", $6 / 1024 }'
  else
    echo "n/a"
  fi
}

row() { printf '| %s | %s | %s | %s |\n' "$@" | tee -a "$RESULTS"; }

# The ratios, side by side with /bin/true, contour and openssl.
python3 "$ROOT/bench/ratios.py" "$BSIC" "$WORK/ratios" ${CONTOUR:+--contour "$CONTOUR"} \
  ${BSIC_SHIPPED:+--shipped "$BSIC_SHIPPED"} \
  --out "$WORK/ratios.md"
rsa=$(openssl speed -seconds 2 rsa2048 2>/dev/null | awk '/^rsa 2048/ { print $(NF-1) }')
# How much of the start-up layout (compiler/build/startup-order.txt) this build still matches:
# a stale list costs the one-file figures their code locality (docs/architecture.md).
order=$(cargo xtask startup-order --check --binary "$BSIC" 2>&1 | head -1 || true)
echo "$order"
{
  cat "$WORK/ratios.md"
  echo
  echo "Machine: $(nproc) cores (nproc), openssl speed rsa2048: ${rsa:-?} signatures/s on one core," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo "Start-up layout: ${order:-not checked}."
  args=""
  [ -z "$CONTOUR" ] || args+=" --contour '$CONTOUR'"
  [ "$RATIOS_ONLY" = 0 ] || args+=" --ratios-only"
  echo "Command: \`bench/compare.sh$args\`"
  echo
} >"$ROOT/bench/results.md"
if [ "$RATIOS_ONLY" = 1 ]; then
  echo "results: $ROOT/bench/results.md"
  exit 0
fi

{
  echo "# bsic benchmark, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -sr)"
  echo "bsic $(git rev-parse --short HEAD 2>/dev/null || echo '?'), scratch: $WORK, runs: $RUNS, hyperfine: $HAVE_HYPERFINE"
  echo
} | tee "$RESULTS"

# One policy file: the cold-start number a pre-commit hook feels.
ONE="$WORK/one-file"
mkdir -p "$ONE/policies"
cp "$ROOT/bsic.kdl" "$ONE/"
cat >"$ONE/policies/all.kdl" <<'KDL'
group "pilot"
policy "bsi-fast-lane" {
    applies-to "pilot"
    platforms "macOS"
    background-security { automatic-install "always-on"; allow-rollback #false }
    enforce version="26.3.1" build="25D771280a" by="2026-04-01T09:00:00"
}
KDL
row "what" "size" "wall (s)" "peak RSS (MB)"
row "---" "---:" "---:" "---:"
row "bsic check, 1-file repo" 1 "$(wall "$BSIC check $ONE" 20)" "$(rss "$BSIC check $ONE")"

for n in "${SIZES[@]}"; do
  fleet="$WORK/fleet-$n"
  [ -d "$fleet" ] || cargo xtask gen-fleet "$n" --out "$fleet" >/dev/null
  dist="$fleet/dist"
  signed="$fleet/dist-signed"
  sign_args="--sign-cert $WORK/cert.pem --sign-key $WORK/key.pem"
  row "bsic check" "$n" "$(wall "$BSIC check $fleet")" "$(rss "$BSIC check $fleet")"
  row "bsic build (unsigned)" "$n" "$(wall "$BSIC build $fleet --out $dist")" \
    "$(rss "$BSIC build $fleet --out $dist")"
  row "bsic build + sign" "$n" "$(wall "$BSIC build $fleet --out $signed $sign_args")" \
    "$(rss "$BSIC build $fleet --out $signed $sign_args")"
  targets="--target fleet --target kmfddm --target jamf --target workspace-one"
  row "bsic build + sign, all four MDM layouts" "$n" \
    "$(wall "$BSIC build $fleet --out $fleet/dist-mdm $sign_args $targets")" \
    "$(rss "$BSIC build $fleet --out $fleet/dist-mdm $sign_args $targets")"
  profiles=$(find "$dist" -name '*.mobileconfig' | wc -l)
  declarations=$(find "$dist/ddm" -name '*.json' | wc -l)
  echo "<!-- $n policies: $declarations declarations, $profiles profiles -->" >>"$RESULTS"
  [ "$n" -le "$ALT_MAX" ] || continue

  row "python plistlib + jsonschema" "$n" \
    "$(wall "python3 $ROOT/bench/python_validate.py $dist $ROOT/schemas/apple" 1)" \
    "$(rss "python3 $ROOT/bench/python_validate.py $dist $ROOT/schemas/apple")"

  if [ "$HAVE_CJS" = 1 ]; then
    # One check-jsonschema call per declaration type, over all files of that type.
    cjs="$WORK/cjs-$n.sh"
    echo "set -e" >"$cjs"
    for schema in "$ROOT"/schemas/apple/declaration.*.schema.json; do
      type=${schema##*/declaration.}
      type=${type%.schema.json}
      list="$WORK/cjs-$n-$type.txt"
      grep -rl --include='*.json' "\"Type\": *\"$type\"" "$dist/ddm" >"$list" 2>/dev/null || true
      [ -s "$list" ] && echo "xargs -a $list check-jsonschema --schemafile $schema >/dev/null" >>"$cjs"
    done
    row "check-jsonschema (declarations only)" "$n" "$(wall "bash $cjs" 1)" "$(rss "bash $cjs")"
  fi

  # One openssl process per profile, as a shell loop over the unsigned profiles.
  ossl="$WORK/openssl-$n.sh"
  cat >"$ossl" <<SH
find "$dist" -name '*.mobileconfig' | while read -r f; do
  openssl cms -sign -nodetach -binary -md sha256 -outform DER -signer "$WORK/cert.pem" \
    -inkey "$WORK/key.pem" -in "\$f" -out "$WORK/openssl.der"
done
SH
  row "openssl cms -sign per profile ($profiles)" "$n" "$(wall "bash $ossl" 1)" "$(rss "bash $ossl")"
done

cat "$RESULTS" >>"$ROOT/bench/results.md"
echo
echo "results: $ROOT/bench/results.md"
