#!/usr/bin/env bash
# Builds worklet.wasm from assembly/index.ts with the pinned asc and
# wasi-shim. SDK is the path of wasm-modules/assemblyscript from this
# directory (../../wasm-modules/assemblyscript for a worklet in worklets/NAME).
set -euo pipefail
cd "$(dirname "$0")"
SDK=..
"$SDK/build-worklet.sh" assembly/index.ts worklet.wasm
