#!/usr/bin/env bash
# build-msi.sh EXE VERSION COMMIT OUT: the amagent MSI with wixl. The
# product and package codes are derived from the version and commit (not
# random), and SOURCE_DATE_EPOCH fixes the times, so that a rebuild of one
# commit gives the same bytes.
set -euo pipefail
exe=$1 version=$2 commit=$3 out=$4
guid() { # a GUID from the hash of its arguments
  local h
  h=$(printf '%s' "$*" | sha256sum | cut -c1-32)
  echo "${h:0:8}-${h:8:4}-4${h:13:3}-a${h:17:3}-${h:20:12}"
}
# MSI versions are numeric: 0.1.0-rc1 becomes 0.1.0.
msiversion=${version%%[-+]*}
here=$(cd "$(dirname "$0")" && pwd)
wixl -a x64 \
  -D "Version=$msiversion" \
  -D "ProductCode=$(guid amagent product "$version")" \
  -D "PackageCode=$(guid amagent package "$version" "$commit")" \
  -D "Comments=amagent $version ($commit)" \
  -D "Exe=$exe" \
  -o "$out" "$here/amagent.wxs"
