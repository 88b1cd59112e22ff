#!/usr/bin/env bash
# build-msi.sh EXE VERSION COMMIT OUT: the amagent MSI with wixl. For a
# rebuild of one commit to give the same bytes: the product and package
# codes are derived from the version and commit (wixl would pick a random
# package code, so msibuild sets it again afterwards), and every time
# (the summary's, the cabinet's file date) is SOURCE_DATE_EPOCH, through
# faketime for the tools that read the clock.
set -euo pipefail
exe=$1 version=$2 commit=$3 out=$4
guid() { # a GUID from the hash of its arguments
  local h
  h=$(printf '%s' "$*" | sha256sum | cut -c1-32)
  echo "${h:0:8}-${h:8:4}-4${h:13:3}-a${h:17:3}-${h:20:12}" | tr a-f A-F
}
# MSI versions are numeric: 0.1.0-rc1 becomes 0.1.0.
msiversion=${version%%[-+]*}
here=$(cd "$(dirname "$0")" && pwd)
package_code=$(guid amagent package "$version" "$commit")
clock=()
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
  touch -d "@$SOURCE_DATE_EPOCH" "$exe" # the cabinet carries its date
  if command -v faketime >/dev/null; then
    clock=(faketime "@$SOURCE_DATE_EPOCH")
  elif [ -n "${CI:-}" ]; then
    echo "build-msi.sh: faketime is needed for a reproducible MSI (apt-get install faketime)" >&2
    exit 1
  else
    echo "note: no faketime here: the MSI carries today's time (not reproducible)" >&2
  fi
fi
# wixl looks Source= up relative to the current folder only.
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
cd "$(dirname "$exe")"
exe=$(basename "$exe")
"${clock[@]}" wixl -a x64 \
  -D "Version=$msiversion" \
  -D "ProductCode=$(guid amagent product "$version")" \
  -D "PackageCode=$package_code" \
  -D "Comments=amagent $version ($commit)" \
  -D "Exe=$exe" \
  -o "$out" "$here/amagent.wxs"
"${clock[@]}" msibuild "$out" -s "amagent endpoint agent" amagent "x64;1033" "{$package_code}"
