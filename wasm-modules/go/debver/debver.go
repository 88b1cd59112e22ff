// Package debver compares package versions the way dpkg does
// ([epoch:]upstream[-revision], deb-version(7): '~' sorts before
// everything, even the end of the string; digit runs compare as numbers).
// It is plain Go with no host access: the Go worklets and policies use it
// in GOOS=wasip1 modules, and the agent's Linux collectors on the device.
//
// Compare orders any two strings, as dpkg would after splitting them;
// Parse and CompareStrings also check that a version is well formed.
//
// RPM versions ([epoch:]version-release) compare closely enough with the same
// rules for the "at least version X" checks the worklets make; the one known
// difference (rpm treats '^' specially) does not occur in distribution
// package versions of the supported systems.
package debver

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed package version.
type Version struct {
	Epoch    int
	Upstream string
	Revision string
}

// Parse splits s into epoch, upstream version and revision. It fails on an
// empty version, a non-numeric epoch or an upstream part that does not start
// with a digit (dpkg's own rule, relaxed: letters are accepted because some
// sources report versions such as "v1.2").
func Parse(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Version{}, fmt.Errorf("empty version")
	}
	var v Version
	if i := strings.IndexByte(s, ':'); i >= 0 {
		e, err := strconv.Atoi(s[:i])
		if err != nil || e < 0 {
			return Version{}, fmt.Errorf("version %q: epoch %q is not a non-negative number", s, s[:i])
		}
		v.Epoch = e
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.Revision = s[i+1:]
		s = s[:i]
	}
	if s == "" {
		return Version{}, fmt.Errorf("version has an empty upstream part")
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(".+~-_:^", r)) {
			return Version{}, fmt.Errorf("version %q: invalid character %q", s, r)
		}
	}
	v.Upstream = s
	return v, nil
}

// String formats v the way dpkg prints it.
func (v Version) String() string {
	s := v.Upstream
	if v.Epoch != 0 {
		s = strconv.Itoa(v.Epoch) + ":" + s
	}
	if v.Revision != "" {
		s += "-" + v.Revision
	}
	return s
}

// Compare returns -1, 0 or +1 as version a is older than, equal to or
// newer than b. It never fails: an epoch that is not a number counts as 0,
// and the rest is split at the last '-' as dpkg does.
func Compare(a, b string) int {
	return split(a).Compare(split(b))
}

// split is Parse without the checks.
func split(s string) Version {
	var v Version
	if i := strings.IndexByte(s, ':'); i >= 0 {
		v.Epoch, _ = strconv.Atoi(s[:i])
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v.Revision = s[i+1:]
		s = s[:i]
	}
	v.Upstream = s
	return v
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than w.
func (a Version) Compare(b Version) int {
	switch {
	case a.Epoch < b.Epoch:
		return -1
	case a.Epoch > b.Epoch:
		return 1
	}
	if c := compareFragment(a.Upstream, b.Upstream); c != 0 {
		return c
	}
	return compareFragment(a.Revision, b.Revision)
}

// CompareStrings parses and compares two versions.
func CompareStrings(a, b string) (int, error) {
	va, err := Parse(a)
	if err != nil {
		return 0, err
	}
	vb, err := Parse(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

// order gives a character's weight in the non-digit part of a version:
// '~' before the end of the string, the end before letters, letters before
// everything else.
func order(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return 0
	case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		return int(c)
	case c == '~':
		return -1
	default:
		return int(c) + 256
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// compareFragment compares alternating runs of non-digits (by order) and
// digits (numerically) from left to right.
func compareFragment(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isDigit(a[i]) || j < len(b) && !isDigit(b[j]) {
			ca, cb := 0, 0
			if i < len(a) && !isDigit(a[i]) {
				ca = order(a[i])
			}
			if j < len(b) && !isDigit(b[j]) {
				cb = order(b[j])
			}
			if ca != cb {
				if ca < cb {
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
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		first := 0
		for i < len(a) && isDigit(a[i]) && j < len(b) && isDigit(b[j]) {
			if first == 0 {
				first = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if first != 0 {
			if first < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}
