package linux

import (
	"fmt"
	"strings"
)

// DpkgPackage is one stanza of the dpkg status database.
type DpkgPackage struct {
	Name         string
	Version      string
	Architecture string
	// Want, Flag and State are the three words of the Status field
	// ("install ok installed").
	Want, Flag, State string
}

// Present reports whether the package's files are (at least partly) on the
// machine: every state except not-installed and config-files (removed,
// configuration files left). This is what the scan reports as installed
// software.
func (p DpkgPackage) Present() bool {
	return p.State != "not-installed" && p.State != "config-files" && p.State != ""
}

// Listed reports whether `dpkg-query -W` lists the package: every state
// except not-installed.
func (p DpkgPackage) Listed() bool { return p.State != "not-installed" && p.State != "" }

// ParseDpkgStatus parses /var/lib/dpkg/status (deb-control(5) stanzas
// separated by blank lines). It reads only the fields it needs; their
// values are substrings of one copy of the file and the status words and
// architectures are interned, which is what makes it fast (a few
// allocations per package). A field line without a colon or a stanza
// without a Package field is an error naming the line.
func ParseDpkgStatus(b []byte) ([]DpkgPackage, error) {
	text := string(b)
	// A status file has one stanza per ~900 bytes; guess the capacity.
	out := make([]DpkgPackage, 0, len(text)/900+1)
	var cur DpkgPackage
	inStanza := false
	stanzaLine := 0
	lineNo := 0
	flush := func() error {
		if !inStanza {
			return nil
		}
		inStanza = false
		if cur.Name == "" {
			return fmt.Errorf("dpkg status: stanza at line %d has no Package field", stanzaLine)
		}
		out = append(out, cur)
		cur = DpkgPackage{}
		return nil
	}
	for len(text) > 0 {
		lineNo++
		var line string
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			line, text = text, ""
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if len(line) == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !inStanza {
				return nil, fmt.Errorf("dpkg status line %d: continuation line outside a stanza", lineNo)
			}
			continue // continuation of a multi-line field we do not read
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("dpkg status line %d: not a \"Field: value\" line: %q", lineNo, clip(line))
		}
		if !inStanza {
			inStanza = true
			stanzaLine = lineNo
		}
		key, val := line[:colon], trimSpace(line[colon+1:])
		// Only four fields matter; compare by length first to stay cheap.
		switch len(key) {
		case 7:
			if key == "Package" {
				cur.Name = val
			} else if key == "Version" {
				cur.Version = val
			}
		case 6:
			if key == "Status" {
				w1, rest, _ := strings.Cut(val, " ")
				w2, w3, _ := strings.Cut(rest, " ")
				if w1 == "" || w2 == "" || w3 == "" || strings.ContainsAny(w3, " \t") {
					return nil, fmt.Errorf("dpkg status line %d: Status wants three words, got %q", lineNo, clip(line))
				}
				cur.Want, cur.Flag, cur.State = intern(w1), intern(w2), intern(w3)
			}
		case 12:
			if key == "Architecture" {
				cur.Architecture = intern(val)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// intern returns a constant for the common status words and
// architectures, so that packages do not keep the file's copy alive
// through them.
func intern(s string) string {
	switch s {
	case "install":
		return "install"
	case "ok":
		return "ok"
	case "installed":
		return "installed"
	case "deinstall":
		return "deinstall"
	case "purge":
		return "purge"
	case "hold":
		return "hold"
	case "config-files":
		return "config-files"
	case "not-installed":
		return "not-installed"
	case "amd64":
		return "amd64"
	case "all":
		return "all"
	case "arm64":
		return "arm64"
	case "i386":
		return "i386"
	}
	return s
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
