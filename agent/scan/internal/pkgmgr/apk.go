package pkgmgr

import (
	"errors"
	"fmt"
	"strings"

	"github.com/amagent/amagent/agent/scandoc"
)

// ParseAPKInstalled parses Alpine's package database, lib/apk/db/installed:
// one stanza per package, separated by a blank line, each line "K:value"
// with a one-letter key. The keys used are P (name), V (version), A
// (architecture) and m (maintainer, as Publisher). The t key is the
// package's build time, not its install time, so InstalledAt stays empty.
// Every stanza must have P and V; a database that ends inside a stanza
// without them is reported as truncated. An empty database is an error.
func ParseAPKInstalled(db []byte) ([]scandoc.Package, error) {
	var pkgs []scandoc.Package
	var cur scandoc.Package
	start := 0
	inStanza := false
	end := func(n int) error {
		if !inStanza {
			return nil
		}
		inStanza = false
		if cur.Name == "" || cur.Version == "" {
			return fmt.Errorf("apk installed db: package stanza at line %d has no P: (name) or V: (version)", start)
		}
		cur.Source = "apk"
		pkgs = append(pkgs, cur)
		cur = scandoc.Package{}
		return nil
	}
	last := 0
	err := lines(db, func(n int, line string) error {
		last = n
		if line == "" {
			return end(n)
		}
		if len(line) < 2 || line[1] != ':' {
			return fmt.Errorf("apk installed db line %d: not a \"K:value\" line: %s", n, quote(line))
		}
		if !inStanza {
			inStanza, start = true, n
		}
		v := line[2:]
		switch line[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Architecture = v
		case 'm':
			cur.Publisher = v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := end(last); err != nil {
		return nil, fmt.Errorf("%w (truncated database?)", err)
	}
	if len(pkgs) == 0 {
		return nil, errors.New("apk installed db lists no packages")
	}
	sortPackages(pkgs)
	return pkgs, nil
}

// SplitAPKNameVersion splits "busybox-1.36.1-r15" into name and version.
// An apk version always ends in "-r<N>" and holds no other dash, while the
// name may hold dashes ("py3-foo"), so the second dash from the right splits.
func SplitAPKNameVersion(s string) (name, version string, err error) {
	d2 := strings.LastIndexByte(s, '-')
	if d2 <= 0 || d2+1 >= len(s) || s[d2+1] != 'r' {
		return "", "", fmt.Errorf("apk package %q: no -r<N> release suffix", s)
	}
	d1 := strings.LastIndexByte(s[:d2], '-')
	if d1 <= 0 || d1+1 == d2 {
		return "", "", fmt.Errorf("apk package %q: no version", s)
	}
	return s[:d1], s[d1+1:], nil
}

// ParseAPKVersion parses `apk version -l '<'`: after the header
// "Installed: Available:", one line per upgradable package,
// "name-oldversion < newversion". Lines with another relation are skipped.
// Alpine publishes no security flag in its index, so Security is false.
func ParseAPKVersion(out []byte) ([]scandoc.Update, error) {
	var ups []scandoc.Update
	err := lines(out, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "Installed:" || strings.HasPrefix(line, "WARNING:") {
			return nil
		}
		if len(f) != 3 {
			return fmt.Errorf("apk version line %d: %d columns, want 3 (package, relation, available version): %s", n, len(f), quote(line))
		}
		name, cur, err := SplitAPKNameVersion(f[0])
		if err != nil {
			return fmt.Errorf("apk version line %d: %w", n, err)
		}
		switch f[1] {
		case "<":
		case "=", ">", "?", "<=", ">=":
			return nil
		default:
			return fmt.Errorf("apk version line %d: unknown relation %q", n, f[1])
		}
		ups = append(ups, scandoc.Update{Name: name, CurrentVersion: cur, Version: f[2], Source: "apk"})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ups, nil
}
