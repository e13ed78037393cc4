#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite three times:
# a release build with -Werror, AddressSanitizer + UndefinedBehaviorSanitizer,
# and ThreadSanitizer; then each libFuzzer target (clang) for 30 seconds
# (MEMOSTORE_FUZZ_SECONDS; longer runs find more). Ends with the totals line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --fuzz || exit 1

# name | compiler | meson options | meson test options
configs=(
  "release|c++|--buildtype=release -Dbenchmarks=true|"
  "asan|c++|--buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Dexamples=false|--suite unit"
  "tsan|c++|--buildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false -Dexamples=false|--suite unit"
  "fuzz|clang++|-Dfuzzing=true -Dfuzz_seconds=${MEMOSTORE_FUZZ_SECONDS:-30}|--suite fuzz"
)

# Sanitizer runtimes cannot cope with the widest address-space randomization
# (vm.mmap_rnd_bits=32 on newer kernels): run them with randomization off.
wrapper=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  wrapper=(--wrapper "setarch $(uname -m) -R")
fi

status=0
logs=()
for config in "${configs[@]}"; do
  IFS='|' read -r name compiler setup_options test_options <<<"$config"
  dir=build/test-$name
  logs+=("$dir/meson-logs")
  rm -f "$dir"/meson-logs/testlog*.json  # named testlog-<wrapper>.json under --wrapper
  echo "== $name: build"
  # Options are applied every time, so an old build directory matches CI.
  # shellcheck disable=SC2086  # option lists
  if [[ -f $dir/build.ninja ]]; then
    meson configure "$dir" $setup_options >/dev/null || { status=1; continue; }
  else
    CXX=$compiler meson setup "$dir" $setup_options >/dev/null || { status=1; continue; }
  fi
  ninja -C "$dir" || { echo "== $name: build failed"; status=1; continue; }
  echo "== $name: test"
  run_wrapper=()
  [[ $name != release ]] && run_wrapper=("${wrapper[@]}")
  # shellcheck disable=SC2086  # option lists
  meson test -C "$dir" --print-errorlogs "${run_wrapper[@]}" $test_options || status=1
done

python3 - "${logs[@]}" <<'PY'
import glob, json, sys
passed = failed = 0
for logs in sys.argv[1:]:
    paths = glob.glob(f"{logs}/testlog*.json")
    if not paths:
        print(f"no test results in {logs}: its build failed")
        failed += 1
        continue
    with open(paths[0]) as log:
        for line in log:
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result != "SKIP":
                failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $status
