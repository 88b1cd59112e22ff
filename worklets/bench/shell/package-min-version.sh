# package-min-version: openssl, when installed, is at least 3.0.0.
. "$(dirname "$0")/lib.sh"
pkg=openssl
min=3.0.0
v=$(pkgver "$pkg")
[ -n "$v" ] || say 2 "$pkg is not installed"
dpkg --compare-versions "$v" ge "$min" && say 0 "$pkg $v is at least $min"
say 1 "$pkg $v is older than $min"
