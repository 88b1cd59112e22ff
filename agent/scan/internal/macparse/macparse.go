// Package macparse holds the pure parsers of the macOS collectors: sw_vers,
// system_profiler's JSON (hardware, software overview, applications),
// softwareupdate's history and pending list, and last. None of them runs a
// program; each is tested on recorded outputs in testdata/, and the
// collectors that run the programs are in agent/scan/collect_darwin.go.
package macparse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
)

// SwVers parses `sw_vers`: "ProductName:\tmacOS", "ProductVersion:\t14.5",
// "BuildVersion:\t23F79" (other lines, such as ProductVersionExtra on a
// Rapid Security Response, are ignored).
func SwVers(out []byte) (name, version, build string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "ProductName":
			name = v
		case "ProductVersion":
			version = v
		case "BuildVersion":
			build = v
		}
	}
	if name == "" || version == "" || build == "" {
		return "", "", "", fmt.Errorf("sw_vers: want ProductName, ProductVersion and BuildVersion, got %q", strings.TrimSpace(string(out)))
	}
	return name, version, build, nil
}

// ReleaseName is the marketing name of a macOS major version ("" when
// unknown).
func ReleaseName(version string) string {
	major, _, _ := strings.Cut(version, ".")
	switch major {
	case "11":
		return "Big Sur"
	case "12":
		return "Monterey"
	case "13":
		return "Ventura"
	case "14":
		return "Sonoma"
	case "15":
		return "Sequoia"
	case "26":
		return "Tahoe"
	}
	return ""
}

// Profile is what the collectors read from
// `system_profiler -json SPHardwareDataType SPSoftwareDataType`.
type Profile struct {
	Hardware scandoc.Hardware // vendor, model, serial, firmware, CPU model/cores/MHz, memory
	UserName string           // the user running the session that asked ("Jane Appleseed (jane)")
	Kernel   string           // "Darwin 23.5.0"
}

// SystemProfile parses the JSON of
// `system_profiler -json SPHardwareDataType SPSoftwareDataType`. Apple
// silicon reports chip_type and "proc <total>:<performance>:<efficiency>";
// Intel Macs report cpu_type, current_processor_speed and a number.
func SystemProfile(b []byte) (Profile, error) {
	var doc struct {
		HW []map[string]json.RawMessage `json:"SPHardwareDataType"`
		SW []map[string]json.RawMessage `json:"SPSoftwareDataType"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return Profile{}, fmt.Errorf("system_profiler JSON: %w", err)
	}
	if len(doc.HW) == 0 {
		return Profile{}, errors.New("system_profiler JSON: no SPHardwareDataType entry")
	}
	hw := doc.HW[0]
	str := func(m map[string]json.RawMessage, k string) string {
		var s string
		if json.Unmarshal(m[k], &s) == nil {
			return strings.TrimSpace(s)
		}
		return ""
	}
	var p Profile
	h := &p.Hardware
	h.Vendor = "Apple Inc."
	h.Model = str(hw, "machine_model")
	if n := str(hw, "machine_name"); n != "" {
		if h.Model != "" {
			h.Model = n + " (" + h.Model + ")"
		} else {
			h.Model = n
		}
	}
	h.Serial = str(hw, "serial_number")
	h.BIOSVendor = "Apple Inc."
	h.BIOSVersion = str(hw, "boot_rom_version")
	h.CPU.Model = str(hw, "chip_type")
	if h.CPU.Model == "" {
		h.CPU.Model = str(hw, "cpu_type")
	}
	if v := str(hw, "current_processor_speed"); v != "" {
		if mhz, err := speedMHz(v); err == nil {
			h.CPU.MHz = mhz
		}
	}
	if raw, ok := hw["number_processors"]; ok {
		n, err := processors(raw)
		if err != nil {
			return Profile{}, fmt.Errorf("system_profiler JSON: number_processors: %w", err)
		}
		h.CPU.Cores = n
	}
	if v := str(hw, "physical_memory"); v != "" {
		n, err := ParseSize(v)
		if err != nil {
			return Profile{}, fmt.Errorf("system_profiler JSON: physical_memory: %w", err)
		}
		h.MemoryBytes = n
	}
	if h.Model == "" && h.Serial == "" && h.CPU.Model == "" {
		return Profile{}, errors.New("system_profiler JSON: the hardware entry has no model, serial or processor")
	}
	if len(doc.SW) > 0 {
		p.UserName = str(doc.SW[0], "user_name")
		p.Kernel = str(doc.SW[0], "kernel_version")
	}
	return p, nil
}

func processors(raw json.RawMessage) (int, error) {
	var n int
	if json.Unmarshal(raw, &n) == nil {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("%s is neither a number nor a string", raw)
	}
	// "proc 10:4:6" (total:performance:efficiency)
	f := strings.Fields(s)
	if len(f) == 2 && f[0] == "proc" {
		total, _, _ := strings.Cut(f[1], ":")
		if n, err := strconv.Atoi(total); err == nil {
			return n, nil
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("%q: unknown form", s)
}

func speedMHz(s string) (float64, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, fmt.Errorf("speed %q", s)
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(f[0], ",", "."), 64)
	if err != nil {
		return 0, fmt.Errorf("speed %q", s)
	}
	switch strings.ToUpper(f[1]) {
	case "GHZ":
		return v * 1000, nil
	case "MHZ":
		return v, nil
	}
	return 0, fmt.Errorf("speed %q: unknown unit", s)
}

// ParseSize reads system_profiler sizes such as "16 GB" (binary units, as
// About This Mac means them).
func ParseSize(s string) (uint64, error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, fmt.Errorf("size %q: want \"<n> <unit>\"", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: bad number", s)
	}
	mult := map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[strings.ToUpper(f[1])]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit", s)
	}
	return uint64(v * mult), nil
}

// Applications parses `system_profiler -json SPApplicationsDataType` into
// the software inventory. Applications under /System/Library (helpers of
// the OS itself, updated with it) are left out; the publisher is the
// signing identity's name ("Developer ID Application: Google LLC (…)"
// gives "Google LLC"), Apple for Apple's apps, the App Store for its apps
// without a recognisable identity. Source is "app".
func Applications(b []byte) ([]scandoc.Package, error) {
	var doc struct {
		Apps []struct {
			Name         string   `json:"_name"`
			Version      string   `json:"version"`
			Path         string   `json:"path"`
			ArchKind     string   `json:"arch_kind"`
			ObtainedFrom string   `json:"obtained_from"`
			SignedBy     []string `json:"signed_by"`
			LastModified string   `json:"lastModified"`
		} `json:"SPApplicationsDataType"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("system_profiler applications JSON: %w", err)
	}
	if doc.Apps == nil {
		return nil, errors.New("system_profiler applications JSON: no SPApplicationsDataType list")
	}
	out := []scandoc.Package{}
	for i, a := range doc.Apps {
		if strings.TrimSpace(a.Name) == "" {
			return nil, fmt.Errorf("system_profiler applications JSON: item %d has no name", i)
		}
		if strings.HasPrefix(a.Path, "/System/Library/") {
			continue
		}
		p := scandoc.Package{Name: a.Name, Version: a.Version, Source: "app", Architecture: archKind(a.ArchKind), Publisher: publisher(a.ObtainedFrom, a.SignedBy)}
		if a.LastModified != "" {
			if t, err := time.Parse(time.RFC3339, a.LastModified); err == nil {
				t = t.UTC()
				p.InstalledAt = &t
			}
		}
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

func archKind(k string) string {
	switch k {
	case "arch_arm_i64":
		return "universal"
	case "arch_arm", "arch_ios":
		return "arm64"
	case "arch_i64":
		return "x86_64"
	case "arch_i32", "arch_i32_i64":
		return "x86"
	case "arch_other", "":
		return ""
	}
	return k
}

var devIDRe = regexp.MustCompile(`^(?:Developer ID Application|Apple Development|Apple Distribution|3rd Party Mac Developer Application): (.+?)(?: \([A-Z0-9]{10}\))?$`)

func publisher(obtained string, signedBy []string) string {
	if len(signedBy) > 0 {
		if m := devIDRe.FindStringSubmatch(signedBy[0]); m != nil {
			return m[1]
		}
	}
	switch obtained {
	case "apple":
		return "Apple"
	case "mac_app_store":
		return "Mac App Store"
	}
	return ""
}

// History parses `softwareupdate --history`: a header "Display Name
// Version Date", a dashed rule, then one row per installed update with the
// columns aligned under the header (names hold spaces, so the header's
// column positions split the rows). Dates are "MM/DD/YYYY, HH:MM:SS" in
// the machine's zone loc; an unreadable date leaves InstalledAt nil.
func History(out []byte, loc *time.Location) ([]scandoc.Patch, error) {
	lines := strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	hdr := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "Display Name") {
			hdr = i
			break
		}
	}
	if hdr < 0 {
		if strings.TrimSpace(string(out)) == "" {
			return []scandoc.Patch{}, nil
		}
		return nil, fmt.Errorf("softwareupdate --history: no \"Display Name\" header in %q", firstLine(out))
	}
	h := lines[hdr]
	vcol, dcol := strings.Index(h, "Version"), strings.Index(h, "Date")
	if vcol < 0 || dcol < vcol {
		return nil, fmt.Errorf("softwareupdate --history: header %q lacks Version and Date columns", h)
	}
	patches := []scandoc.Patch{}
	for n, l := range lines[hdr+1:] {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "---") {
			continue
		}
		if len(l) < dcol {
			return nil, fmt.Errorf("softwareupdate --history line %d: shorter than the Date column: %q", hdr+n+2, l)
		}
		name := strings.TrimSpace(l[:vcol])
		ver := strings.TrimSpace(l[vcol:dcol])
		date := strings.TrimSpace(l[dcol:])
		if name == "" {
			return nil, fmt.Errorf("softwareupdate --history line %d: no name: %q", hdr+n+2, l)
		}
		p := scandoc.Patch{ID: name + " " + ver, Title: name, Source: "softwareupdate"}
		for _, layout := range []string{"01/02/2006, 15:04:05", "1/2/2006, 15:04:05", "2006-01-02 15:04:05", "01/02/2006"} {
			if t, err := time.ParseInLocation(layout, date, loc); err == nil {
				t = t.UTC()
				p.InstalledAt = &t
				break
			}
		}
		patches = append(patches, p)
	}
	return patches, nil
}

func firstLine(b []byte) string {
	l, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(l) > 80 {
		l = l[:80] + "..."
	}
	return l
}

// Pending is one update listed by `softwareupdate -l`.
type Pending struct {
	Label       string
	Title       string
	Version     string
	Recommended bool
	Restart     bool // "Action: restart"
}

var keyRe = regexp.MustCompile(`^[A-Z][A-Za-z ]*: `)

// PendingList parses `softwareupdate -l --no-scan` (macOS 10.15 and
// later): "* Label: <label>" followed by a tab-indented line of
// "Key: value, " pairs (Title, Version, Size, Recommended, Action). An
// output without any "* Label:" is no pending update when it says so ("No
// new software available.") or is empty, and an error otherwise.
func PendingList(out []byte) ([]Pending, error) {
	var ps []Pending
	var cur *Pending
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		t := strings.TrimSpace(line)
		if label, ok := strings.CutPrefix(t, "* Label:"); ok {
			ps = append(ps, Pending{Label: strings.TrimSpace(label)})
			cur = &ps[len(ps)-1]
			continue
		}
		if cur == nil || !strings.HasPrefix(t, "Title:") {
			continue
		}
		kv := map[string]string{}
		last := ""
		for _, seg := range strings.Split(strings.TrimSuffix(strings.TrimSpace(t), ","), ", ") {
			if keyRe.MatchString(seg) {
				k, v, _ := strings.Cut(seg, ": ")
				kv[k], last = strings.TrimSpace(v), k
			} else if last != "" {
				kv[last] += ", " + seg // a comma inside a title
			}
		}
		cur.Title, cur.Version = kv["Title"], kv["Version"]
		cur.Recommended = strings.EqualFold(kv["Recommended"], "YES")
		cur.Restart = strings.EqualFold(strings.TrimSuffix(kv["Action"], ","), "restart")
		if cur.Title == "" {
			return nil, fmt.Errorf("softwareupdate -l line %d: no Title: %q", n, line)
		}
		cur = nil
	}
	if len(ps) == 0 {
		s := strings.TrimSpace(string(out))
		if s == "" || strings.Contains(s, "No new software available") || strings.HasPrefix(s, "Software Update Tool") {
			return []Pending{}, nil
		}
		return nil, fmt.Errorf("softwareupdate -l: no update and no \"No new software available\" in %q", firstLine(out))
	}
	for _, p := range ps {
		if p.Title == "" {
			return nil, fmt.Errorf("softwareupdate -l: update %q has no Title line (truncated?)", p.Label)
		}
	}
	return ps, nil
}

var securityTitle = regexp.MustCompile(`(?i)security|xprotect|\bMRT\b|gatekeeper`)

// Updates turns pending entries into scan updates. Apple publishes no
// security flag in softwareupdate's list: an update is reported as a
// security update when Apple recommends it (every security release of
// macOS and Safari is recommended) or its title names a security
// component (Security Response, XProtect, MRT, Gatekeeper); its severity
// is "unknown". Origin notes when installing it needs a restart.
func Updates(ps []Pending) []scandoc.Update {
	out := make([]scandoc.Update, 0, len(ps))
	for _, p := range ps {
		u := scandoc.Update{Name: p.Title, Version: p.Version, Source: "softwareupdate", Origin: "label " + p.Label}
		if p.Restart {
			u.Origin += "; restart required to install"
		}
		if p.Recommended || securityTitle.MatchString(p.Title) || securityTitle.MatchString(p.Label) {
			u.Security, u.Severity = true, "unknown"
		}
		out = append(out, u)
	}
	return out
}

var weekday = map[string]bool{"Mon": true, "Tue": true, "Wed": true, "Thu": true, "Fri": true, "Sat": true, "Sun": true}

// Last parses BSD `last` output (newest first): the first entry of a real
// user on a terminal is the last logon; entries "still logged in" are the
// current sessions. The pseudo-users reboot and shutdown, and the
// trailing "wtmp begins" line, are skipped. `last` prints no year, so the
// year is the one that puts the logon at or before now (in loc).
func Last(out []byte, now time.Time, loc *time.Location) (scandoc.LastUser, error) {
	u := scandoc.LastUser{Current: []scandoc.Session{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "wtmp" || f[0] == "utx.log" {
			continue
		}
		if f[0] == "reboot" || f[0] == "shutdown" {
			continue
		}
		i := 2
		for i < len(f) && !weekday[f[i]] {
			i++
		}
		if len(f) < 3 || i+4 > len(f) {
			return u, fmt.Errorf("last line %d: no date: %q", n, line)
		}
		when, err := lastDate(f[i+1:i+4], now, loc)
		if err != nil {
			return u, fmt.Errorf("last line %d: %w", n, err)
		}
		host := strings.Join(f[2:i], " ")
		if u.Name == "" {
			u.Name, u.Time, u.Terminal, u.Host = f[0], when, f[1], host
		}
		if strings.Contains(line, "still logged in") {
			u.Current = append(u.Current, scandoc.Session{User: f[0], Terminal: f[1], Host: host, Started: when})
		}
	}
	return u, nil
}

func lastDate(f []string, now time.Time, loc *time.Location) (time.Time, error) {
	s := strings.Join(f, " ") // "May 15 09:12"
	t, err := time.ParseInLocation("Jan 2 15:04 2006", s+" "+strconv.Itoa(now.In(loc).Year()), loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: %w", s, err)
	}
	if t.After(now.Add(24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t.UTC(), nil
}
