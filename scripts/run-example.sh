#!/usr/bin/env bash
# Installs what is missing, builds, and runs the example pipeline twice on a
# fresh cache: the first run computes, the second (a new process) only hits.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[[ -f build/release/build.ninja ]] || meson setup build/release --buildtype=release -Dtests=false >/dev/null
ninja -C build/release examples/pipeline >/dev/null

work=build/example-run
mkdir -p "$work"
rm -rf "$work/.memostore"
cd "$work"
echo "== first run: computes and stores every step"
MEMOSTORE_DIR=.memostore ../release/examples/pipeline
echo
echo "== second run: a new process on the same cache directory"
MEMOSTORE_DIR=.memostore ../release/examples/pipeline
