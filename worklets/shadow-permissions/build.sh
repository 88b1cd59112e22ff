#!/usr/bin/env bash
# Builds worklet.wasm from main.go with the Go SDK's build script (Go 1.21+
# found or explained), reproducibly (no paths, VCS stamp or build id).
set -euo pipefail
cd "$(dirname "$0")"
../../wasm-modules/go/build-worklet.sh worklet.wasm
