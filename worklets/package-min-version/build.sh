#!/usr/bin/env bash
# Builds worklet.wasm from src/main.rs with Debian's /usr/bin/rustc for
# wasm32-wasi (apt-get install rustc libstd-rust-dev-wasm32), through the
# SDK's reproducible build script (--remap-path-prefix, no debug info).
set -euo pipefail
cd "$(dirname "$0")"
SDK=../../wasm-modules/rust
"$SDK/build-worklet.sh" src/main.rs worklet.wasm
