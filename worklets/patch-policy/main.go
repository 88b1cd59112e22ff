//go:build wasip1

// Command patch-policy is an amagent policy: from the pending updates in
// the device's scan it decides which updates to install, by rule (all,
// security, only named, all except named, minimum severity) and optionally
// only those an admin approved. Its details carry the decision
// {"install": [...], "pending": n, ...}; the agent installs the "install"
// list through the package manager (InstallUpdate) and scans again. It runs
// no programs and reads no files: it only reads its input document.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
	"github.com/amagent/amagent/wasm-modules/go/amagent/scanjson"
)

// update is one entry of the scan's pending_updates: the fields every
// rule may look at (its version and source are read for the chosen ones).
type update struct {
	Index    int // in pending_updates
	Name     string
	Security bool
	Severity string
}

// pendingUpdates reads the scan's pending updates one field at a time
// from the host: cheaper in a wasm module than copying the whole list in
// and parsing it there.
func pendingUpdates() ([]update, error) {
	var ups []update
	err := amagent.EachElement("pending_updates", "name", func(i int, raw json.RawMessage) bool {
		ups = append(ups, update{Index: i, Name: jsonString(raw)})
		return true
	})
	// The other fields, each list walked once more, up to the updates seen.
	set := map[string]func(u *update, raw json.RawMessage){
		"security": func(u *update, raw json.RawMessage) { u.Security = string(raw) == "true" },
		"severity": func(u *update, raw json.RawMessage) { u.Severity = jsonString(raw) },
	}
	for name, f := range set {
		if err != nil || len(ups) == 0 {
			break
		}
		err = amagent.EachElement("pending_updates", name, func(i int, raw json.RawMessage) bool {
			f(&ups[i], raw)
			return i+1 < len(ups)
		})
	}
	return ups, err
}

// field is pending_updates.i.name as a string ("" when absent or not a
// string).
func field(i int, name string) string {
	raw, err := amagent.FactAt("pending_updates", i, name)
	if err != nil {
		return ""
	}
	return jsonString(raw)
}

func jsonString(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	s, _ := scanjson.Unquote(raw)
	return s
}

// Chosen describes one update in the decision.
type Chosen struct {
	Name     string `json:"name"`
	Version  string `json:"version"`
	Source   string `json:"source"`
	Severity string `json:"severity"`
	Security bool   `json:"security"`
}

// Decision is the policy's details object; Install and Pending are what
// the agent reads (agent/worklets.PatchDecision).
type Decision struct {
	Install          []string `json:"install"`
	Pending          int      `json:"pending"`
	Mode             string   `json:"mode"`
	Selected         []Chosen `json:"selected"`
	AwaitingApproval []string `json:"awaiting_approval"`
}

var severityRank = map[string]int{"low": 1, "moderate": 2, "important": 3, "critical": 4}

// severityOf ranks an update; without a known severity a security update
// counts as important and any other as low.
func severityOf(u update) (string, int) {
	s := strings.ToLower(u.Severity)
	if r, ok := severityRank[s]; ok {
		return s, r
	}
	if u.Security {
		return "important", severityRank["important"]
	}
	return "low", severityRank["low"]
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, name); ok && err == nil {
			return true
		}
	}
	return false
}

// approved reports whether name at version is in the approval list, whose
// entries are "name" (any version) or "name=version".
func approved(list []string, u update) bool {
	for _, a := range list {
		name, version, pinned := strings.Cut(a, "=")
		if ok, _ := path.Match(strings.TrimSpace(name), u.Name); ok && (!pinned || strings.TrimSpace(version) == field(u.Index, "version")) {
			return true
		}
	}
	return false
}

func main() {
	doc, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	mode, err := doc.ParamString("mode", "security")
	if err != nil {
		amagent.Fatal(err)
	}
	names, err := doc.ParamList("names", nil)
	if err != nil {
		amagent.Fatal(err)
	}
	minSev, err := doc.ParamString("min_severity", "important")
	if err != nil {
		amagent.Fatal(err)
	}
	manual, err := doc.ParamBool("manual_approval", false)
	if err != nil {
		amagent.Fatal(err)
	}
	approval, err := doc.ParamList("approval", nil)
	if err != nil {
		amagent.Fatal(err)
	}
	minRank, ok := severityRank[strings.ToLower(minSev)]
	if !ok {
		amagent.Fatal(fmt.Errorf("param min_severity: %q is not one of critical, important, moderate, low", minSev))
	}
	for _, p := range append(append([]string{}, names...), approval...) {
		if _, err := path.Match(p, ""); err != nil {
			amagent.Fatal(fmt.Errorf("param names/approval: bad pattern %q", p))
		}
	}
	switch mode {
	case "all", "security", "severity":
	case "only", "except":
		if len(names) == 0 {
			amagent.Fatal(fmt.Errorf("param names: mode %q needs a list of package names", mode))
		}
	default:
		amagent.Fatal(fmt.Errorf("param mode: %q is not one of all, security, only, except, severity", mode))
	}

	if why, err := amagent.FactString("errors.GetPatches"); err == nil {
		amagent.NotApplicable("cannot decide: the scan could not list pending updates ("+why+")", nil)
	}
	raw, err := amagent.Fact("pending_updates")
	if errors.Is(err, amagent.ErrNotFound) || err == nil && strings.TrimSpace(string(raw)) == "null" {
		amagent.NotApplicable("cannot decide: the scan has no pending-update information", nil)
	}
	pending, err := pendingUpdates()
	if err != nil {
		amagent.Fatal(err)
	}

	d := Decision{Pending: len(pending), Mode: mode, Install: []string{}, Selected: []Chosen{}, AwaitingApproval: []string{}}
	install := map[string]bool{}
	waiting := map[string]bool{}
	for _, u := range pending {
		sev, rank := severityOf(u)
		var take bool
		switch mode {
		case "all":
			take = true
		case "security":
			take = u.Security
		case "only":
			take = matchAny(names, u.Name)
		case "except":
			take = !matchAny(names, u.Name)
		case "severity":
			take = rank >= minRank
		}
		if !take || u.Name == "" {
			continue
		}
		if manual && !approved(approval, u) {
			waiting[u.Name] = true
			continue
		}
		install[u.Name] = true
		d.Selected = append(d.Selected, Chosen{Name: u.Name, Version: field(u.Index, "version"), Source: field(u.Index, "source"), Severity: sev, Security: u.Security})
	}
	for n := range install {
		d.Install = append(d.Install, n)
	}
	for n := range waiting {
		if !install[n] {
			d.AwaitingApproval = append(d.AwaitingApproval, n)
		}
	}
	slices.Sort(d.Install)
	slices.Sort(d.AwaitingApproval)
	// (sort.Slice would swap through reflection: slow in a wasm module.)
	slices.SortFunc(d.Selected, func(a, b Chosen) int { return strings.Compare(a.Name, b.Name) })

	rule := describeRule(mode, names, minSev, manual)
	note := ""
	if len(d.AwaitingApproval) > 0 {
		note = fmt.Sprintf("; %d await approval (%s)", len(d.AwaitingApproval), short(d.AwaitingApproval))
	}
	if len(d.Install) > 0 {
		amagent.NonCompliant(fmt.Sprintf("%d of %d pending updates to install under %s: %s%s", len(d.Install), len(pending), rule, short(d.Install), note), d)
	}
	amagent.Compliant(fmt.Sprintf("nothing to install under %s (%d pending)%s", rule, len(pending), note), d)
}

func describeRule(mode string, names []string, minSev string, manual bool) string {
	var s string
	switch mode {
	case "all":
		s = "rule all"
	case "security":
		s = "rule security"
	case "only":
		s = "rule only " + strings.Join(names, ",")
	case "except":
		s = "rule all except " + strings.Join(names, ",")
	case "severity":
		s = "rule severity >= " + strings.ToLower(minSev)
	}
	if manual {
		s += " with manual approval"
	}
	return s
}

// short lists up to ten names for a message.
func short(names []string) string {
	if len(names) <= 10 {
		return strings.Join(names, ", ")
	}
	return strings.Join(slices.Clip(names[:10]), ", ") + fmt.Sprintf(" and %d more", len(names)-10)
}
