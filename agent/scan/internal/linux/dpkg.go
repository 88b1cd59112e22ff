package linux

import (
	"bytes"
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
// separated by blank lines). It reads only the fields it needs and
// allocates only their values, which is what makes it fast. A field line
// without a colon or a stanza without a Package field is an error naming the
// line.
func ParseDpkgStatus(b []byte) ([]DpkgPackage, error) {
	// A status file has one stanza per ~900 bytes; guess the capacity.
	out := make([]DpkgPackage, 0, len(b)/900+1)
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
	for len(b) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
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
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("dpkg status line %d: not a \"Field: value\" line: %q", lineNo, clip(string(line)))
		}
		if !inStanza {
			inStanza = true
			stanzaLine = lineNo
		}
		key := line[:colon]
		// Only four fields matter; compare by length first to stay cheap.
		switch len(key) {
		case 7:
			if string(key) == "Package" {
				cur.Name = string(trimSpace(line[colon+1:]))
			} else if string(key) == "Version" {
				cur.Version = string(trimSpace(line[colon+1:]))
			}
		case 6:
			if string(key) == "Status" {
				f := strings.Fields(string(line[colon+1:]))
				if len(f) != 3 {
					return nil, fmt.Errorf("dpkg status line %d: Status wants three words, got %q", lineNo, clip(string(line)))
				}
				cur.Want, cur.Flag, cur.State = f[0], f[1], f[2]
			}
		case 12:
			if string(key) == "Architecture" {
				cur.Architecture = string(trimSpace(line[colon+1:]))
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
