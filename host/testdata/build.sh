#!/usr/bin/env bash
# Rebuilds the host's test modules from their sources (Debian's wabt, clang,
# lld and wasi-libc; Go). Run from this directory; outputs are committed.
set -euo pipefail
for w in *.wat; do
  wat2wasm --enable-all -o "${w%.wat}.wasm" "$w"
done
CFLAGS=(--target=wasm32-wasi -O2 -g0 -Wall -Wl,--strip-all)
clang "${CFLAGS[@]}" -o probe.wasm probe.c probe_ls.c
clang "${CFLAGS[@]}" -o check.wasm check.c
(cd gomod && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o ../gomod.wasm .)
(cd gomin && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o ../gomin.wasm .)
