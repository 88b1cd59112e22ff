#!/usr/bin/env bash
# Runs every build.sh below wasm-modules/, worklets/ and testdata/, each from
# its own directory. A build unit's build.sh writes its .wasm beside its
# source with a reproducible command (no absolute paths embedded).
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r script; do
  dir=$(dirname "$script")
  echo "== $dir"
  if ! (cd "$dir" && bash ./build.sh); then
    echo "build failed: $dir" >&2
    status=1
  fi
done < <(find wasm-modules worklets testdata host -name build.sh -not -path '*/node_modules/*' 2>/dev/null | sort)
exit $status
