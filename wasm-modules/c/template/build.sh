#!/usr/bin/env bash
# Builds worklet.wasm from worklet.c with the C SDK's build script (clang for
# wasm32-wasi with wasi-libc, found or explained), reproducibly (-g0, -s).
# SDK is the path of wasm-modules/c from this directory
# (../../wasm-modules/c for a worklet in worklets/NAME).
set -euo pipefail
cd "$(dirname "$0")"
SDK=..
"$SDK/build-worklet.sh" worklet.c worklet.wasm
