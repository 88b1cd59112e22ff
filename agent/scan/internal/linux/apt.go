package linux

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// AptUpdate is one "Inst" line of `apt-get -s dist-upgrade`: a package that
// the upgrade would install or upgrade.
type AptUpdate struct {
	Name           string
	CurrentVersion string // empty for a package that would be newly installed
	Version        string
	Architecture   string
	// Origins are the archives offering Version, as apt prints them:
	// "Debian-Security:12/stable-security", "Ubuntu:22.04/jammy-updates".
	Origins []string
	// Security is true when an origin is a security archive: Debian's
	// "Debian-Security" label or any "<suite>-security" archive (Debian
	// 11+, Ubuntu).
	Security bool
}

// ParseAptSimulation parses the output of
// `apt-get -s -o Debug::NoLocking=1 dist-upgrade`. Only "Inst" lines
// matter; "Conf", "Remv" and the human text around them are skipped. An
// "Inst" line that does not have the form
//
//	Inst NAME [CURRENT] (VERSION ORIGIN[, ORIGIN...] [ARCH]) ...
//
// is an error naming the line.
func ParseAptSimulation(b []byte) ([]AptUpdate, error) {
	var out []AptUpdate
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if !strings.HasPrefix(line, "Inst ") {
			continue
		}
		u, err := parseInst(line[len("Inst "):])
		if err != nil {
			return nil, fmt.Errorf("apt-get simulation line %d %q: %w", n, clip(line), err)
		}
		out = append(out, u)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("apt-get simulation: %w", err)
	}
	return out, nil
}

func parseInst(s string) (AptUpdate, error) {
	var u AptUpdate
	name, rest, ok := strings.Cut(s, " ")
	if !ok || name == "" {
		return u, fmt.Errorf("no package name")
	}
	u.Name = name
	rest = strings.TrimLeft(rest, " ")
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return u, fmt.Errorf("unterminated [current version]")
		}
		u.CurrentVersion = rest[1:end]
		rest = strings.TrimLeft(rest[end+1:], " ")
	}
	if !strings.HasPrefix(rest, "(") {
		return u, fmt.Errorf("no (version origin [arch]) group")
	}
	end := strings.IndexByte(rest, ')')
	if end < 0 {
		return u, fmt.Errorf("unterminated (version origin [arch]) group")
	}
	group := rest[1:end]
	ver, origins, _ := strings.Cut(group, " ")
	if ver == "" {
		return u, fmt.Errorf("no candidate version")
	}
	u.Version = ver
	if i := strings.LastIndex(origins, " ["); i >= 0 && strings.HasSuffix(origins, "]") {
		u.Architecture = origins[i+2 : len(origins)-1]
		origins = origins[:i]
	} else if strings.HasPrefix(origins, "[") && strings.HasSuffix(origins, "]") {
		u.Architecture = origins[1 : len(origins)-1]
		origins = ""
	}
	for _, o := range strings.Split(origins, ", ") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u.Origins = append(u.Origins, o)
		if isSecurityOrigin(o) {
			u.Security = true
		}
	}
	return u, nil
}

// isSecurityOrigin recognises Debian's and Ubuntu's security archives:
// "Debian-Security:12/stable-security", "Debian-Security:10/oldstable"
// (label), "Ubuntu:22.04/jammy-security" (archive suffix).
func isSecurityOrigin(o string) bool {
	label, archive, _ := strings.Cut(o, ":")
	if strings.EqualFold(label, "Debian-Security") {
		return true
	}
	if i := strings.IndexByte(archive, '/'); i >= 0 {
		archive = archive[i+1:]
	}
	return strings.HasSuffix(archive, "-security") || strings.HasSuffix(archive, "/updates")
}
