#!/usr/bin/env bash
# Builds worklet.wasm from worklet.wat with wabt's wat2wasm (Debian package
# wabt). No SDK, no debug names: the output depends only on the source.
set -euo pipefail
cd "$(dirname "$0")"
wat2wasm worklet.wat -o worklet.wasm
