#!/usr/bin/env bash
# Builds an AssemblyScript worklet against the amagent SDK with asc and the
# @assemblyscript/wasi-shim config (versions pinned in this directory's
# package.json / package-lock.json), reproducibly.
#
#   path/to/wasm-modules/assemblyscript/build-worklet.sh [SRC [OUT]]
#
# run from the worklet's directory; SRC defaults to assembly/index.ts, OUT
# to worklet.wasm. Installs the pinned compiler with `npm ci` on first use.
set -euo pipefail
src=${1:-assembly/index.ts}
out=${2:-worklet.wasm}
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ ! -x "$sdk/node_modules/.bin/asc" ]; then
  (cd "$sdk" && npm ci --no-audit --no-fund --silent)
fi
# asc resolves the shim's "lib" only through a relative --config path.
rel=$(realpath --relative-to=. "$sdk")
"$sdk/node_modules/.bin/asc" "$src" \
  --config "$rel/node_modules/@assemblyscript/wasi-shim/asconfig.json" \
  --optimizeLevel 3 --shrinkLevel 1 --noAssert --runtime incremental \
  --outFile "$out"
