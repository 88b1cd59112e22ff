package linux

import (
	"strconv"
	"strings"
)

// CompareDebVersions orders two Debian package versions
// ([epoch:]upstream[-revision], deb-version(7)): negative when a < b, zero
// when equal, positive when a > b.
func CompareDebVersions(a, b string) int {
	ea, ua, ra := splitDebVersion(a)
	eb, ub, rb := splitDebVersion(b)
	if ea != eb {
		if ea < eb {
			return -1
		}
		return 1
	}
	if c := compareDebPart(ua, ub); c != 0 {
		return c
	}
	return compareDebPart(ra, rb)
}

func splitDebVersion(v string) (epoch int, upstream, revision string) {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		if n, err := strconv.Atoi(v[:i]); err == nil {
			epoch = n
		}
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

// debOrder is the weight of one character in the non-digit parts: a tilde
// sorts before anything (even the end), letters before non-letters.
func debOrder(c byte) int {
	switch {
	case c == '~':
		return -1
	case c >= '0' && c <= '9':
		return 0
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		return int(c)
	default:
		return int(c) + 256
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// compareDebPart compares alternating non-digit and digit runs: the
// non-digit runs by debOrder, the digit runs numerically.
func compareDebPart(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		// Non-digit run.
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := 0, 0
			if i < len(a) && !isDigit(a[i]) {
				ac = debOrder(a[i])
			}
			if j < len(b) && !isDigit(b[j]) {
				bc = debOrder(b[j])
			}
			if ac != bc {
				if ac < bc {
					return -1
				}
				return 1
			}
			if i < len(a) && !isDigit(a[i]) {
				i++
			}
			if j < len(b) && !isDigit(b[j]) {
				j++
			}
		}
		// Digit run, numerically, without overflow: skip leading zeros,
		// then the longer run is larger, then lexical.
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		si, sj := i, j
		for i < len(a) && isDigit(a[i]) {
			i++
		}
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		da, db := a[si:i], b[sj:j]
		if len(da) != len(db) {
			if len(da) < len(db) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(da, db); c != 0 {
			return c
		}
	}
	return 0
}

// KernelFlavour is the part of a kernel release after its version and ABI
// number: "amd64" for "6.1.0-17-amd64", "cloud-amd64" for
// "6.1.0-17-cloud-amd64", "generic" for "5.15.0-91-generic", and "" for
// releases without one ("5.14.0-362.8.1.el9_3.x86_64", "6.6.14-0-lts" is
// "lts"). Kernels are only compared within one flavour.
func KernelFlavour(release string) string {
	i := strings.IndexByte(release, '-')
	if i < 0 {
		return ""
	}
	rest := release[i+1:]
	k := 0
	for k < len(rest) && (isDigit(rest[k]) || rest[k] == '.') {
		k++
	}
	if k == 0 || k >= len(rest) || rest[k] != '-' {
		return ""
	}
	return rest[k+1:]
}

// NewestKernel returns the newest of the installed kernel releases that has
// the running kernel's flavour, and whether it is newer than running.
func NewestKernel(running string, installed []string) (newest string, newer bool) {
	fl := KernelFlavour(running)
	for _, r := range installed {
		if KernelFlavour(r) != fl {
			continue
		}
		if newest == "" || CompareDebVersions(r, newest) > 0 {
			newest = r
		}
	}
	if newest == "" {
		return "", false
	}
	return newest, CompareDebVersions(newest, running) > 0
}
