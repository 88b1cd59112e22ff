#!/usr/bin/env bash
# Rebuilds worklet.wasm from main.go, reproducibly (-trimpath, no build ID).
# A separate Go module so that the repository's own build never sees it.
set -euo pipefail
GOOS=wasip1 GOARCH=wasm GOFLAGS= GOWORK=off CGO_ENABLED=0 \
  go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o worklet.wasm .
