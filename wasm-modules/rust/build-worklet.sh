#!/usr/bin/env bash
# Builds a Rust worklet against the amagent crate with Debian's rustc for
# wasm32-wasi, reproducibly (no absolute paths embedded, no debug info).
#
#   path/to/wasm-modules/rust/build-worklet.sh [SRC [OUT]]
#
# run from the worklet's directory; SRC defaults to src/main.rs and OUT to
# worklet.wasm. Needs: apt-get install rustc libstd-rust-dev-wasm32.
# RUSTC overrides the compiler (default /usr/bin/rustc, Debian's).
set -euo pipefail
src=${1:-src/main.rs}
out=${2:-worklet.wasm}
rustc=${RUSTC:-/usr/bin/rustc}
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")/amagent" && pwd -P)
here=$(pwd -P)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Debian 12's rustc (1.63) calls the target wasm32-wasi; newer ones wasm32-wasip1.
# (The list is read whole first: grep -q closing the pipe early would make
# rustc die of SIGPIPE and, under pipefail, pick the wrong target.)
targets=$("$rustc" --print target-list)
target=wasm32-wasi
if ! grep -qx wasm32-wasi <<<"$targets"; then target=wasm32-wasip1; fi
common=(--edition 2021 --target "$target" -C opt-level=s -C debuginfo=0
  -C codegen-units=1 -C panic=abort -C strip=symbols
  --remap-path-prefix "$sdk=amagent" --remap-path-prefix "$here=." --remap-path-prefix "$tmp=build")
"$rustc" "${common[@]}" --crate-type rlib --crate-name amagent \
  -o "$tmp/libamagent.rlib" "$sdk/src/lib.rs"
"$rustc" "${common[@]}" --crate-type bin --crate-name worklet \
  --extern amagent="$tmp/libamagent.rlib" -L "$tmp" -o "$tmp/worklet.wasm" "$src"
cp "$tmp/worklet.wasm" "$out"
