#!/usr/bin/env bash
# Compiles one file and checks the outcome its "// expect:" line names: either
# COMPILES, or a failure with exactly one error, whose line contains the
# expected text: the error a user reads first must be the one that says what
# to do (issue 32), not the last of several.
# usage: check.sh SOURCE COMPILER [COMPILER ARGS...]
set -u
source=$1; shift
expect=$(sed -n 's|^// expect: ||p' "$source" | head -n 1)
output=$("$@" -fsyntax-only -fno-diagnostics-color "$source" 2>&1)
status=$?
if [[ $expect == COMPILES ]]; then
  [[ $status == 0 ]] && exit 0
  echo "expected $source to compile, it failed:"; echo "$output"; exit 1
fi
if [[ $status == 0 ]]; then
  echo "expected $source not to compile, but it compiled"; exit 1
fi
errors=$(grep -E '(^|: )(fatal )?error: ' <<<"$output")
first=$(head -n 1 <<<"$errors")
if ! grep -qF -- "$expect" <<<"$first"; then
  echo "expected the first error for $source to contain \"$expect\"; it was:"; echo "$first"
  echo "all diagnostics:"; echo "$output" | head -40; exit 1
fi
count=$(grep -c . <<<"$errors")
if [[ $count != 1 ]]; then
  echo "expected exactly one error for $source, there were $count:"; echo "$errors"; exit 1
fi
echo "rejected as expected, with one error: $expect"
