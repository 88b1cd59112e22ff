#!/usr/bin/env bash
# Rebuilds worklet.wasm from module.wat (Debian: apt-get install wabt).
set -euo pipefail
wat2wasm module.wat -o worklet.wasm
