#!/usr/bin/env bash
# Generates module.wat (not committed: 10 MB of text) from module.wat.in
# and builds worklet.wasm, about 10.5 MB. Deterministic: the payload is a
# fixed 28-byte line repeated up to exactly 10 MiB.
set -euo pipefail
line='amagent-hostile-big-module. '
size=10485760
last=$(printf '%d' "'${line:$(( (size - 1) % ${#line} )):1}")
{
  sed -n '1,/@PAYLOAD@/p' module.wat.in | sed '$d' | sed "s/@LAST@/$last/"
  printf '  (data (i32.const 65536) "'
  awk -v l="$line" -v n=$size 'BEGIN { s = l; while (length(s) < n) s = s s; printf "%s", substr(s, 1, n) }'
  printf '")\n'
  sed -n '/@PAYLOAD@/,$p' module.wat.in | sed '1d' | sed "s/@LAST@/$last/"
} > module.wat
wat2wasm module.wat -o worklet.wasm
rm -f module.wat
