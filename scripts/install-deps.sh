#!/usr/bin/env bash
# Installs the Debian packages memostore needs, if any are missing.
# usage: scripts/install-deps.sh [--bench] [--fuzz]   (root, or a user with sudo)
set -euo pipefail

packages=(meson ninja-build pkg-config g++ cmake python3
          librocksdb-dev libcereal-dev libfmt-dev libxxhash-dev doctest-dev libsqlite3-dev
          libcli11-dev nlohmann-json3-dev libssl-dev libhiredis-dev redis-server
          python3-prometheus-client   # the metrics test parses `stats --format` with it
          # What librocksdb.a needs, for the static link tests (librocksdb-dev
          # depends on them; named because the tests link them themselves).
          libsnappy-dev liblz4-dev libzstd-dev zlib1g-dev libbz2-dev)
for option in "$@"; do
  case $option in
    --bench) packages+=(python3-diskcache python3-joblib xxhash) ;;
    --fuzz) packages+=(clang libclang-rt-dev) ;;  # libFuzzer and clang's sanitizer runtimes
    *) echo "install-deps: unknown option $option (known: --bench, --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
