#!/usr/bin/env bash
# Builds worklet.wasm from worklet.c with Debian's clang, lld and wasi-libc
# (bookworm: the sysroot is the default for --target=wasm32-wasi; where
# /usr/share/wasi-sysroot exists, as on newer Debian, it is used).
# Reproducible: -g0, relative include path, no paths embedded.
set -euo pipefail
cd "$(dirname "$0")"
# clang runs wasm-opt (Debian binaryen) on -O2 output when it is on PATH;
# the committed module was built with it, so require it for the same bytes.
if ! command -v wasm-opt >/dev/null; then
  echo "build.sh: wasm-opt not found: apt-get install binaryen (clang uses it when present)" >&2
  exit 1
fi
sysroot=()
if [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot); fi
clang --target=wasm32-wasi "${sysroot[@]}" -O2 -g0 -Wall -Wextra -Werror -I ../../wasm-modules/c -Wl,--strip-all -o worklet.wasm worklet.c
