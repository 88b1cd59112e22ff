#!/usr/bin/env bash
# Builds worklet.wasm from worklet.c and the pack's shared header
# (../internal/hardening/hardening.h) with Debian's clang, lld and wasi-libc.
# Reproducible: -g0, relative include paths, no paths embedded; clang runs
# wasm-opt (binaryen) on -O2 output when it is on PATH, so it is required.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v wasm-opt >/dev/null; then
  echo "build.sh: wasm-opt not found: apt-get install binaryen (clang uses it when present)" >&2
  exit 1
fi
sysroot=()
if [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot); fi
clang --target=wasm32-wasi "${sysroot[@]}" -O2 -g0 -Wall -Wextra -Werror -I ../../wasm-modules/c -I ../internal/hardening -Wl,--strip-all -o worklet.wasm worklet.c
