//go:build wasip1

// Command firewall-active is an amagent worklet: a host firewall must be
// active, through firewalld (`firewall-cmd --state` says running), ufw
// (ENABLED=yes in /etc/ufw/ufw.conf) or an nftables ruleset that filters
// incoming traffic (a chain hooked on input with a drop policy or at least
// one rule). It does not remediate: turning a firewall on from afar can cut
// the device off.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
)

// Details is the result's details: one line per firewall front end.
type Details struct {
	Firewalld string `json:"firewalld"`
	UFW       string `json:"ufw"`
	Nftables  string `json:"nftables"`
}

const notInstalled = "not installed"

func main() {
	// No parameters and evaluate only: the input document (with the whole
	// scan) is not read at all, which saves its parsing on every run.
	if family, err := amagent.FactString("os.family"); err == nil && family != "linux" {
		amagent.NotApplicable("this check is for Linux firewalls, not "+family, nil)
	}
	var d Details
	var active []string

	// firewalld
	res, err := run("firewall-cmd", "--state")
	switch {
	case err != nil:
		d.Firewalld = notInstalled
	case res.ExitCode == 0 && strings.TrimSpace(res.Stdout) == "running":
		d.Firewalld = "running"
		active = append(active, "firewalld is running")
	default:
		d.Firewalld = "not running"
	}

	// ufw
	enabled, err := ufwEnabled("/etc/ufw/ufw.conf")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		d.UFW = notInstalled
	case err != nil:
		amagent.Fatal(err)
	case enabled:
		d.UFW = "enabled"
		active = append(active, "ufw is enabled")
	default:
		d.UFW = "disabled"
	}

	// nftables
	res, err = run("nft", "list", "ruleset")
	switch {
	case err != nil:
		d.Nftables = notInstalled
	case res.ExitCode != 0:
		d.Nftables = "nft failed: " + firstLine(res.Stderr)
	default:
		if why := inputFiltered(res.Stdout); why != "" {
			d.Nftables = why
			active = append(active, "nftables "+why)
		} else if strings.TrimSpace(res.Stdout) == "" {
			d.Nftables = "empty ruleset"
		} else {
			d.Nftables = "no chain filters input"
		}
	}

	if len(active) > 0 {
		amagent.Compliant("firewall active: "+strings.Join(active, "; "), d)
	}
	amagent.NonCompliant(fmt.Sprintf("no active firewall (firewalld: %s; ufw: %s; nftables: %s)", d.Firewalld, d.UFW, d.Nftables), d)
}

// run executes argv; a program that is missing (or absent from a recorded
// scan) is an error, a denial is fatal because the manifest allows it.
func run(argv ...string) (amagent.ExecResult, error) {
	res, err := amagent.Exec(argv, "", 5*time.Second)
	if errors.Is(err, amagent.ErrDenied) || errors.Is(err, amagent.ErrLimit) {
		amagent.Fatal(err)
	}
	return res, err
}

// ufwEnabled reads ENABLED= from ufw.conf.
func ufwEnabled(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	enabled := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "ENABLED="); ok {
			enabled = strings.EqualFold(strings.Trim(v, `"' `), "yes")
		}
	}
	return enabled, sc.Err()
}

// inputFiltered looks for a chain hooked on input that drops by default or
// has rules, in `nft list ruleset` output, and describes the first found.
func inputFiltered(ruleset string) string {
	var table, chain string
	var hooked bool
	var policy string
	rules := 0
	depth := 0
	for _, raw := range strings.Split(ruleset, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case line == "":
		case strings.HasPrefix(line, "table ") && strings.HasSuffix(line, "{"):
			table = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "table "), "{"))
			depth = 1
		case strings.HasPrefix(line, "chain ") && strings.HasSuffix(line, "{") && depth == 1:
			chain = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "chain "), "{"))
			hooked, policy, rules, depth = false, "accept", 0, 2
		case depth == 2 && line == "}":
			if hooked && (policy == "drop" || rules > 0) {
				return fmt.Sprintf("filters input (table %s, chain %s, policy %s, %d rules)", table, chain, policy, rules)
			}
			depth = 1
		case depth == 2 && strings.HasPrefix(line, "type "):
			hooked = strings.Contains(line, " hook input ")
			if i := strings.Index(line, "policy "); i >= 0 {
				policy = strings.TrimSuffix(strings.Fields(line[i+len("policy "):])[0], ";")
			}
		case depth == 2 && strings.HasPrefix(line, "comment "):
		case depth == 2:
			rules++
		case depth == 1 && line == "}":
			depth = 0
		case depth == 1 && strings.HasSuffix(line, "{"):
			depth = 3 // a set, map or flowtable: skip its body
		case depth == 3 && line == "}":
			depth = 1
		}
	}
	return ""
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
