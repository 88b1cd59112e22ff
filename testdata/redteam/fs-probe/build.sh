#!/usr/bin/env bash
# Rebuilds worklet.wasm from main.c (Debian: apt-get install clang lld
# wasi-libc), reproducibly: no debug info, no absolute paths.
set -euo pipefail
sysroot=()
if [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot); fi
clang --target=wasm32-wasi "${sysroot[@]}" -O2 -g0 -Wall -Wl,--strip-debug -o worklet.wasm main.c
