#!/usr/bin/env bash
# Builds policy.wasm from main.go (Go, GOOS=wasip1). Reproducible: no paths,
# no VCS stamp, no build id embedded.
set -euo pipefail
cd "$(dirname "$0")"
GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o policy.wasm .
