#!/usr/bin/env bash
# The example pipeline, small: the first run computes every step, the second
# (a new process on the same cache) computes nothing and prints the same
# results, and a third after the CSV changed recomputes what reads it.
# usage: example_test.sh PIPELINE TOOL
set -euo pipefail
pipeline=$(realpath "$1")
tool=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
MEMOSTORE_DIR=cache "$pipeline" 20000 >first.txt
MEMOSTORE_DIR=cache "$pipeline" 20000 >second.txt
cat first.txt second.txt
grep -q "per-region statistics *miss" first.txt
grep -q "parse the CSV *miss" first.txt
grep -q "per-region statistics *hit" second.txt
grep -q "parse the CSV *hit" second.txt
grep -q "estimate pi.*hit" second.txt
if grep -q miss second.txt; then echo "second run computed something"; exit 1; fi
# Same results both times (everything but the timings).
diff <(grep -E '^  [a-z]+ +[0-9]|pi ~' first.txt) <(grep -E '^  [a-z]+ +[0-9]|pi ~' second.txt)
# The SQLite connection is a singleton: opened once per run, shared by every step.
grep -q "wrote 8 regions and pi to pipeline-data/summary.sqlite (connections opened: 1)" first.txt
grep -q "wrote 8 regions and pi to pipeline-data/summary.sqlite (connections opened: 1)" second.txt
# The statistics take the parsed table as a memostore::Shared: they are keyed
# by its digest, so their entry's arguments are 16 bytes, not the encoded
# table (about 220 KB here), and the second run's statistics step encoded none
# of it. The digest is the one the table's entry holds.
arguments_of_stats() {
  local hash
  hash=$("$tool" --dir cache --json ls --function region_stats |
    python3 -c 'import json, sys; entries = json.load(sys.stdin)["entries"]; print(entries[0]["hash"])')
  "$tool" --dir cache --json show --function region_stats "$hash" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["arguments_size"])'
}
[[ $("$tool" --dir cache --json ls --function region_stats | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["entries"]))') == 1 ]]
stats_arguments=$(arguments_of_stats)
echo "region_stats arguments: $stats_arguments bytes"
[[ $stats_arguments == 16 ]]
# The CSV is keyed by its content: one more row, and the steps that read it
# run again while the one that does not (pi) still hits.
tail -n 1 pipeline-data/sales-20000.csv >>pipeline-data/sales-20000.csv
MEMOSTORE_DIR=cache "$pipeline" 20000 >third.txt
cat third.txt
grep -q "per-region statistics *miss" third.txt
grep -q "parse the CSV *miss" third.txt
# A new table, a new digest: a second statistics entry, keyed by it.
[[ $("$tool" --dir cache --json ls --function region_stats | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["entries"]))') == 2 ]]
grep -q "estimate pi.*hit" third.txt
