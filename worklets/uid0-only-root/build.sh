#!/usr/bin/env bash
# Builds worklet.wasm from worklet.c with the C SDK's build script (clang for
# wasm32-wasi with wasi-libc, found or explained), reproducibly (-g0, -s).
set -euo pipefail
cd "$(dirname "$0")"
../../wasm-modules/c/build-worklet.sh worklet.c worklet.wasm
