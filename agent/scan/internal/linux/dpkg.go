package linux

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
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

// ParseDpkgStatus parses a status file held in memory; see
// ReadDpkgStatus.
func ParseDpkgStatus(b []byte) ([]DpkgPackage, error) {
	return ReadDpkgStatus(bytes.NewReader(b), len(b))
}

// dpkgLineBuf is the reader's buffer: the longest line read whole. Longer
// lines are descriptions and other fields the parser skips in pieces.
const dpkgLineBuf = 64 << 10

// ReadDpkgStatus parses /var/lib/dpkg/status (deb-control(5) stanzas
// separated by blank lines) from r as it streams by, keeping only the
// fields it needs: the name and version of each package share one small
// allocation, and the status words and architectures are interned. Memory
// is therefore about 150 bytes per package whatever the size of the
// descriptions (a status file has ~900 bytes per package), and the file is
// never held whole. sizeHint (the file's size, or 0) sizes the result. A
// field line without a colon or a stanza without a Package field is an
// error naming the line.
func ReadDpkgStatus(r io.Reader, sizeHint int) ([]DpkgPackage, error) {
	br := bufio.NewReaderSize(r, dpkgLineBuf)
	// A status file has one stanza per ~900 bytes; guess the capacity.
	out := make([]DpkgPackage, 0, sizeHint/900+1)
	var cur DpkgPackage
	var name, version []byte // this stanza's, copied out of the reader's buffer
	inStanza := false
	stanzaLine := 0
	lineNo := 0
	flush := func() error {
		if !inStanza {
			return nil
		}
		inStanza = false
		if len(name) == 0 {
			return fmt.Errorf("dpkg status: stanza at line %d has no Package field", stanzaLine)
		}
		var sb strings.Builder
		sb.Grow(len(name) + len(version))
		sb.Write(name)
		sb.Write(version)
		s := sb.String()
		cur.Name, cur.Version = s[:len(name)], s[len(name):]
		out = append(out, cur)
		cur, name, version = DpkgPackage{}, name[:0], version[:0]
		return nil
	}
	for {
		line, err := br.ReadSlice('\n')
		long := errors.Is(err, bufio.ErrBufferFull)
		if err != nil && !long && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("dpkg status line %d: %w", lineNo+1, err)
		}
		if len(line) == 0 && err != nil {
			break
		}
		lineNo++
		eof := errors.Is(err, io.EOF)
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) == 0 {
			if err := flush(); err != nil {
				return nil, err
			}
		} else if line[0] == ' ' || line[0] == '\t' {
			if !inStanza {
				return nil, fmt.Errorf("dpkg status line %d: continuation line outside a stanza", lineNo)
			}
			// continuation of a multi-line field we do not read
		} else {
			colon := bytes.IndexByte(line, ':')
			if colon <= 0 {
				return nil, fmt.Errorf("dpkg status line %d: not a \"Field: value\" line: %q", lineNo, clip(string(line[:min(len(line), 61)])))
			}
			if !inStanza {
				inStanza = true
				stanzaLine = lineNo
			}
			key, val := line[:colon], trimSpaceBytes(line[colon+1:])
			// Only four fields matter; compare by length first to stay cheap.
			switch len(key) {
			case 7:
				if string(key) == "Package" {
					if long {
						return nil, fmt.Errorf("dpkg status line %d: Package field longer than %d bytes", lineNo, dpkgLineBuf)
					}
					name = append(name[:0], val...)
				} else if string(key) == "Version" {
					if long {
						return nil, fmt.Errorf("dpkg status line %d: Version field longer than %d bytes", lineNo, dpkgLineBuf)
					}
					version = append(version[:0], val...)
				}
			case 6:
				if string(key) == "Status" {
					w1, rest, _ := bytes.Cut(val, []byte{' '})
					w2, w3, _ := bytes.Cut(rest, []byte{' '})
					if long || len(w1) == 0 || len(w2) == 0 || len(w3) == 0 || bytes.ContainsAny(w3, " \t") {
						return nil, fmt.Errorf("dpkg status line %d: Status wants three words, got %q", lineNo, clip(string(line[:min(len(line), 61)])))
					}
					cur.Want, cur.Flag, cur.State = intern(w1), intern(w2), intern(w3)
				}
			case 12:
				if string(key) == "Architecture" {
					cur.Architecture = intern(val)
				}
			}
		}
		if long {
			// An over-long line (a description): its start, with the
			// field name, was handled above; skip the rest.
			if err := skipLine(br); err != nil {
				return nil, fmt.Errorf("dpkg status line %d: %w", lineNo, err)
			}
		}
		if eof {
			break
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// skipLine discards the rest of the current line.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		switch {
		case err == nil, errors.Is(err, io.EOF):
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return err
		}
	}
}

// intern returns a constant for the common status words and
// architectures (no allocation), else a copy.
func intern(b []byte) string {
	switch string(b) {
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
	case "unknown":
		return "unknown"
	case "config-files":
		return "config-files"
	case "not-installed":
		return "not-installed"
	case "half-installed":
		return "half-installed"
	case "unpacked":
		return "unpacked"
	case "half-configured":
		return "half-configured"
	case "triggers-awaited":
		return "triggers-awaited"
	case "triggers-pending":
		return "triggers-pending"
	case "reinstreq":
		return "reinstreq"
	case "amd64":
		return "amd64"
	case "all":
		return "all"
	case "arm64":
		return "arm64"
	case "i386":
		return "i386"
	case "armhf":
		return "armhf"
	}
	return string(b)
}

func trimSpaceBytes(s []byte) []byte {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
