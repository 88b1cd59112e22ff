#!/usr/bin/env bash
# Builds worklet.wasm from worklet.c with Debian's clang, lld and wasi-libc,
# reproducibly (-g0, no paths embedded). SDK is the path of wasm-modules/c
# from this directory (../../wasm-modules/c for a worklet in worklets/NAME).
set -euo pipefail
cd "$(dirname "$0")"
SDK=..
# Debian 12 installs wasi-libc where clang looks by default; newer
# packagings use a sysroot directory.
sysroot=()
if [ -d /usr/share/wasi-sysroot ]; then sysroot=(--sysroot=/usr/share/wasi-sysroot); fi
clang --target=wasm32-wasi "${sysroot[@]}" -O2 -g0 -s -Wall -Wextra -I "$SDK" -o worklet.wasm worklet.c
