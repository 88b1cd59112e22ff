#!/usr/bin/env bash
# Builds an AssemblyScript worklet against the amagent SDK (./assembly beside
# this script) with asc and the @assemblyscript/wasi-shim config, the
# versions pinned in this directory's package.json / package-lock.json,
# reproducibly.
#
#   path/to/wasm-modules/assemblyscript/build-worklet.sh [SRC [OUT]]   SRC assembly/index.ts, OUT worklet.wasm
#   path/to/wasm-modules/assemblyscript/build-worklet.sh --check       say which compiler would be used
#
# run from the worklet's directory. The compiler and the shim come from the
# first node_modules that has both: $AMAGENT_NODE_MODULES, ./node_modules,
# then node_modules beside this script; failing those, `npm ci` here
# installs the pinned versions (it needs the npm registry). Without node
# or npm it says what to install and exits 1.
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

has_both() { [ -x "$1/.bin/asc" ] && [ -f "$1/@assemblyscript/wasi-shim/asconfig.json" ]; }

# find_modules sets mods to a node_modules directory holding asc and the shim.
find_modules() {
  local d
  for d in ${AMAGENT_NODE_MODULES:-} ./node_modules "$sdk/node_modules"; do
    if has_both "$d"; then mods=$(cd "$d" && pwd -P); return 0; fi
  done
  return 1
}

if [ "${1:-}" = "--check" ]; then
  node=$(command -v node 2>/dev/null && node --version || true)
  if find_modules; then
    echo "assemblyscript: asc $("$mods/.bin/asc" --version 2>/dev/null | sed 's/^Version //') ($mods), node ${node##*$'\n'}"
    exit 0
  fi
  if [ -n "$node" ] && command -v npm >/dev/null 2>&1; then
    echo "assemblyscript: compiler not installed yet (node ${node##*$'\n'}, npm present: the first build runs 'npm ci' beside build-worklet.sh, which needs the npm registry once)"
    exit 0
  fi
  echo "assemblyscript: missing (apt-get install nodejs npm; the first build then runs 'npm ci' in $sdk)"
  exit 1
fi
src=${1:-assembly/index.ts}
out=${2:-worklet.wasm}
if ! find_modules; then
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    cat >&2 <<MSG
Building AssemblyScript needs Node.js and npm, and they were not found. On Debian:
  apt-get install nodejs npm
then run this again: it installs the pinned compiler with 'npm ci' in
  $sdk
(or set AMAGENT_NODE_MODULES to a node_modules that has assemblyscript and @assemblyscript/wasi-shim).
MSG
    exit 1
  fi
  echo "installing the pinned AssemblyScript compiler: npm ci in $sdk" >&2
  if ! (cd "$sdk" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "npm ci failed in $sdk: it needs the npm registry once (or set AMAGENT_NODE_MODULES to a node_modules that has assemblyscript and @assemblyscript/wasi-shim)" >&2
    exit 1
  fi
  mods=$sdk/node_modules
fi
# asc resolves the shim's "lib" only through a relative --config path.
rel=$(realpath --relative-to=. "$mods")
"$mods/.bin/asc" "$src" \
  --config "$rel/@assemblyscript/wasi-shim/asconfig.json" \
  --optimizeLevel 3 --shrinkLevel 1 --noAssert --runtime incremental \
  --outFile "$out"
