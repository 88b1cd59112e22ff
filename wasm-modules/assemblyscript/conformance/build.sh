#!/usr/bin/env bash
# Builds worklet.wasm from assembly/index.ts (see ../build-worklet.sh).
set -euo pipefail
cd "$(dirname "$0")"
../build-worklet.sh assembly/index.ts worklet.wasm
