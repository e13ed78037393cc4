#!/usr/bin/env bash
# Runs every benchmark (memostore, its baselines and the Python peers) in one
# go and writes bench/RESULTS.md. Takes a few minutes and about 3 GB of disk.
#   usage: bench/run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
[[ -f build/bench/build.ninja ]] || meson setup build/bench --buildtype=release -Dbenchmarks=true -Dtests=false >/dev/null
ninja -C build/bench bench/memostore-bench bench/cold-start >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/memostore-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
results=$scratch/results.jsonl
echo "== memostore and C++ baselines"
build/bench/bench/memostore-bench --dir "$scratch/cpp" --cold-start build/bench/bench/cold-start "$@" | tee "$results"
echo "== Python peers (diskcache, joblib)"
/usr/bin/python3 bench/peers/peers.py "$scratch/peers" "$@" | tee -a "$results"
BENCH_NOTES=bench/NOTES.md /usr/bin/python3 bench/report.py "$results" "bench/run.sh $*" > bench/RESULTS.md
echo "== wrote bench/RESULTS.md"
