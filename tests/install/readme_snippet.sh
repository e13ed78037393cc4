# shellcheck shell=bash
# Sourced by the install tests: the README's "Build and install" and "Use it
# from your build" snippets, taken from README.md so they cannot drift from
# what is tested. Each is the code block after a `<!-- test: NAME -->` line.

# readme_snippet README NAME: prints the block's lines; fails if there is none.
readme_snippet() {
  local text
  text=$(awk -v name="$2" '
    $0 == "<!-- test: " name " -->" { armed = 1; next }
    armed && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$1")
  if [[ -z $text ]]; then
    echo "README: no code block after <!-- test: $2 -->" >&2
    return 1
  fi
  printf '%s\n' "$text"
}

# stage_install BUILD_DIR STAGE: installs the build (already built: never
# again) under STAGE and sets pkg-config up to find it there.
stage_install() {
  meson install -C "$1" --no-rebuild --destdir "$2" --quiet
  local pc
  pc=$(find "$2" -name memostore.pc | head -n 1)
  [[ -n $pc ]] || { echo "memostore.pc was not installed" >&2; return 1; }
  # The .pc file names the final prefix; the sysroot maps it into the stage.
  PKG_CONFIG_PATH=$(dirname "$pc")
  export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR=$2
}
