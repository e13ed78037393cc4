#!/usr/bin/env bash
# Uses memostore as a meson subproject from an outside project, through
# dependency('memostore') (meson.override_dependency), and runs the program.
# usage: subproject_test.sh SOURCE_ROOT CONSUMER_SOURCE
set -euo pipefail
source_root=$(realpath "$1")
consumer=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/subprojects"
ln -s "$source_root" "$work/subprojects/memostore"
cp "$consumer" "$work/consumer.cpp"
cat >"$work/meson.build" <<'MESON'
project('consumer', 'cpp', default_options: ['cpp_std=c++20'])
subproject('memostore', default_options: ['tests=false', 'examples=false'])
executable('consumer', 'consumer.cpp', dependencies: dependency('memostore'))
MESON
meson setup "$work/build" "$work" >/dev/null
ninja -C "$work/build" >/dev/null
"$work/build/consumer" "$work/cache"
