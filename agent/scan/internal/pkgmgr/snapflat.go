package pkgmgr

import (
	"fmt"
	"strings"

	"github.com/amagent/amagent/agent/scandoc"
)

// ParseSnapList parses `snap list`: a header "Name Version Rev Tracking
// Publisher Notes" and one row per installed snap, columns separated by
// spaces (no column holds a space). The publisher's verification mark
// ("✓", "✪", or "*"/"**" without Unicode) is removed. Rows noted
// "disabled" (inactive revisions, shown with --all) are skipped. An output
// without the header is an error, unless it is empty or snapd's "No snaps
// are installed yet" notice.
func ParseSnapList(out []byte) ([]scandoc.Package, error) {
	var pkgs []scandoc.Package
	header := false
	err := lines(out, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) == 0 {
			return nil
		}
		if !header {
			if strings.HasPrefix(line, "No snaps are installed") {
				return nil
			}
			if len(f) < 3 || f[0] != "Name" || f[1] != "Version" || f[2] != "Rev" {
				return fmt.Errorf("snap list line %d: want the header \"Name Version Rev ...\", got %s", n, quote(line))
			}
			header = true
			return nil
		}
		if len(f) != 6 {
			return fmt.Errorf("snap list line %d: %d columns, want 6 (name, version, rev, tracking, publisher, notes): %s", n, len(f), quote(line))
		}
		for _, note := range strings.Split(f[5], ",") {
			if note == "disabled" {
				return nil
			}
		}
		p := scandoc.Package{Name: f[0], Version: f[1], Source: "snap"}
		pub := strings.TrimRight(f[4], "✓✪*")
		if pub != "-" {
			p.Publisher = pub
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortPackages(pkgs)
	return pkgs, nil
}

// FlatpakColumns is the --columns argument whose output ParseFlatpakList
// reads.
const FlatpakColumns = "application,version,branch,arch,origin"

// ParseFlatpakList parses `flatpak list --columns=FlatpakColumns` as
// flatpak prints it when standard output is not a terminal: no header, one
// row per installed ref, columns separated by tabs, empty when unknown. A
// ref without a version (most runtimes) gets its branch as version; the
// remote it came from becomes the Publisher.
func ParseFlatpakList(out []byte) ([]scandoc.Package, error) {
	var pkgs []scandoc.Package
	err := lines(out, func(n int, line string) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			return fmt.Errorf("flatpak list line %d: %d tab-separated columns, want 5 (%s): %s", n, len(f), FlatpakColumns, quote(line))
		}
		if f[0] == "Application ID" { // a header, if a flatpak version prints one
			return nil
		}
		if f[0] == "" || strings.ContainsAny(f[0], " /") {
			return fmt.Errorf("flatpak list line %d: %q is not an application id", n, f[0])
		}
		p := scandoc.Package{Name: f[0], Version: f[1], Architecture: f[3], Publisher: f[4], Source: "flatpak"}
		if p.Version == "" {
			p.Version = f[2]
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sortPackages(pkgs)
	return pkgs, nil
}

// ParseNeedsRestarting reads what `needs-restarting -r` printed and returns
// the items it lists as updated since boot ("  * kernel"). The exit code,
// not this text, says whether a reboot is required.
func ParseNeedsRestarting(out []byte) []string {
	var items []string
	_ = lines(out, func(n int, line string) error {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "* "); ok && s != "" {
			items = append(items, strings.TrimSpace(s))
		}
		return nil
	})
	return items
}
