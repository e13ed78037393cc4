#!/usr/bin/env bash
# Installs the build into a staging root, then compiles and runs an outside
# program using only `pkg-config --cflags --libs memostore`.
# usage: install_test.sh BUILD_DIR CONSUMER_SOURCE
set -euo pipefail
build=$1
consumer=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

meson install -C "$build" --no-rebuild --destdir "$stage" --quiet
pc=$(find "$stage" -name memostore.pc | head -n 1)
[[ -n $pc ]] || { echo "memostore.pc was not installed"; exit 1; }
find "$stage" -path '*include/memostore/memostore.hpp' | grep -q . || { echo "headers were not installed"; exit 1; }

# The .pc file names the final prefix; the sysroot maps it into the staging root.
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$stage
flags=$(pkg-config --cflags --libs memostore)
echo "pkg-config: $flags"
# shellcheck disable=SC2086  # the flags are a list
c++ -std=c++20 "$consumer" $flags -o "$stage/consumer"
libdir=$stage$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=libdir memostore)
LD_LIBRARY_PATH=$libdir "$stage/consumer" "$stage/cache"
