#!/usr/bin/env bash
# The README's "Build and install" and its pkg-config line, run for real:
#  - `meson setup` as written, configure only, into a scratch directory (the
#    library is never built twice): the options in the line exist, and the
#    option table's defaults are the ones meson reports;
#  - `meson compile` and `meson install` on BUILD_DIR, the build under test
#    (compile finds nothing to do; install goes to a staging root);
#  - an outside program built with the README's pkg-config line, then run.
# usage: install_test.sh SOURCE_ROOT BUILD_DIR CONSUMER_SOURCE README
set -euo pipefail
source_root=$(realpath "$1")
build=$(realpath "$2")
consumer=$(realpath "$3")
readme=$(realpath "$4")
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/readme_snippet.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage

steps=$(readme_snippet "$readme" build-and-install)
[[ $(grep -c . <<<"$steps") -eq 3 ]] || { echo "README: build-and-install is not setup, compile, install:"; echo "$steps"; exit 1; }
while read -r line; do
  echo "README: $line"
  read -ra words <<<"$line"
  case "${words[0]} ${words[1]}" in
    "meson setup")
      # `meson setup build OPTIONS...`, from the source root.
      [[ ${words[2]} == build ]] || { echo "README: setup into 'build' expected"; exit 1; }
      (cd "$source_root" && meson setup "$work/configured" "${words[@]:3}" >/dev/null) ;;
    "meson compile" | "meson install")
      [[ ${words[*]:2:2} == "-C build" ]] || { echo "README: '-C build' expected"; exit 1; }
      extra=()
      [[ ${words[1]} == install ]] && extra=(--no-rebuild --destdir "$stage" --quiet)
      meson "${words[1]}" -C "$build" "${words[@]:4}" "${extra[@]}" >/dev/null ;;
    *) echo "README: unexpected step: $line"; exit 1 ;;
  esac
done <<<"$steps"

# The option table: every `option` | `default` row against meson's view of the
# configured (default) build.
meson introspect --buildoptions "$work/configured" >"$work/options.json"
python3 - "$readme" "$work/options.json" <<'PY'
import json, re, sys
readme, options = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
section = readme.split("## Build and install", 1)[1].split("\n## ", 1)[0]
rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", section, re.M)
values = {o["name"]: o["value"] for o in options if not o.get("subproject")}
bad = [f"{n}: README says {d}, meson says {values.get(n, 'no such option')}"
       for n, d in rows if str(values.get(n)).lower() != d]
if not rows or bad:
    sys.exit("README option table: " + ("; ".join(bad) or "no rows"))
print(f"README option table: {len(rows)} options match")
PY
[[ $(meson introspect --buildoptions "$work/configured" | python3 -c \
  'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"][0])') == /usr/local ]] \
  || { echo "README: the setup line does not give prefix /usr/local"; exit 1; }

[[ -n $(find "$stage" -path '*include/memostore/memostore.hpp') ]] || { echo "headers were not installed"; exit 1; }
PKG_CONFIG_PATH=$(dirname "$(find "$stage" -name memostore.pc | head -n 1)")
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR=$stage

# The README's pkg-config line, its app.cpp the consumer.
mkdir "$work/app"
cp "$consumer" "$work/app/app.cpp"
link=$(readme_snippet "$readme" pkg-config)
echo "README: $link"
(cd "$work/app" && bash -euo pipefail -c "$link")
libdir=$stage$(PKG_CONFIG_SYSROOT_DIR='' pkg-config --variable=libdir memostore)
LD_LIBRARY_PATH=$libdir "$work/app/app" "$work/cache"
