#!/usr/bin/env bash
# memostore as a meson subproject of an outside project, through the README's
# one line (`dependency('memostore')`, nothing else) in a parent at meson's
# default buildtype (debug), then the program runs (built with the library at
# -O0, to save CI a second -O3 build of it). Checks that the subproject is lean:
#  - the only target it adds is the shared library (no tests, examples, tool,
#    benchmarks), and ninja's step count is exactly what the parent's program
#    and that library take (each source compiled once, the links);
#  - the library's files are compiled at -O3 -DNDEBUG while the parent's are
#    at -O0.
# usage: subproject_test.sh SOURCE_ROOT CONSUMER_SOURCE README
set -euo pipefail
source_root=$(realpath "$1")
consumer=$(realpath "$2")
readme=$(realpath "$3")
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/readme_snippet.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/subprojects"
ln -s "$source_root" "$work/subprojects/memostore"
cp "$consumer" "$work/consumer.cpp"
line=$(readme_snippet "$readme" meson-subproject)
[[ $line == "memostore_dep = dependency('memostore')" ]] \
  || { echo "README: the subproject line is not the bare dependency('memostore'): $line"; exit 1; }
parent() {
  cat >"$work/meson.build" <<MESON
project('consumer', 'cpp', default_options: ['cpp_std=c++20'])
$1
executable('consumer', 'consumer.cpp', dependencies: memostore_dep)
MESON
}

# The README's line with options, configured only (building it would compile
# the library a second time): the tool is a target, the library at -O0.
parent "$(readme_snippet "$readme" meson-subproject-options)"
meson setup "$work/configured" "$work" >/dev/null
python3 - "$work/configured" <<'PY'
import json, subprocess, sys
targets = json.loads(subprocess.check_output(["meson", "introspect", "--targets", sys.argv[1]]))
ours = sorted((t["name"], t["type"]) for t in targets if t["subproject"] == "memostore")
commands = json.load(open(sys.argv[1] + "/compile_commands.json"))
levels = {[w for w in c["command"].split() if w.startswith("-O")][-1]
          for c in commands if "/subprojects/memostore/lib/" in c["file"]}
print(f"with options: subproject targets {ours}, library at {sorted(levels)}")
if ours != [("memostore", "executable"), ("memostore", "shared library")] or levels != {"-O0"}:
    sys.exit("README: the subproject options do not give the tool and the parent's -O0")
PY

parent "$line"
meson setup "$work/build" "$work" >/dev/null
# Before building: what the build will make, and how.
expected=$(python3 - "$work/build" <<'PY'
import json, subprocess, sys
targets = json.loads(subprocess.check_output(["meson", "introspect", "--targets", sys.argv[1]]))
commands = json.load(open(sys.argv[1] + "/compile_commands.json"))
ours = sorted((t["name"], t["type"]) for t in targets if t["subproject"] == "memostore")
if ours != [("memostore", "shared library")]:
    sys.exit(f"the subproject builds more (or other) than its library: {ours}")
def level(entry):
    flags = [w for w in entry["command"].split() if w.startswith("-O")]
    return flags[-1] if flags else "none"
library = [c for c in commands if "/subprojects/memostore/lib/" in c["file"]]
levels = sorted({level(c) for c in library})
parent = [level(c) for c in commands if c["file"].endswith("consumer.cpp")]
print(f"library: {levels} over {len(library)} files; parent: {parent}", file=sys.stderr)
if not library or levels != ["-O3"]:
    sys.exit("the library is not compiled at -O3 in a debug parent")
if any("-DNDEBUG" not in c["command"].split() for c in library):
    sys.exit("the library is not compiled with -DNDEBUG in a debug parent")
if parent != ["-O0"]:
    sys.exit("the parent is not a debug (-O0) build: the check above proves nothing")
# One step per compiled source, one link per target, and the symbols file
# meson keeps for each shared library (to relink dependents only when the
# exported symbols change).
sources = sum(len(s.get("sources", [])) for t in targets for s in t["target_sources"])
print(sources + len(targets) + sum(t["type"] == "shared library" for t in targets))
PY
)

# What ninja would run, counted without running it.
ninja -C "$work/build" -n >"$work/ninja.txt" || { cat "$work/ninja.txt"; exit 1; }
steps=$(grep -oE '^\[[0-9]+/[0-9]+\]' "$work/ninja.txt" | tail -n 1 | grep -oE '[0-9]+\]' | tr -d ']')
echo "subproject build: $steps steps (the library and the program take $expected)"
[[ $steps -eq $expected ]] || { echo "ninja would run $steps steps, not $expected"; exit 1; }
# Then built and run, with the library at the parent's -O0
# (library_optimization=inherit): the -O3 build compiles the library a second
# time at full optimization (5 of CI's 2-core minutes) to prove what
# compile_commands.json showed above; this proves it builds, links and runs.
meson configure "$work/build" -Dmemostore:library_optimization=inherit >/dev/null
start=$(date +%s)
ninja -C "$work/build" >"$work/ninja.txt" || { cat "$work/ninja.txt"; exit 1; }
echo "built at -O0 in $(($(date +%s) - start)) s"
"$work/build/consumer" "$work/cache"
