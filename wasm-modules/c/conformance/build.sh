#!/usr/bin/env bash
# Builds worklet.wasm from worklet.c with Debian's clang, lld and wasi-libc,
# reproducibly (-g0, no paths embedded).
set -euo pipefail
cd "$(dirname "$0")"
SDK=..
clang --target=wasm32-wasi -O2 -g0 -s -Wall -Wextra -I "$SDK" -o worklet.wasm worklet.c
