#!/usr/bin/env bash
# Compiles one file and checks the outcome its "// expect:" line names: either
# COMPILES, or a failure whose diagnostics contain the expected text.
# usage: check.sh SOURCE COMPILER [COMPILER ARGS...]
set -u
source=$1; shift
expect=$(sed -n 's|^// expect: ||p' "$source" | head -n 1)
output=$("$@" -fsyntax-only "$source" 2>&1)
status=$?
if [[ $expect == COMPILES ]]; then
  [[ $status == 0 ]] && exit 0
  echo "expected $source to compile, it failed:"; echo "$output"; exit 1
fi
if [[ $status == 0 ]]; then
  echo "expected $source not to compile, but it compiled"; exit 1
fi
if ! grep -qF -- "$expect" <<<"$output"; then
  echo "expected the diagnostics for $source to contain \"$expect\"; they were:"; echo "$output" | head -40; exit 1
fi
echo "rejected as expected: $expect"
