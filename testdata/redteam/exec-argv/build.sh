#!/usr/bin/env bash
# Builds worklet.wasm from main.c with Debian's clang, lld and wasi-libc
# (as worklets/no-world-writable/build.sh; reproducible: -g0, no paths).
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v wasm-opt >/dev/null; then
  echo "build.sh: wasm-opt not found: apt-get install binaryen (clang uses it when present)" >&2
  exit 1
fi
sysroot=()
if [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot); fi
clang --target=wasm32-wasi "${sysroot[@]}" -O2 -g0 -Wall -Wextra -Werror -I ../../../wasm-modules/c -Wl,--strip-all -o worklet.wasm main.c
