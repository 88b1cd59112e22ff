//go:build wasip1

// Command required-software is an amagent policy: every package in the
// parameter packages ("name" or "name>=version") must be installed, at
// least at that version (compared as dpkg does). It reads only the scan's
// software list: no programs, no files.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
	"github.com/amagent/amagent/wasm-modules/go/amagent/scanjson"
	"github.com/amagent/amagent/wasm-modules/go/debver"
)

// Requirement is one parsed entry of the packages parameter.
type Requirement struct {
	Name       string `json:"name"`
	MinVersion string `json:"min_version,omitempty"`
}

// Outdated is an installed package below its minimum version.
type Outdated struct {
	Name      string `json:"name"`
	Installed string `json:"installed"`
	Required  string `json:"required"`
}

// Present is a requirement that is met.
type Present struct {
	Name      string `json:"name"`
	Installed string `json:"installed"`
}

// Details is the policy's details object.
type Details struct {
	Missing  []string   `json:"missing"`
	Outdated []Outdated `json:"outdated"`
	OK       []Present  `json:"ok"`
}

func parseRequirement(s string) (Requirement, error) {
	name, version, hasVersion := strings.Cut(s, ">=")
	r := Requirement{Name: strings.TrimSpace(name), MinVersion: strings.TrimSpace(version)}
	if r.Name == "" || strings.ContainsAny(r.Name, " \t<>=") {
		return r, fmt.Errorf("param packages: %q is not \"name\" or \"name>=version\"", s)
	}
	if hasVersion {
		if _, err := debver.Parse(r.MinVersion); err != nil {
			return r, fmt.Errorf("param packages: %q: %w", s, err)
		}
	}
	return r, nil
}

func main() {
	doc, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	list, err := doc.ParamList("packages", nil)
	if err != nil {
		amagent.Fatal(err)
	}
	if len(list) == 0 {
		amagent.Fatal(errors.New("param packages: empty; list the required packages as \"name\" or \"name>=version\""))
	}
	var reqs []Requirement
	for _, s := range list {
		r, err := parseRequirement(s)
		if err != nil {
			amagent.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	if why, err := amagent.FactString("errors.GetInstalledSoftware"); err == nil {
		amagent.NotApplicable("cannot decide: the scan could not list installed software ("+why+")", nil)
	}
	if _, err := amagent.FactAt("software", 0, ""); errors.Is(err, amagent.ErrNotFound) {
		amagent.NotApplicable("cannot decide: the scan has no software inventory", nil)
	} else if err != nil {
		amagent.Fatal(err)
	}
	// The highest installed version of each required name (multi-arch, or
	// one package from several sources). Only the names cross into the
	// module, one package at a time; the version only for a match.
	best := map[string]string{}
	var ferr error
	err = amagent.EachElement("software", "name", func(i int, raw json.RawMessage) bool {
		if len(raw) == 0 {
			return true
		}
		name := ""
		for _, r := range reqs {
			if scanjson.Equal(raw, r.Name) {
				name = r.Name
				break
			}
		}
		if name == "" {
			return true
		}
		var version string
		if raw, err := amagent.FactAt("software", i, "version"); err == nil {
			version, _ = scanjson.Unquote(raw)
		} else if !errors.Is(err, amagent.ErrNotFound) {
			ferr = err
			return false
		}
		if cur, ok := best[name]; ok {
			if c, err := debver.CompareStrings(version, cur); err != nil || c <= 0 {
				return true
			}
		}
		best[name] = version
		return true
	})
	if err = errors.Join(err, ferr); err != nil {
		amagent.Fatal(err)
	}
	d := Details{Missing: []string{}, Outdated: []Outdated{}, OK: []Present{}}
	var problems []string
	for _, r := range reqs {
		v, ok := best[r.Name]
		switch {
		case !ok:
			d.Missing = append(d.Missing, r.Name)
			problems = append(problems, r.Name+" is not installed")
		case r.MinVersion == "":
			d.OK = append(d.OK, Present{Name: r.Name, Installed: v})
		default:
			c, err := debver.CompareStrings(v, r.MinVersion)
			if err != nil {
				amagent.Fatal(fmt.Errorf("installed %s version %q: %w", r.Name, v, err))
			}
			if c < 0 {
				d.Outdated = append(d.Outdated, Outdated{Name: r.Name, Installed: v, Required: r.MinVersion})
				problems = append(problems, fmt.Sprintf("%s %s is older than %s", r.Name, v, r.MinVersion))
				continue
			}
			d.OK = append(d.OK, Present{Name: r.Name, Installed: v})
		}
	}
	if len(problems) > 0 {
		amagent.NonCompliant(fmt.Sprintf("%d of %d required packages missing or outdated: %s", len(problems), len(reqs), strings.Join(problems, "; ")), d)
	}
	amagent.Compliant(fmt.Sprintf("all %d required packages installed at the required versions", len(reqs)), d)
}
