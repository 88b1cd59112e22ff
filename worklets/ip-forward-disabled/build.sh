#!/usr/bin/env bash
# Builds worklet.wasm from assembly/index.ts with the AssemblyScript SDK's
# build script (the pinned asc and wasi-shim; npm ci on first use, in the
# SDK directory). Reproducible: relative paths only, no source map.
set -euo pipefail
cd "$(dirname "$0")"
../../wasm-modules/assemblyscript/build-worklet.sh assembly/index.ts worklet.wasm
