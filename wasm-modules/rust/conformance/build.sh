#!/usr/bin/env bash
# Builds worklet.wasm from src/main.rs with Debian's rustc (see ../build-worklet.sh).
set -euo pipefail
cd "$(dirname "$0")"
../build-worklet.sh src/main.rs worklet.wasm
