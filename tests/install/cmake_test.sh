#!/usr/bin/env bash
# The README's CMake project, run for real against a staged install: `app`
# links memostore::memostore (the shared library), and `app_static`, the same
# lines with memostore::memostore_static, links libmemostore.a and Debian's
# librocksdb.a (ldd: neither shared library is loaded). Both run.
# usage: cmake_test.sh BUILD_DIR CONSUMER_SOURCE README
set -euo pipefail
build=$(realpath "$1")
consumer=$(realpath "$2")
readme=$(realpath "$3")
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/readme_snippet.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

stage_install "$build" "$work/stage"
prefix=$work/stage$(PKG_CONFIG_SYSROOT_DIR='' pkg-config --variable=prefix memostore)
mkdir "$work/app"
cp "$consumer" "$work/app/app.cpp"
project=$(readme_snippet "$readme" cmake)
grep -q 'target_link_libraries(app PRIVATE memostore::memostore)' <<<"$project" \
  || { echo "README: the CMake project does not link memostore::memostore"; exit 1; }
{
  echo "$project"
  # The static variant, as the README describes it: the same two lines.
  grep -E '^(add_executable|target_link_libraries)\(app ' <<<"$project" |
    sed -e 's/(app /(app_static /' -e 's/memostore::memostore)/memostore::memostore_static)/'
} >"$work/app/CMakeLists.txt"
cat "$work/app/CMakeLists.txt"

cmake -S "$work/app" -B "$work/app/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/app/build" -j 2

"$work/app/build/app" "$work/cache-shared"
# ldd's output taken whole first: `ldd | grep -q` fails under pipefail when
# grep exits before ldd has written everything (SIGPIPE).
libraries=$(ldd "$work/app/build/app")
grep -q 'libmemostore\.so' <<<"$libraries" || { echo "app does not load libmemostore.so"; exit 1; }
ldd "$work/app/build/app_static" >"$work/ldd.txt"
if grep -E 'lib(memostore|rocksdb)\.so' "$work/ldd.txt"; then
  echo "app_static loads a shared libmemostore or librocksdb: not a static link"
  exit 1
fi
"$work/app/build/app_static" "$work/cache-static"
