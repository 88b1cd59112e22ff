#!/usr/bin/env bash
# make package: reproducible binaries and packages of one commit into dist/.
#   amagent    .deb .rpm .apk   (amd64, arm64)
#   amplatform .deb .rpm        (amd64, arm64)
#   amagent    .msi             (x64, built with wixl from msitools)
#   SHA256SUMS of all of them.
# Every time inside comes from the commit (SOURCE_DATE_EPOCH), paths are
# trimmed and no VCS stamp is embedded, so two builds of one commit in
# different folders at different times give identical bytes
# (packaging/pkgtest TestReproducible).
#
# Environment: VERSION (default: the VERSION file), DIST (default dist),
# ARCHES ("amd64 arm64"), FORMATS ("deb rpm apk msi").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VERSION=${VERSION:-$(cat VERSION)}
DIST=${DIST:-dist}
ARCHES=${ARCHES:-amd64 arm64}
FORMATS=${FORMATS:-deb rpm apk msi}
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)

COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$COMMIT" != unknown ] && ! git diff --quiet HEAD -- 2>/dev/null; then
  COMMIT=$COMMIT-dirty
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}
DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

# Static binaries (no C toolchain in the output; they run on musl too),
# no paths of this checkout, no VCS stamp, no build id from the
# environment, the version facts from the commit.
export CGO_ENABLED=0
export GOFLAGS="-trimpath -buildvcs=false"
V=github.com/amagent/amagent/agent/version
LDFLAGS="-s -w -buildid= -X $V.Version=$VERSION -X $V.Commit=$COMMIT -X $V.Date=$DATE"

build() { # GOOS GOARCH OUT PKG
  echo "build $1/$2 $4"
  GOOS=$1 GOARCH=$2 go build -ldflags "$LDFLAGS" -o "$3" "$4"
}

rm -rf "$DIST/build"
# The packaging tool runs here; its own module keeps nfpm's dependencies
# out of the agent's go.mod.
(cd packaging && GOOS= GOARCH= CGO_ENABLED=0 go build -o "$DIST/build/mkpkg" ./cmd/mkpkg)

want() { case " $FORMATS " in *" $1 "*) return 0 ;; esac; return 1; }

for arch in $ARCHES; do
  bin=$DIST/build/linux_$arch
  build linux "$arch" "$bin/amagent" ./agent/cmd/amagent
  build linux "$arch" "$bin/amplatform" ./platform/cmd/amplatform
  for f in deb rpm apk; do
    want "$f" || continue
    "$DIST/build/mkpkg" -config packaging/amagent.yaml -format "$f" -arch "$arch" -version "$VERSION" \
      -commit "$COMMIT" -bin "$bin" -mtime "$SOURCE_DATE_EPOCH" -out "$DIST"
    if [ "$f" != apk ]; then
      "$DIST/build/mkpkg" -config packaging/amplatform.yaml -format "$f" -arch "$arch" -version "$VERSION" \
        -commit "$COMMIT" -bin "$bin" -mtime "$SOURCE_DATE_EPOCH" -out "$DIST"
    fi
  done
done

if want msi; then
  if command -v wixl >/dev/null; then
    build windows amd64 "$DIST/build/windows_amd64/amagent.exe" ./agent/cmd/amagent
    ./packaging/windows/build-msi.sh "$DIST/build/windows_amd64/amagent.exe" "$VERSION" "$COMMIT" \
      "$DIST/amagent-$VERSION-x64.msi"
    echo "$DIST/amagent-$VERSION-x64.msi"
  elif [ -n "${CI:-}" ]; then
    echo "make package: wixl (Debian package wixl, from msitools) is needed for the MSI" >&2
    exit 1
  else
    echo "note: no wixl here (apt-get install wixl): the MSI is not built" >&2
  fi
fi

(cd "$DIST" && find . -maxdepth 1 -type f \( -name '*.deb' -o -name '*.rpm' -o -name '*.apk' -o -name '*.msi' \) \
  -printf '%f\n' | LC_ALL=C sort | xargs -r sha256sum >SHA256SUMS)
echo "$DIST/SHA256SUMS"
