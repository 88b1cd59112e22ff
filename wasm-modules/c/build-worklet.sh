#!/usr/bin/env bash
# Builds a C worklet against amagent.h (this directory) with clang for
# wasm32-wasi and wasi-libc, reproducibly (-g0, -s: no paths embedded).
#
#   path/to/wasm-modules/c/build-worklet.sh [SRC [OUT]]   SRC worklet.c, OUT worklet.wasm
#   path/to/wasm-modules/c/build-worklet.sh --check       say which toolchain would be used
#
# Finds Debian's clang + lld + wasi-libc (Debian 12: wasi-libc where clang
# looks by default; newer packagings: /usr/share/wasi-sysroot), a newer
# clang-NN, or a wasi-sdk (WASI_SDK_PATH, /opt/wasi-sdk). CLANG and
# WASI_SYSROOT override. Without one that links a program it prints the
# packages to install and exits 1. When wasm-opt (binaryen) is on PATH clang
# runs it: install binaryen wherever committed modules are checked.
set -euo pipefail
sdk=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

# try CLANG [SYSROOT]: can it compile and link a wasi-libc program?
try() {
  local t
  t=$(mktemp -d)
  printf '#include <stdio.h>\nint main(void){puts("ok");return 0;}\n' >"$t/t.c"
  if "$1" --target=wasm32-wasi ${2:+--sysroot="$2"} -O2 -o "$t/t.wasm" "$t/t.c" >/dev/null 2>&1; then
    rm -rf "$t"; return 0
  fi
  rm -rf "$t"; return 1
}

# find sets clang and sysroot, or returns 1.
find_toolchain() {
  local c s wasisdk=${WASI_SDK_PATH:-/opt/wasi-sdk}
  local clangs=(${CLANG:-} clang $(compgen -c clang- 2>/dev/null | grep -E '^clang-[0-9]+$' | sort -t- -k2 -rn | uniq) "$wasisdk/bin/clang")
  local roots=(${WASI_SYSROOT:-} "" /usr/share/wasi-sysroot "$wasisdk/share/wasi-sysroot")
  for c in "${clangs[@]}"; do
    command -v "$c" >/dev/null 2>&1 || continue
    for s in "${roots[@]}"; do
      if [ -n "$s" ] && [ ! -d "$s" ]; then continue; fi
      if try "$c" "$s"; then clang=$c; sysroot=$s; return 0; fi
    done
  done
  return 1
}

packages() {
  local v=14
  if command -v clang >/dev/null 2>&1; then
    v=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
  fi
  echo "clang lld wasi-libc libclang-rt-${v:-14}-dev-wasm32"
}

if [ "${1:-}" = "--check" ]; then
  if find_toolchain; then
    echo "c: $("$clang" --version | head -1) ($clang${sysroot:+, sysroot $sysroot})$(command -v wasm-opt >/dev/null && echo ', wasm-opt' || echo '; wasm-opt missing: apt-get install binaryen')"
    exit 0
  fi
  echo "c: missing (apt-get install $(packages); or a wasi-sdk in /opt/wasi-sdk)"
  exit 1
fi
src=${1:-worklet.c}
out=${2:-worklet.wasm}
if ! find_toolchain; then
  cat >&2 <<MSG
No clang here can build and link a wasm32-wasi program (tried \$CLANG, clang, clang-NN and a
wasi-sdk in \${WASI_SDK_PATH:-/opt/wasi-sdk}, with wasi-libc where clang looks, \$WASI_SYSROOT,
/usr/share/wasi-sysroot). On Debian install:
  apt-get install $(packages)
(clang, its wasm linker, the C library for WASI and the compiler's wasm32 builtins), and
binaryen for wasm-opt. Or set CLANG and WASI_SYSROOT to a wasi-sdk.
MSG
  exit 1
fi
"$clang" --target=wasm32-wasi ${sysroot:+--sysroot="$sysroot"} -O2 -g0 -s -Wall -Wextra -I "$sdk" -o "$out" "$src"
