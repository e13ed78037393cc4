#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time, starting from the seed corpus
# kept in the repository (never writing into it). A crash fails the test; the
# input that caused it is saved in the build directory as fuzz-crash-*.
# usage: run_fuzzer.sh TARGET SEED_DIR SECONDS
set -euo pipefail
target=$1 seeds=$2 seconds=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# -malloc_limit_mb: a few KB of input must never make the decoder allocate tens of MB.
"$target" -max_total_time="$seconds" -timeout=10 -malloc_limit_mb=64 -rss_limit_mb=1024 \
  -artifact_prefix="$PWD/fuzz-" -print_final_stats=1 "$work" "$seeds"
