#!/usr/bin/env bash
# Builds worklet.wasm from worklet.c with Debian's clang, lld and wasi-libc
# (bookworm: the sysroot is the default for --target=wasm32-wasi; where
# /usr/share/wasi-sysroot exists, as on newer Debian, it is used).
# Reproducible: -g0, relative include path, no paths embedded.
set -euo pipefail
cd "$(dirname "$0")"
sysroot=()
if [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot); fi
clang --target=wasm32-wasi "${sysroot[@]}" -O2 -g0 -Wall -Wextra -Werror -I ../../wasm-modules/c -Wl,--strip-all -o worklet.wasm worklet.c
