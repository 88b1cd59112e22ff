#!/usr/bin/env bash
# Builds worklet.wasm from src/main.rs with the Rust SDK's build script
# (Debian's rustc for wasm32-wasi first; rustup toolchains with the target
# are found too, or what to install is printed). Reproducible.
set -euo pipefail
cd "$(dirname "$0")"
../../wasm-modules/rust/build-worklet.sh src/main.rs worklet.wasm
