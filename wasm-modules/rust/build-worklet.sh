#!/usr/bin/env bash
# Builds a Rust worklet against the amagent crate (./amagent beside this
# script) with rustc for wasm32-wasi (wasm32-wasip1 on newer compilers),
# reproducibly (no absolute paths embedded, no debug info).
#
#   path/to/wasm-modules/rust/build-worklet.sh [SRC [OUT]]   SRC src/main.rs, OUT worklet.wasm
#   path/to/wasm-modules/rust/build-worklet.sh --check       say which compiler would be used
#
# run from the worklet's directory. The compiler is the first of $RUSTC,
# Debian's /usr/bin/rustc (the committed modules are built with it), rustc
# on PATH and every rustup toolchain that has the wasm32 WASI standard
# library installed. Without one it says what to install and exits 1.
set -euo pipefail

# wasi_target prints the WASI target whose standard library RUSTC has.
wasi_target() {
  local sysroot t
  sysroot=$("$1" --print sysroot 2>/dev/null) || return 1
  for t in wasm32-wasi wasm32-wasip1; do
    if [ -d "$sysroot/lib/rustlib/$t/lib" ]; then echo "$t"; return 0; fi
  done
  return 1
}

# find_rustc sets rustc and target; rustup_without lists rustup toolchains
# that lack the target (for the explanation).
rustup_without=()
find_rustc() {
  local c cands=(${RUSTC:-} /usr/bin/rustc)
  command -v rustc >/dev/null 2>&1 && cands+=("$(command -v rustc)")
  for c in "${RUSTUP_HOME:-$HOME/.rustup}"/toolchains/*/bin/rustc; do
    [ -x "$c" ] && cands+=("$c")
  done
  for c in "${cands[@]}"; do
    [ -x "$c" ] || continue
    if target=$(wasi_target "$c"); then rustc=$c; return 0; fi
    case $c in */.rustup/*|*/.cargo/*) rustup_without+=("$c") ;; esac
  done
  return 1
}

explain() {
  {
    echo "No rustc here has the wasm32 WASI standard library (tried \$RUSTC, /usr/bin/rustc, rustc on PATH and the rustup toolchains)."
    echo "On Debian install the compiler and its wasm32 standard library:"
    echo "  apt-get install rustc libstd-rust-dev-wasm32"
    if [ ${#rustup_without[@]} -gt 0 ] || command -v rustup >/dev/null 2>&1; then
      echo "or, with rustup, add the target to your toolchain:"
      echo "  rustup target add wasm32-wasip1"
    fi
    echo "or set RUSTC to a compiler that has it."
  } >&2
  exit 1
}

if [ "${1:-}" = "--check" ]; then
  if find_rustc; then echo "rust: $("$rustc" --version) ($rustc, target $target)"; exit 0; fi
  echo "rust: missing (apt-get install rustc libstd-rust-dev-wasm32, or rustup target add wasm32-wasip1)"
  exit 1
fi
src=${1:-src/main.rs}
out=${2:-worklet.wasm}
find_rustc || explain
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")/amagent" && pwd -P)
here=$(pwd -P)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
common=(--edition 2021 --target "$target" -C opt-level=s -C debuginfo=0
  -C codegen-units=1 -C panic=abort -C strip=symbols
  --remap-path-prefix "$sdk=amagent" --remap-path-prefix "$here=." --remap-path-prefix "$tmp=build")
"$rustc" "${common[@]}" --crate-type rlib --crate-name amagent \
  -o "$tmp/libamagent.rlib" "$sdk/src/lib.rs"
"$rustc" "${common[@]}" --crate-type bin --crate-name worklet \
  --extern amagent="$tmp/libamagent.rlib" -L "$tmp" -o "$tmp/worklet.wasm" "$src"
cp "$tmp/worklet.wasm" "$out"
