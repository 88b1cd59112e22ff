#!/usr/bin/env bash
# Rebuilds worklet.wasm from the C source in this directory, reproducibly:
# no debug info (wasi-libc's own DWARF is stripped too), no absolute paths.
# Debian: apt-get install clang lld wasi-libc.
set -euo pipefail
sysroot=()
if [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot); fi
clang --target=wasm32-wasi "${sysroot[@]}" -O2 -g0 -Wall -Wl,--strip-debug -o worklet.wasm main.c
