#!/usr/bin/env bash
# Rebuilds worklet.wasm from module.wat (Debian: apt-get install wabt).
set -euo pipefail
wat2wasm module.wat -o worklet.wasm
# The manifest pins the module's digest; keep it in step with the build.
sum=$(sha256sum worklet.wasm | cut -d' ' -f1)
sed -i "s/^sha256 = .*/sha256 = \"$sum\"/" worklet.toml
