#!/usr/bin/env bash
# The example pipeline, small: the first run computes every step, the second
# (a new process on the same cache) computes nothing and prints the same
# results, and a third after the CSV changed recomputes what reads it.
# usage: example_test.sh PIPELINE
set -euo pipefail
pipeline=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
MEMOSTORE_DIR=cache "$pipeline" 20000 >first.txt
MEMOSTORE_DIR=cache "$pipeline" 20000 >second.txt
cat first.txt second.txt
grep -q "per-region statistics *miss" first.txt
grep -q "parse the CSV *miss" first.txt
grep -q "per-region statistics *hit" second.txt
grep -q "estimate pi.*hit" second.txt
if grep -q miss second.txt; then echo "second run computed something"; exit 1; fi
# Same results both times (everything but the timings).
diff <(grep -E '^  [a-z]+ +[0-9]|pi ~' first.txt) <(grep -E '^  [a-z]+ +[0-9]|pi ~' second.txt)
# The SQLite connection is a singleton: opened once per run, shared by every step.
grep -q "wrote 8 regions and pi to pipeline-data/summary.sqlite (connections opened: 1)" first.txt
grep -q "wrote 8 regions and pi to pipeline-data/summary.sqlite (connections opened: 1)" second.txt
# The CSV is keyed by its content: one more row, and the steps that read it
# run again while the one that does not (pi) still hits.
tail -n 1 pipeline-data/sales-20000.csv >>pipeline-data/sales-20000.csv
MEMOSTORE_DIR=cache "$pipeline" 20000 >third.txt
cat third.txt
grep -q "per-region statistics *miss" third.txt
grep -q "parse the CSV *miss" third.txt
grep -q "estimate pi.*hit" third.txt
