package pkgmgr

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
)

// RPMQueryFormat is the --queryformat given to `rpm -qa`: one package per
// line, seven tab-separated fields. Tags without a value print "(none)"
// (EPOCH, VENDOR, and ARCH of gpg-pubkey). None of these tags can hold a tab
// or a newline in a well-formed package, so the line shape is checked
// strictly.
const RPMQueryFormat = `%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{INSTALLTIME}\t%{VENDOR}\n`

const rpmNone = "(none)"

// ParseRPMQuery parses the output of `rpm -qa --qf RPMQueryFormat`. The
// imported signing keys (gpg-pubkey, which rpm lists as packages) are left
// out. Versions are "[epoch:]version-release", as rpm and dnf print them.
// The result is sorted by name, then version, then architecture. An output
// with no package at all is an error: an rpm-based system always has some.
func ParseRPMQuery(out []byte) ([]scandoc.Package, error) {
	var pkgs []scandoc.Package
	sawKey := false
	err := lines(out, func(n int, line string) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			return fmt.Errorf("rpm query line %d: %d tab-separated fields, want 7 (name, epoch, version, release, arch, installtime, vendor): %s", n, len(f), quote(line))
		}
		name, epoch, ver, rel, arch, itime, vendor := f[0], f[1], f[2], f[3], f[4], f[5], f[6]
		if name == "" || ver == "" || strings.ContainsAny(name, " ") {
			return fmt.Errorf("rpm query line %d: bad name or version: %s", n, quote(line))
		}
		if name == "gpg-pubkey" {
			sawKey = true
			return nil
		}
		p := scandoc.Package{Name: name, Source: "rpm", Version: rpmEVR(epoch, ver, rel)}
		if arch != rpmNone {
			p.Architecture = arch
		}
		if vendor != rpmNone {
			p.Publisher = vendor
		}
		if itime != rpmNone && itime != "" {
			sec, err := strconv.ParseInt(itime, 10, 64)
			if err != nil || sec < 0 {
				return fmt.Errorf("rpm query line %d: install time %q is not a Unix time", n, itime)
			}
			t := time.Unix(sec, 0).UTC()
			p.InstalledAt = &t
		}
		if epoch != rpmNone {
			if _, err := strconv.ParseUint(epoch, 10, 32); err != nil {
				return fmt.Errorf("rpm query line %d: epoch %q is not a number", n, epoch)
			}
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(pkgs) == 0 && !sawKey {
		return nil, errors.New("rpm query printed no packages")
	}
	sortPackages(pkgs)
	return pkgs, nil
}

// rpmEVR joins epoch, version and release the way rpm prints them, the
// epoch only when it is set and not zero.
func rpmEVR(epoch, ver, rel string) string {
	v := ver
	if rel != "" && rel != rpmNone {
		v += "-" + rel
	}
	if epoch != "" && epoch != rpmNone && epoch != "0" {
		v = epoch + ":" + v
	}
	return v
}

func sortPackages(pkgs []scandoc.Package) {
	sort.SliceStable(pkgs, func(i, j int) bool {
		a, b := pkgs[i], pkgs[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		return a.Architecture < b.Architecture
	})
}

// NEVRA is a package named the way dnf prints it:
// name-[epoch:]version-release.arch.
type NEVRA struct {
	Name, Version, Arch string // Version is "[epoch:]version-release"
}

// ParseNEVRA splits "openssl-1:3.0.7-27.el9.x86_64". The name may contain
// dashes; version and release may not, so the last two dashes split them.
func ParseNEVRA(s string) (NEVRA, error) {
	dot := strings.LastIndexByte(s, '.')
	if dot <= 0 || dot == len(s)-1 {
		return NEVRA{}, fmt.Errorf("package %q: no architecture suffix", s)
	}
	arch, rest := s[dot+1:], s[:dot]
	d2 := strings.LastIndexByte(rest, '-')
	if d2 <= 0 {
		return NEVRA{}, fmt.Errorf("package %q: no release", s)
	}
	d1 := strings.LastIndexByte(rest[:d2], '-')
	if d1 <= 0 || d1+1 == d2 || d2 == len(rest)-1 {
		return NEVRA{}, fmt.Errorf("package %q: no version", s)
	}
	return NEVRA{Name: rest[:d1], Version: rest[d1+1:], Arch: arch}, nil
}
