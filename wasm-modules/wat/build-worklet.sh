#!/usr/bin/env bash
# Builds a WAT worklet with the WAT SDK (amagent.wat beside this script) and
# wabt's wat2wasm: the module is "(module", the SDK's sections, SRC, ")"
# (SRC holds data and functions only, and exports "_start"). The exec
# import and $am_exec are put in only when SRC calls $am_exec.
#
#   path/to/wasm-modules/wat/build-worklet.sh [SRC [OUT]]   SRC worklet.wat, OUT worklet.wasm
#   path/to/wasm-modules/wat/build-worklet.sh --check       say which wat2wasm would be used
#
# WAT2WASM overrides the command. Without one it says what to install and exits 1.
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
wat2wasm=${WAT2WASM:-wat2wasm}
if [ "${1:-}" = "--check" ]; then
  if command -v "$wat2wasm" >/dev/null 2>&1; then echo "wat: wat2wasm $("$wat2wasm" --version) ($(command -v "$wat2wasm"))"; exit 0; fi
  echo "wat: missing (apt-get install wabt)"
  exit 1
fi
src=${1:-worklet.wat}
out=${2:-worklet.wasm}
if ! command -v "$wat2wasm" >/dev/null 2>&1; then
  echo "wat2wasm was not found (tried \$WAT2WASM, wat2wasm on PATH). On Debian: apt-get install wabt" >&2
  exit 1
fi
section() { awk -v want="$1" '/^;; @section /{on = ($3 == want); next} on' "$sdk/amagent.wat"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exec_used=0
if grep -q 'call \$am_exec' "$src"; then exec_used=1; fi
{
  echo "(module"
  section imports
  if [ $exec_used = 1 ]; then section exec-imports; fi
  section functions
  if [ $exec_used = 1 ]; then section exec-functions; fi
  cat "$src"
  echo ")"
} >"$tmp/worklet.wat"
"$wat2wasm" "$tmp/worklet.wat" -o "$tmp/worklet.wasm"
cp "$tmp/worklet.wasm" "$out"
