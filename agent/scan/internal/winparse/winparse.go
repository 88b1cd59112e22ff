// Package winparse holds the pure parts of the Windows collectors: turning
// registry values and the JSON that PowerShell prints (Get-HotFix, the
// Windows Update Agent search) into scan document values. It has no build
// tag and touches no machine, so it is tested on Linux with recorded
// outputs in testdata/; the registry reading itself is in
// agent/scan/collect_windows.go.
package winparse

import (
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

// CurrentVersion holds the values of
// HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion that the OS collector
// reads (empty when absent).
type CurrentVersion struct {
	ProductName    string `json:"ProductName"`
	DisplayVersion string `json:"DisplayVersion"` // "23H2"; absent before 20H2
	ReleaseID      string `json:"ReleaseId"`      // "2009", "1909"; the older name
	CurrentBuild   string `json:"CurrentBuild"`   // "22631"
	UBR            uint64 `json:"UBR"`            // update build revision, 3527
	Major          uint64 `json:"CurrentMajorVersionNumber"`
	Minor          uint64 `json:"CurrentMinorVersionNumber"`
	CurrentVersion string `json:"CurrentVersion"` // "6.3" on every Windows 10/11, "6.1" on 7
	EditionID      string `json:"EditionID"`
	InstallType    string `json:"InstallationType"` // Client, Server, Server Core
}

// OS builds the OS part. ProductName still says "Windows 10" on Windows 11
// (Microsoft never changed the value), so a client build of 22000 or later
// is named Windows 11. arch is the PROCESSOR_ARCHITECTURE value
// (AMD64, ARM64, x86).
func OS(cv CurrentVersion, arch string) (scandoc.OS, error) {
	if cv.ProductName == "" || cv.CurrentBuild == "" {
		return scandoc.OS{}, errors.New("registry CurrentVersion: ProductName or CurrentBuild missing")
	}
	build, err := strconv.Atoi(cv.CurrentBuild)
	if err != nil {
		return scandoc.OS{}, fmt.Errorf("registry CurrentVersion: CurrentBuild %q is not a number", cv.CurrentBuild)
	}
	name := cv.ProductName
	if build >= 22000 && !strings.Contains(name, "Server") && strings.HasPrefix(name, "Windows 10") {
		name = "Windows 11" + strings.TrimPrefix(name, "Windows 10")
	}
	ver := cv.CurrentVersion
	if cv.Major > 0 {
		ver = fmt.Sprintf("%d.%d", cv.Major, cv.Minor)
	}
	ver += "." + cv.CurrentBuild
	full := cv.CurrentBuild
	if cv.UBR > 0 {
		full += "." + strconv.FormatUint(cv.UBR, 10)
	}
	dv := cv.DisplayVersion
	if dv == "" {
		dv = cv.ReleaseID
	}
	pretty := name
	if dv != "" {
		pretty += " " + dv
	}
	return scandoc.OS{
		Family:       "windows",
		Name:         name,
		ID:           "windows",
		Version:      ver,
		VersionName:  dv,
		Build:        full,
		Kernel:       ver + "." + strconv.FormatUint(cv.UBR, 10),
		Architecture: Arch(arch),
		PrettyName:   pretty + " (build " + full + ")",
	}, nil
}

// Arch maps PROCESSOR_ARCHITECTURE to Go's names.
func Arch(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "AMD64":
		return "amd64"
	case "ARM64":
		return "arm64"
	case "X86":
		return "386"
	case "":
		return ""
	}
	return strings.ToLower(s)
}

// UninstallEntry is one subkey of an Uninstall key, as the collector reads
// it from the registry.
type UninstallEntry struct {
	Key              string `json:"key"`  // subkey name: a product code or a name
	Hive             string `json:"hive"` // "HKLM64", "HKLM32", or "HKU\<SID>"
	DisplayName      string `json:"DisplayName"`
	DisplayVersion   string `json:"DisplayVersion"`
	Publisher        string `json:"Publisher"`
	InstallDate      string `json:"InstallDate"` // YYYYMMDD, as MSI writes it
	SystemComponent  uint64 `json:"SystemComponent"`
	WindowsInstaller uint64 `json:"WindowsInstaller"`
	ParentKeyName    string `json:"ParentKeyName"`
	ReleaseType      string `json:"ReleaseType"`
}

// updateReleaseTypes are ReleaseType values that mark an installed update
// of another product, not a product.
var updateReleaseTypes = map[string]bool{"security update": true, "update": true, "hotfix": true, "update rollup": true, "service pack": true}

// Software turns Uninstall entries into the software inventory the way
// "Apps & features" lists programs: entries without a DisplayName, system
// components, and updates of other products (ParentKeyName, ReleaseType)
// are left out; the same product seen in more than one hive is listed once.
// Source is "msi" for Windows Installer products, "registry" otherwise.
// An InstallDate that is not YYYYMMDD is ignored, not an error.
func Software(entries []UninstallEntry) []scandoc.Package {
	seen := map[string]bool{}
	var out []scandoc.Package
	for _, e := range entries {
		name := strings.TrimSpace(e.DisplayName)
		if name == "" || e.SystemComponent == 1 || e.ParentKeyName != "" || updateReleaseTypes[strings.ToLower(e.ReleaseType)] {
			continue
		}
		p := scandoc.Package{Name: name, Version: strings.TrimSpace(e.DisplayVersion), Publisher: strings.TrimSpace(e.Publisher), Source: "registry"}
		if e.WindowsInstaller == 1 {
			p.Source = "msi"
		}
		switch {
		case e.Hive == "HKLM32":
			p.Architecture = "x86"
		case e.Hive == "HKLM64":
			p.Architecture = "x64"
		}
		if t, err := time.Parse("20060102", strings.TrimSpace(e.InstallDate)); err == nil {
			p.InstalledAt = &t
		}
		k := p.Name + "\x00" + p.Version + "\x00" + p.Architecture
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, p)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		if out[i].Version != out[j].Version {
			return out[i].Version < out[j].Version
		}
		return out[i].Architecture < out[j].Architecture
	})
	return out
}

// jsonList decodes PowerShell's ConvertTo-Json output, which is an array,
// a single object when there was one item (Windows PowerShell 5.1 without
// -AsArray), or nothing at all when there were none.
func jsonList(b []byte, what string) ([]json.RawMessage, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) == 0 || string(b) == "null" {
		return nil, nil
	}
	var list []json.RawMessage
	switch b[0] {
	case '[':
		if err := json.Unmarshal(b, &list); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
	case '{':
		if !json.Valid(b) {
			return nil, fmt.Errorf("%s: invalid JSON object (truncated?)", what)
		}
		list = []json.RawMessage{b}
	default:
		return nil, fmt.Errorf("%s: not JSON (starts with %q)", what, string(b[:min(len(b), 20)]))
	}
	return list, nil
}

var msDate = regexp.MustCompile(`^/Date\((-?\d+)([+-]\d{4})?\)/$`)

// psDate reads a date as PowerShell serialises one: "/Date(ms)/" (5.1), an
// object {"value": "/Date(ms)/", "DateTime": "..."} (5.1, a DateTime with
// extended properties), an ISO 8601 string (7.x), or a plain date string.
// It returns nil when there is no date; an unreadable one is an error.
func psDate(raw json.RawMessage) (*time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return nil, nil
	}
	if raw[0] == '{' {
		var o struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, err
		}
		return psDate(o.Value)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("date %s is not a string", raw)
	}
	s = strings.TrimSpace(s)
	if m := msDate.FindStringSubmatch(s); m != nil {
		ms, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("date %q: %w", s, err)
		}
		t := time.UnixMilli(ms).UTC()
		return &t, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04:05", "2006-01-02", "1/2/2006 3:04:05 PM", "1/2/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("date %q: unknown format", s)
}

// HotFixScript prints the installed updates as a JSON array. It projects
// the fields the parser reads so that the output has the same shape in
// Windows PowerShell 5.1 and PowerShell 7.
const HotFixScript = `[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; ` +
	`$ErrorActionPreference = 'Stop'; ` +
	`ConvertTo-Json -Compress -InputObject @(Get-HotFix | Select-Object HotFixID, Description, InstalledBy, InstalledOn)`

// HotFixes parses `Get-HotFix | ConvertTo-Json` output (HotFixScript's or
// the plain cmdlet's). Entries without a HotFixID are an error; a missing
// or empty InstalledOn (Windows leaves some empty) leaves InstalledAt nil.
func HotFixes(b []byte) ([]scandoc.Patch, error) {
	list, err := jsonList(b, "Get-HotFix JSON")
	if err != nil {
		return nil, err
	}
	out := make([]scandoc.Patch, 0, len(list))
	for i, raw := range list {
		var h struct {
			HotFixID    string          `json:"HotFixID"`
			Description string          `json:"Description"`
			InstalledOn json.RawMessage `json:"InstalledOn"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			return nil, fmt.Errorf("Get-HotFix JSON item %d: %w", i, err)
		}
		if strings.TrimSpace(h.HotFixID) == "" {
			return nil, fmt.Errorf("Get-HotFix JSON item %d: no HotFixID", i)
		}
		t, err := psDate(h.InstalledOn)
		if err != nil {
			return nil, fmt.Errorf("Get-HotFix %s: InstalledOn: %w", h.HotFixID, err)
		}
		out = append(out, scandoc.Patch{ID: strings.TrimSpace(h.HotFixID), Title: h.Description, InstalledAt: t, Source: "hotfix"})
	}
	return out, nil
}

// UpdateSearchScript asks the Windows Update Agent (through its COM API)
// for applicable updates that are neither installed nor hidden, and prints
// them as a JSON array. The searcher is set offline: it answers from the
// result of the last detection that Windows ran itself, like dnf -C and
// apt without an update, so a scan never starts a download from Windows
// Update or WSUS.
const UpdateSearchScript = `[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; ` +
	`$ErrorActionPreference = 'Stop'; ` +
	`$s = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher(); ` +
	`$s.Online = $false; ` +
	`$r = $s.Search('IsInstalled=0 and IsHidden=0'); ` +
	`ConvertTo-Json -Compress -Depth 4 -InputObject @($r.Updates | ForEach-Object { [pscustomobject]@{ ` +
	`Title = $_.Title; UpdateID = $_.Identity.UpdateID; RevisionNumber = $_.Identity.RevisionNumber; ` +
	`KBArticleIDs = @($_.KBArticleIDs); MsrcSeverity = $_.MsrcSeverity; ` +
	`Categories = @($_.Categories | ForEach-Object { $_.Name }); ` +
	`RebootRequired = $_.RebootRequired; IsDownloaded = $_.IsDownloaded } })`

// Updates parses UpdateSearchScript's output. An update is a security
// update when Microsoft gave it an MSRC severity or filed it under
// "Security Updates"; its KB is the first KB article id. Windows updates
// carry no version, so Version holds the update's revision number.
func Updates(b []byte) ([]scandoc.Update, error) {
	list, err := jsonList(b, "update search JSON")
	if err != nil {
		return nil, err
	}
	out := make([]scandoc.Update, 0, len(list))
	for i, raw := range list {
		var u struct {
			Title          string          `json:"Title"`
			UpdateID       string          `json:"UpdateID"`
			RevisionNumber json.Number     `json:"RevisionNumber"`
			KBArticleIDs   json.RawMessage `json:"KBArticleIDs"`
			MsrcSeverity   *string         `json:"MsrcSeverity"`
			Categories     json.RawMessage `json:"Categories"`
		}
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, fmt.Errorf("update search JSON item %d: %w", i, err)
		}
		if strings.TrimSpace(u.Title) == "" {
			return nil, fmt.Errorf("update search JSON item %d: no Title", i)
		}
		kbs, err := stringList(u.KBArticleIDs)
		if err != nil {
			return nil, fmt.Errorf("update %q: KBArticleIDs: %w", u.Title, err)
		}
		cats, err := stringList(u.Categories)
		if err != nil {
			return nil, fmt.Errorf("update %q: Categories: %w", u.Title, err)
		}
		up := scandoc.Update{Name: u.Title, Version: u.RevisionNumber.String(), Source: "windowsupdate", Origin: strings.Join(cats, ", ")}
		if len(kbs) > 0 {
			up.KB = "KB" + strings.TrimPrefix(strings.ToUpper(kbs[0]), "KB")
		}
		sev := ""
		if u.MsrcSeverity != nil {
			sev = strings.ToLower(strings.TrimSpace(*u.MsrcSeverity))
		}
		for _, c := range cats {
			if strings.EqualFold(c, "Security Updates") {
				up.Security = true
			}
		}
		if sev != "" {
			up.Security = true
		}
		if up.Security {
			switch sev {
			case "critical", "important", "moderate", "low":
				up.Severity = sev
			default:
				up.Severity = "unknown"
			}
		}
		out = append(out, up)
	}
	return out, nil
}

// stringList reads a JSON array of strings or numbers, a single string
// (PowerShell unrolls one-element arrays in some versions) or null.
func stringList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
	} else {
		items = []json.RawMessage{raw}
	}
	var out []string
	for _, it := range items {
		var s string
		if err := json.Unmarshal(it, &s); err == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(it, &n); err != nil {
			return nil, fmt.Errorf("%s is neither a string nor a number", it)
		}
		out = append(out, n.String())
	}
	return out, nil
}

// RebootState is what the registry says about a pending reboot.
type RebootState struct {
	WindowsUpdate  bool     // ...\WindowsUpdate\Auto Update\RebootRequired exists
	CBS            bool     // ...\Component Based Servicing\RebootPending exists
	PendingRenames []string // Session Manager\PendingFileRenameOperations
}

// Reboot turns the registry evidence into the Reboot part, naming each
// rule that fired.
func Reboot(s RebootState) scandoc.Reboot {
	r := scandoc.Reboot{Reasons: []string{}}
	if s.WindowsUpdate {
		r.Reasons = append(r.Reasons, `registry: WindowsUpdate\Auto Update\RebootRequired exists`)
	}
	if s.CBS {
		r.Reasons = append(r.Reasons, `registry: Component Based Servicing\RebootPending exists`)
	}
	n := 0
	for _, p := range s.PendingRenames {
		if strings.TrimSpace(p) != "" {
			n++
		}
	}
	if n > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf(`registry: Session Manager\PendingFileRenameOperations lists %d path(s)`, n))
	}
	r.Required = len(r.Reasons) > 0
	return r
}

// LastLoggedOnUser splits LogonUI's LastLoggedOnUser ("DOMAIN\user",
// ".\user" for a local account, or "user@domain") into the name reported.
func LastLoggedOnUser(s string) string {
	s = strings.TrimSpace(s)
	if d, u, ok := strings.Cut(s, `\`); ok && (d == "." || d == "") {
		return u
	}
	return s
}

// Virtual names the hypervisor from the BIOS key's SystemManufacturer and
// SystemProductName, "" for physical machines and unknown ones.
func Virtual(manufacturer, product string) string {
	m, p := strings.ToLower(manufacturer), strings.ToLower(product)
	switch {
	case strings.Contains(m, "amazon ec2"):
		return "aws"
	case m == "microsoft corporation" && p == "virtual machine":
		return "hyperv"
	case strings.Contains(m, "vmware") || strings.HasPrefix(p, "vmware"):
		return "vmware"
	case strings.Contains(m, "xen") || strings.Contains(p, "hvm domu"):
		return "xen"
	case strings.Contains(m, "qemu") || strings.Contains(p, "kvm") || strings.Contains(p, "standard pc"):
		return "kvm"
	case strings.Contains(p, "virtualbox") || strings.Contains(m, "innotek"):
		return "virtualbox"
	case m == "google" || strings.Contains(p, "google compute engine"):
		return "gce"
	case strings.Contains(m, "parallels"):
		return "parallels"
	}
	return ""
}
