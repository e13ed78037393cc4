#!/usr/bin/env bash
# Runs every benchmark (memostore, its baselines and the Python peers) in one
# go and writes bench/RESULTS.md. Takes a few minutes and about 3 GB of disk.
#   usage: bench/run.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
[[ -f build/bench/build.ninja ]] || meson setup build/bench --buildtype=release -Dbenchmarks=true -Dtests=false >/dev/null
# Everything: W4 runs cold-start-static when it exists, so a stale one must not stay behind.
ninja -C build/bench >/dev/null

scratch=$(mktemp -d "${TMPDIR:-/tmp}/memostore-bench.XXXXXX")
# A Redis on a Unix socket for the remote tier's workloads (R1, R2).
redis-server --port 0 --unixsocket "$scratch/redis.sock" --save "" --appendonly no --daemonize yes \
  --pidfile "$scratch/redis.pid" --logfile "$scratch/redis.log" --dir "$scratch"
stop_redis() {  # and wait for it: it writes its log in $scratch as it exits
  local pid
  pid=$(cat "$scratch/redis.pid" 2>/dev/null) || pid=
  if [[ -n $pid ]] && kill "$pid" 2>/dev/null; then
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -rf "$scratch"
}
trap stop_redis EXIT
for _ in $(seq 100); do [[ -S $scratch/redis.sock ]] && break; sleep 0.05; done
results=$scratch/results.jsonl
echo "== memostore and C++ baselines"
build/bench/bench/memostore-bench --dir "$scratch/cpp" --cold-start build/bench/bench/cold-start \
  --redis "redis+unix://$scratch/redis.sock" "$@" | tee "$results"
echo "== Python peers (diskcache, joblib)"
/usr/bin/python3 bench/peers/peers.py "$scratch/peers" "$@" | tee -a "$results"
BENCH_NOTES=bench/NOTES.md /usr/bin/python3 bench/report.py "$results" "bench/run.sh $*" > bench/RESULTS.md
echo "== wrote bench/RESULTS.md"
