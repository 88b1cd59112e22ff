#!/usr/bin/env bash
# Builds a Go worklet (GOOS=wasip1 GOARCH=wasm) from the current directory,
# reproducibly (no paths, VCS stamp or build id embedded).
#
#   path/to/wasm-modules/go/build-worklet.sh [OUT]     OUT defaults to worklet.wasm
#   path/to/wasm-modules/go/build-worklet.sh --check   say which Go would be used
#
# Needs Go 1.21 or newer (wasip1). GO overrides the command. Without one it
# prints what to install and exits 1.
set -euo pipefail

# find_go prints the first go command of at least 1.21.
find_go() {
  local c v
  for c in ${GO:-} go /usr/local/go/bin/go /usr/lib/go/bin/go $(ls -d /usr/lib/go-1.*/bin/go 2>/dev/null | sort -rV); do
    command -v "$c" >/dev/null 2>&1 || continue
    v=$("$c" env GOVERSION 2>/dev/null) || continue
    v=${v#go}
    if [ "${v%%.*}" -gt 1 ] || { [ "${v%%.*}" -eq 1 ] && [ "$(echo "$v" | cut -d. -f2)" -ge 21 ]; }; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

explain() {
  cat >&2 <<'MSG'
Go 1.21 or newer is needed to build a Go worklet (GOOS=wasip1), and none was found
(tried $GO, go on PATH, /usr/local/go/bin/go, /usr/lib/go*/bin/go).
Install one of:
  Debian 13:  apt-get install golang-go
  Debian 12:  apt-get install -t bookworm-backports golang-go   (bookworm's own golang-go is 1.19, too old)
  any system: https://go.dev/dl/ (then export PATH=/usr/local/go/bin:$PATH)
or set GO=/path/to/go.
MSG
  exit 1
}

if [ "${1:-}" = "--check" ]; then
  if go=$(find_go); then echo "go: $("$go" version) ($go)"; exit 0; fi
  echo "go: missing (Go 1.21+: Debian 13 'apt-get install golang-go', Debian 12 'apt-get install -t bookworm-backports golang-go', or https://go.dev/dl/)"
  exit 1
fi
out=${1:-worklet.wasm}
go=$(find_go) || explain
GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 "$go" build -trimpath -buildvcs=false \
  -ldflags='-s -w -buildid=' -o "$out" .
