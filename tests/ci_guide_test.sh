#!/usr/bin/env bash
# The README's "Caching in CI" guide, run as shell commands. The `run:` steps
# are taken from README.md by their `name:` (so the guide cannot drift from
# what is tested); `tar` stands in for actions/cache (restore at the start of
# a job, save at its end) and for the artifacts of matrix jobs. Each job runs
# in a new directory: a copy of the "repository" (the CSV) and the cache it
# restored, like a fresh runner.
#   1. main, first run: nothing to restore, everything computed, trimmed, saved;
#   2. main after the CSV changed: starts from that cache; gc evicts the old
#      table and compact gives its space back: the directory within the budget;
#   3. main again at another path: every step hits;
#   4. a fork's pull request (readonly) whose CSV changed: hits and misses, and
#      the restored directory is byte for byte unchanged;
#   4b. a pull request over main's cache (MEMOSTORE_FALLBACK): what main has
#      hits and is copied into the pull request's own cache, main's is byte for
#      byte unchanged, and the next run of the pull request hits everything;
#   5. two matrix jobs compute a part each; the merge job folds them in; a
#      later job hits every part;
#   6. the nightly check (MEMOSTORE_MODE=check): nothing stale, exit 0.
# usage: ci_guide_test.sh README PIPELINE MEMOSTORE
set -euo pipefail
readme=$(realpath "$1")
pipeline_exe=$(realpath "$2")
memostore_exe=$(realpath "$3")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The "repository": its data, 100,000 rows (1.1 MB parsed), large enough that
# two versions of it do not fit the budget below.
rows=100000
budget=1500000  # bytes: one parsed table and two small parts, not two tables
mkdir -p repo/pipeline-data bin saved
ln -s "$memostore_exe" bin/memostore
export PATH="$work/bin:$PATH"
unset MEMOSTORE_DIR MEMOSTORE_MODE MEMOSTORE_STATS  # the program's default: .memostore

# The `run:` text of the steps called NAME in the guide (all must be the same),
# as GitHub runs it: a one-line value, or a block scalar (`run: |`) without its
# indentation. Messages go to stderr: this runs inside $(...).
guide_step() {
  local name=$1
  awk -v name="$name" '
    /^## / { section = ($0 == "## Caching in CI"); next }
    !section { next }
    collecting {
      match($0, /^ */)
      if ($0 ~ /^ *$/) { text = text "\n"; next }
      if (RLENGTH > run_indent) {
        if (block_indent < 0) block_indent = RLENGTH
        text = text substr($0, block_indent + 1) "\n"; next
      }
      collecting = 0; print text; print "--8<--"
    }
    /^ *- / { current = "" }
    match($0, /^ *- name: /) { current = substr($0, RLENGTH + 1); next }
    current == name && match($0, /^ *run: /) {
      value = substr($0, RLENGTH + 1); run_indent = RLENGTH - 5
      if (value == "|") { collecting = 1; block_indent = -1; text = "" }
      else { print value; print "--8<--" }
      current = ""
    }
    END { if (collecting) { print text; print "--8<--" } }
  ' "$readme" >step.txt
  local count distinct
  count=$(grep -c -- '^--8<--$' step.txt || true)
  if [[ $count -eq 0 ]]; then echo "README: no step named '$name' with a run: in 'Caching in CI'" >&2; exit 1; fi
  distinct=$(awk '/^--8<--$/ { print block; block = ""; next } { block = block $0 "\\n" }' step.txt | sort -u | wc -l)
  if [[ $distinct -ne 1 ]]; then echo "README: the steps named '$name' differ:" >&2; cat step.txt >&2; exit 1; fi
  sed '/^--8<--$/,$d' step.txt
}

run_pipeline=$(guide_step "Run the pipeline")
trim=$(guide_step "Trim the cache")
run_part=$(guide_step "Run this part")
pack_part=$(guide_step "Pack this part's cache")
merge_parts=$(guide_step "Merge the parts")
check=$(guide_step "Check every stored result")
set_main_aside=$(guide_step "Set main's cache aside")
run_over_main=$(guide_step "Run over main's cache")
grep -q -- "--max-size" <<<"$trim" || { echo "the trim step has no --max-size"; exit 1; }
trim_to_budget=$(sed -E "s/--max-size [^ ]+/--max-size $budget/" <<<"$trim")
# The GitLab job runs the same commands.
gitlab=$(awk '/^### GitLab CI/ { on = 1 } on && /^## / { exit } on' "$readme")
while IFS= read -r line; do
  [[ -z $line ]] || grep -qF -- "$line" <<<"$gitlab" || { echo "GitLab script lacks: $line"; exit 1; }
done <<<"$run_pipeline
$trim"

# A job DIR: a new directory with the repository's files, the saved cache
# ARCHIVE restored in it if there is one, and ./pipeline (the program, on
# $rows rows unless given another number).
new_job() {
  local dir=$1 archive=$2
  rm -rf "$dir" && mkdir -p "$dir" && cp -r repo/pipeline-data "$dir/"
  printf '#!/bin/sh\nexec "%s" "${1:-%s}"\n' "$pipeline_exe" "$rows" >"$dir/pipeline" && chmod +x "$dir/pipeline"
  if [[ -f $archive ]]; then tar -xf "$archive" -C "$dir"; fi  # restore (the first time there is none)
}
in_job() { (cd "$1" && bash -e -c "$2"); }  # as GitHub runs a step: bash -e
expect() { grep -q -- "$2" "$1" || { echo "$1 lacks '$2':"; cat "$1"; exit 1; }; }
# A step that computed prints "miss" in its row (the MEMOSTORE_STATS line says "misses").
no_miss() { if grep -q ' miss ' "$1"; then echo "$2: something was computed:"; cat "$1"; exit 1; fi; }
within_budget() {
  local size
  size=$(du -sb "$1" | cut -f1)
  echo "$1: $size bytes on disk (budget $budget)"
  if [[ $size -gt $budget ]]; then echo "$1 exceeds the gc budget"; ls -l "$1"; exit 1; fi
}
# Every file's name, size, mode and checksum, and every directory.
snapshot() { (cd "$1" && find . -printf '%y %p %s %m\n' | grep -v ' ./LOG' | sort | while read -r type path rest; do
  echo "$type $path $rest $([[ $type == f ]] && sha256sum <"$path" | cut -c1-16)"; done); }

echo "== 1. main, first run"
new_job job1 saved/none.tar
in_job job1 "$run_pipeline" >job1.out 2>&1
cat job1.out
expect job1.out "per-region statistics *miss"
cp job1/pipeline-data/sales-$rows.csv repo/pipeline-data/  # the program wrote the data: now in the repository
in_job job1 "$trim_to_budget"
tar -cf saved/main1.tar -C job1 .memostore  # save

echo "== 2. main, the CSV changed"
tail -n 1 repo/pipeline-data/sales-$rows.csv >>repo/pipeline-data/sales-$rows.csv
new_job job2 saved/main1.tar
in_job job2 "$run_pipeline" >job2.out 2>&1
cat job2.out
expect job2.out "per-region statistics *miss"
expect job2.out "estimate pi.*hit"
in_job job2 "$trim_to_budget"
within_budget job2/.memostore
# gc evicted the first run's table, unused since, and kept the current one.
tables=$(memostore --dir job2/.memostore --json ls --function parse_csv |
         python3 -c 'import json, sys; print(len(json.load(sys.stdin)["entries"]))')
[[ $tables -eq 1 ]] || { echo "after gc: $tables parsed tables, expected the current one only"; exit 1; }
tar -cf saved/main2.tar -C job2 .memostore

echo "== 3. main again, restored at another path"
new_job elsewhere/job3 saved/main2.tar
within_budget elsewhere/job3/.memostore
in_job elsewhere/job3 "$run_pipeline" >job3.out 2>&1
cat job3.out
expect job3.out "per-region statistics *hit"
expect job3.out "memostore: 3 hits, 0 misses"
no_miss job3.out "the run after restoring"

echo "== 4. a fork's pull request: readonly"
new_job fork saved/main2.tar
echo "central,1,1,1.00" >>fork/pipeline-data/sales-$rows.csv  # the pull request changes the data
snapshot fork/.memostore >fork-before.txt
MEMOSTORE_MODE=readonly in_job fork "$run_pipeline" >fork.out 2>&1
cat fork.out
expect fork.out "mode: readonly"
expect fork.out "per-region statistics *miss"
expect fork.out "estimate pi.*hit"
snapshot fork/.memostore >fork-after.txt
if ! diff fork-before.txt fork-after.txt; then echo "the readonly run changed the cache directory"; exit 1; fi

echo "== 4b. a pull request over main's cache"
for run in 1 2; do
  new_job pr-$run saved/main2.tar  # restores main's cache into .memostore
  echo "central,1,1,1.00" >>pr-$run/pipeline-data/sales-$rows.csv
  in_job pr-$run "$set_main_aside"
  if [[ -f saved/pr.tar ]]; then tar -xf saved/pr.tar -C pr-$run; fi  # the pull request's own cache
  snapshot pr-$run/.memostore-main >pr-main-before.txt
  in_job pr-$run "$run_over_main" >pr-$run.out 2>&1
  cat pr-$run.out
  snapshot pr-$run/.memostore-main >pr-main-after.txt
  if ! diff pr-main-before.txt pr-main-after.txt; then echo "the pull request changed main's cache"; exit 1; fi
  tar -cf saved/pr.tar -C pr-$run .memostore  # save only .memostore
done
# The pipeline's hit column asks this directory only (Memo::cached): the
# estimate found in main's cache shows as computed there, and as a hit in the
# MEMOSTORE_STATS line and in fallback_hits.
expect pr-1.out "per-region statistics *miss"
expect pr-1.out "memostore: 1 hit, 2 misses"
fallback_hits=$(memostore --dir pr-1/.memostore --json stats |
                python3 -c 'import json, sys; print(json.load(sys.stdin)["fallback_hits"])')
[[ $fallback_hits -eq 1 ]] || { echo "the pull request's first run: $fallback_hits hits in main's cache, expected 1"; exit 1; }
no_miss pr-2.out "the pull request's second run"

echo "== 5. matrix jobs and their merge"
for part in 5000 10000; do
  new_job part-$part saved/main2.tar
  in_job part-$part "${run_part//'${{ matrix.part }}'/$part}" >part-$part.out 2>&1
  cat part-$part.out
  expect part-$part.out "per-region statistics *miss"
  in_job part-$part "$pack_part"
  mkdir -p artifacts/memostore-part-$part && cp part-$part/part.tar artifacts/memostore-part-$part/  # upload
done
new_job merge saved/main2.tar
cp -r artifacts merge/parts  # download: parts/<artifact>/part.tar
in_job merge "$merge_parts"
in_job merge "$trim_to_budget"
within_budget merge/.memostore
tar -cf saved/main3.tar -C merge .memostore
new_job after-merge saved/main3.tar
for part in 5000 10000 ""; do
  in_job after-merge "${run_part//'${{ matrix.part }}'/$part}" >after-merge.out 2>&1
  cat after-merge.out
  expect after-merge.out "per-region statistics *hit"
  no_miss after-merge.out "after the merge, part '${part:-$rows}'"
done

echo "== 6. the nightly check"
new_job nightly saved/main3.tar
if ! command -v jq >/dev/null; then
  # jq is not among the build's dependencies: a stand-in for `jq .FIELD`.
  printf '#!/bin/sh\nexec python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1][1:]])" "$1"\n' >bin/jq
  chmod +x bin/jq
fi
in_job nightly "$check" >nightly.out 2>&1
cat nightly.out
expect nightly.out "mode: check"
expect nightly.out "checked: 3 stored results compared with a fresh computation, 0 stale"
echo "all steps of the guide behaved as it says"
