package pkgmgr

import (
	"fmt"
	"sort"
	"strings"

	"github.com/amagent/amagent/agent/scandoc"
)

// DNFUpdate is one line of `dnf check-update`: a newer package available
// from a repository.
type DNFUpdate struct {
	Name, Arch, Version, Repo string
}

// ParseDNFCheckUpdate parses the standard output of `dnf -q check-update`
// (dnf 4 and dnf 5 print the same three columns: name.arch, version,
// repository). dnf wraps a column that is too wide onto the next line,
// indented; such continuations are joined. The "Obsoleting Packages" section
// at the end repeats packages that already appear above and is skipped, as
// are dnf's informational lines ("Last metadata expiration check", "Security:
// ... is an installed security update").
func ParseDNFCheckUpdate(out []byte) ([]DNFUpdate, error) {
	var ups []DNFUpdate
	var pending []string
	pendingLine := 0
	done := false
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if len(pending) != 3 {
			return fmt.Errorf("dnf check-update line %d: %d columns, want 3 (name.arch, version, repository): %s", pendingLine, len(pending), quote(strings.Join(pending, " ")))
		}
		na, ver, repo := pending[0], pending[1], pending[2]
		dot := strings.LastIndexByte(na, '.')
		if dot <= 0 || dot == len(na)-1 {
			return fmt.Errorf("dnf check-update line %d: %q is not name.arch", pendingLine, na)
		}
		if !strings.Contains(ver, "-") {
			return fmt.Errorf("dnf check-update line %d: %q is not version-release", pendingLine, ver)
		}
		ups = append(ups, DNFUpdate{Name: na[:dot], Arch: na[dot+1:], Version: ver, Repo: repo})
		pending = nil
		return nil
	}
	err := lines(out, func(n int, line string) error {
		if done {
			return nil
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			return flush()
		case strings.HasPrefix(trimmed, "Obsoleting Packages"):
			done = true
			return flush()
		case strings.HasPrefix(trimmed, "Last metadata expiration check"),
			strings.HasPrefix(trimmed, "Security: "),
			strings.HasPrefix(trimmed, "Updating Subscription Management"),
			strings.HasPrefix(trimmed, "Available upgrades"), // dnf 5 heading
			strings.HasPrefix(trimmed, "Repositories loaded"):
			return nil
		}
		f := strings.Fields(line)
		continuation := line[0] == ' ' || line[0] == '\t'
		if !continuation {
			if err := flush(); err != nil {
				return err
			}
			pendingLine = n
		} else if len(pending) == 0 {
			return fmt.Errorf("dnf check-update line %d: indented line with nothing to continue: %s", n, quote(line))
		}
		pending = append(pending, f...)
		if len(pending) > 3 {
			return fmt.Errorf("dnf check-update line %d: %d columns, want 3 (name.arch, version, repository): %s", n, len(pending), quote(line))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return ups, nil
}

// Advisory is one line of `dnf updateinfo list`: an advisory that applies
// to one package.
type Advisory struct {
	ID       string // RHSA-2024:2394, FEDORA-2024-...
	Type     string // security, bugfix, enhancement, newpackage
	Severity string // critical, important, moderate, low, unknown ("" when not a security advisory)
	Package  NEVRA
}

// ParseDNFUpdateInfo parses `dnf -q updateinfo list ...`. dnf 4 prints
// "ID TYPE NEVRA" where a security TYPE is "<Severity>/Sec." ("Sec." alone
// when the advisory has no severity); dnf 5 prints "ID TYPE SEVERITY NEVRA
// ISSUED-DATE ISSUED-TIME" under a header line.
func ParseDNFUpdateInfo(out []byte) ([]Advisory, error) {
	var advs []Advisory
	err := lines(out, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(line, "Last metadata expiration check") ||
			strings.HasPrefix(line, "Updating Subscription Management") ||
			(len(f) >= 4 && f[0] == "Name" && f[1] == "Type" && f[2] == "Severity") {
			return nil
		}
		var a Advisory
		var nevra string
		switch {
		case len(f) == 3: // dnf 4
			a.ID, nevra = f[0], f[2]
			if sev, ok := strings.CutSuffix(f[1], "Sec."); ok {
				a.Type = "security"
				a.Severity = normSeverity(strings.TrimSuffix(sev, "/"))
			} else {
				a.Type = strings.ToLower(f[1])
			}
		case len(f) == 6 || len(f) == 4: // dnf 5, with or without the issued date
			a.ID, a.Type, nevra = f[0], strings.ToLower(f[1]), f[3]
			if a.Type == "security" {
				a.Severity = normSeverity(f[2])
			}
		default:
			return fmt.Errorf("dnf updateinfo line %d: %d columns, want 3 (dnf 4: id, type, package) or 6 (dnf 5): %s", n, len(f), quote(line))
		}
		p, err := ParseNEVRA(nevra)
		if err != nil {
			return fmt.Errorf("dnf updateinfo line %d: %w", n, err)
		}
		a.Package = p
		advs = append(advs, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return advs, nil
}

var severityRank = map[string]int{"unknown": 1, "low": 2, "moderate": 3, "important": 4, "critical": 5}

func normSeverity(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if _, ok := severityRank[s]; ok {
		return s
	}
	return "unknown" // "", "None", anything new
}

// ParseRPMVersions parses `rpm -q --qf RPMVersionFormat name.arch...`: the
// installed version of each queried package, keyed "name.arch". Lines that
// say a package is not installed are skipped. When several versions are
// installed (kernels), the last one listed wins.
func ParseRPMVersions(out []byte) (map[string]string, error) {
	m := map[string]string{}
	err := lines(out, func(n int, line string) error {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "package ") {
			return nil
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 || f[0] == "" || f[2] == "" {
			return fmt.Errorf("rpm version line %d: want name.arch, epoch, version, release separated by tabs: %s", n, quote(line))
		}
		m[f[0]] = rpmEVR(f[1], f[2], f[3])
		return nil
	})
	return m, err
}

// RPMVersionFormat is the --queryformat for ParseRPMVersions.
const RPMVersionFormat = `%{NAME}.%{ARCH}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\n`

// MergeDNF turns check-update lines into pending updates. An update is a
// security update when a security advisory names the same name.arch; its
// severity is the highest among those advisories. installed (name.arch to
// version, may be nil) fills CurrentVersion. The result is sorted by name.
func MergeDNF(ups []DNFUpdate, advs []Advisory, installed map[string]string) []scandoc.Update {
	type sec struct{ severity string }
	secs := map[string]sec{}
	for _, a := range advs {
		if a.Type != "security" {
			continue
		}
		k := a.Package.Name + "." + a.Package.Arch
		if s, ok := secs[k]; !ok || severityRank[a.Severity] > severityRank[s.severity] {
			secs[k] = sec{a.Severity}
		}
	}
	out := make([]scandoc.Update, 0, len(ups))
	for _, u := range ups {
		k := u.Name + "." + u.Arch
		up := scandoc.Update{Name: u.Name, Version: u.Version, Source: "dnf", Origin: u.Repo, CurrentVersion: installed[k]}
		if s, ok := secs[k]; ok {
			up.Security, up.Severity = true, s.severity
		}
		out = append(out, up)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
