#!/usr/bin/env bash
# Builds worklet.wasm from src/main.rs with Debian's rustc. SDK is the path
# of wasm-modules/rust from this directory (../../wasm-modules/rust for a
# worklet in worklets/NAME).
set -euo pipefail
cd "$(dirname "$0")"
SDK=..
"$SDK/build-worklet.sh" src/main.rs worklet.wasm
