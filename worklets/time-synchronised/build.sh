#!/usr/bin/env bash
# Builds worklet.wasm from assembly/index.ts with the AssemblyScript SDK's
# pinned asc and @assemblyscript/wasi-shim (npm ci on first use, in the
# SDK directory). Reproducible: relative paths only, no source map.
set -euo pipefail
cd "$(dirname "$0")"
SDK=../../wasm-modules/assemblyscript
"$SDK/build-worklet.sh" assembly/index.ts worklet.wasm
