#!/usr/bin/env bash
# The folders of lib/ depend on each other in one direction only, the one
# docs/architecture.md draws: a file may include its own folder and the
# folders listed before its own, never one after it. The public headers
# include no file of lib/. Fails naming every include that runs back up.
set -euo pipefail
root="${1:?usage: layers_test.sh SOURCE_ROOT}"
cd "$root"

# Lowest first; folders on one line are peers and include none of each other.
layers=(
  "util"
  "codec"
  "storage"
  "policy"
  "remote inputs"
  "tiers"
  "store"
  "memo singleton"
  "admin"
)
declare -A rank
for i in "${!layers[@]}"; do
  for folder in ${layers[$i]}; do rank[$folder]=$i; done
done

status=0
for dir in lib/*/; do
  folder=$(basename "$dir")
  if [[ -z "${rank[$folder]:-}" ]]; then
    echo "lib/$folder/ is in no layer: add it to tests/layers_test.sh and docs/architecture.md" >&2
    status=1
    continue
  fi
done
while IFS=: read -r file line text; do
  from=$(echo "$file" | cut -d/ -f2)
  to=$(echo "$text" | sed -E 's/.*#include "([a-z_]+)\/.*/\1/')
  [[ "$from" == "$to" ]] && continue
  if [[ -z "${rank[$to]:-}" ]]; then
    continue  # not a folder of lib/ (e.g. a tool's own header)
  fi
  if (( rank[$to] >= rank[$from] )); then
    echo "$file:$line: lib/$from/ includes lib/$to/, which is not below it (docs/architecture.md)" >&2
    status=1
  fi
done < <(grep -rnE '^#include "[a-z_]+/' lib --include='*.hpp' --include='*.cpp')
if grep -rnE '^#include "' include/memostore >&2; then
  echo "a public header includes a file of lib/ (above): the public headers stand alone" >&2
  status=1
fi
if (( status == 0 )); then
  echo "layers: every include of lib/ runs down (${#layers[@]} layers)"
fi
exit $status
