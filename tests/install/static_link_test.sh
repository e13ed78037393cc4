#!/usr/bin/env bash
# The README's static link line, run for real: an outside program linked with
# libmemostore.a and Debian's librocksdb.a, every other library taken from
# `pkg-config --static --libs memostore` and nothing else; then run. ldd shows
# that neither libmemostore.so nor librocksdb.so is loaded.
# usage: static_link_test.sh BUILD_DIR CONSUMER_SOURCE README
set -euo pipefail
build=$(realpath "$1")
consumer=$(realpath "$2")
readme=$(realpath "$3")
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/readme_snippet.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

stage_install "$build" "$work/stage"
echo "pkg-config --static --libs memostore: $(pkg-config --static --libs memostore)"
mkdir "$work/app"
cp "$consumer" "$work/app/app.cpp"
link=$(readme_snippet "$readme" static-link)
echo "README: $link"
(cd "$work/app" && bash -euo pipefail -c "$link")

ldd "$work/app/app" >"$work/ldd.txt"
cat "$work/ldd.txt"
if grep -E 'lib(memostore|rocksdb)\.so' "$work/ldd.txt"; then
  echo "the program loads a shared libmemostore or librocksdb: not a static link"
  exit 1
fi
"$work/app/app" "$work/cache"
