#!/usr/bin/env bash
# Builds worklet.wasm from main.go, reproducibly (no paths, VCS stamp or build id).
set -euo pipefail
cd "$(dirname "$0")"
GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 "${GO:-go}" build -trimpath -buildvcs=false \
  -ldflags='-s -w -buildid=' -o worklet.wasm .
