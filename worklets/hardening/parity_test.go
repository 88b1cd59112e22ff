//go:build linux

package hardening

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/amagent/amagent/agent/scan"
	"github.com/amagent/amagent/host"
	"github.com/amagent/amagent/host/cli"
)

// OVALFile is the Debian 11 content of ssg-debian (its definitions
// evaluate on Debian 12 too).
const OVALFile = "/usr/share/xml/scap/ssg/content/ssg-debian11-oval.xml"

// The values the pack's defaults stand for, given to OpenSCAP as the
// content's external variables.
const ovalVariables = `<?xml version="1.0" encoding="UTF-8"?>
<oval_variables xmlns="http://oval.mitre.org/XMLSchema/oval-variables-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5">
  <generator><oval:schema_version>5.11.2</oval:schema_version><oval:timestamp>2026-01-01T00:00:00</oval:timestamp></generator>
  <variables>
    <variable id="oval:ssg-var_accounts_user_umask:var:1" datatype="string" comment="hardening-login-defs-umask umask"><value>027</value></variable>
    <variable id="oval:ssg-var_accounts_maximum_age_login_defs:var:1" datatype="int" comment="password-ageing max_days"><value>365</value></variable>
    <variable id="oval:ssg-sshd_max_auth_tries_value:var:1" datatype="int" comment="hardening-sshd-max-auth-tries"><value>4</value></variable>
    <variable id="oval:ssg-sshd_idle_timeout_value:var:1" datatype="int" comment="hardening-sshd-idle-timeout"><value>300</value></variable>
    <variable id="oval:ssg-sshd_required:var:1" datatype="int" comment="no requirement"><value>0</value></variable>
  </variables>
</oval_variables>
`

// probeFailures are what OpenSCAP prints when a probe cannot work under
// OSCAP_PROBE_ROOT; it then still prints true or false, which describe
// nothing (see README.md, "What OpenSCAP cannot tell of a tree").
var probeFailures = []string{"dpkginfo_init has failed", "offline mode is not supported"}

// tree is one root tree: the base, with one change.
type tree struct {
	name   string
	change func(t *testing.T, dir string)
}

// verdict is one rule's answer in one tree.
type verdict struct {
	oval, pack string // "true"/"false"/"error: ..." and the pack's status
	skip       string // why this cell is not compared
}

// TestParityWithOpenSCAP builds root trees from this machine's account
// files with one change each, evaluates every mapped OVAL definition with
// `OSCAP_PROBE_ROOT=<tree> oscap oval eval --id` and the pack with
// `amagent worklet run --root <tree> --json` (its command, in process),
// prints the table, and fails on any disagreement: OVAL true must be the
// pack's compliant or not applicable, false its non-compliant.
func TestParityWithOpenSCAP(t *testing.T) {
	if os.Getenv("AMAGENT_OSCAP") != "1" {
		t.Skip("set AMAGENT_OSCAP=1 (with openscap-scanner and ssg-debian installed) to compare with OpenSCAP")
	}
	if _, err := exec.LookPath("oscap"); err != nil {
		t.Fatal("AMAGENT_OSCAP=1 but oscap is not installed: apt-get install openscap-scanner ssg-debian")
	}
	if _, err := os.Stat(OVALFile); err != nil {
		t.Fatalf("AMAGENT_OSCAP=1 but %v: apt-get install ssg-debian", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("building trees with other owners needs root")
	}
	dirs := packDirs(t)
	rules := map[string]string{} // worklet name -> rule id (short)
	for _, d := range dirs {
		b, _ := os.ReadFile(filepath.Join(d, "worklet.toml"))
		m, _ := host.ParseManifest(b)
		rules[m.Name] = strings.TrimPrefix(m.References[0], "xccdf_org.ssgproject.content_rule_")
	}
	defs := ovalDefinitions(t)
	work := t.TempDir()
	vars := filepath.Join(work, "variables.xml")
	if err := os.WriteFile(vars, []byte(ovalVariables), 0o644); err != nil {
		t.Fatal(err)
	}
	trees := parityTrees()
	table := map[string]map[string]verdict{} // tree -> worklet -> verdict
	disagree := 0
	for _, tr := range trees {
		dir := filepath.Join(work, tr.name)
		baseTree(t, dir)
		if tr.change != nil {
			tr.change(t, dir)
		}
		pack := runPack(t, dirs, dir, filepath.Join(work, "cache"))
		row := map[string]verdict{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for name, rule := range rules {
			v := verdict{pack: pack[name]}
			def, why := definitionFor(rule, defs)
			if def == "" {
				v.skip = why
				row[name] = v
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				v.oval, v.skip = evalOVAL(t, dir, def, vars)
				mu.Lock()
				row[name] = v
				mu.Unlock()
			}()
		}
		wg.Wait()
		table[tr.name] = row
		for name, v := range row {
			if v.skip == "" && !agrees(v.oval, v.pack) {
				disagree++
				t.Errorf("tree %s, %s (%s): OpenSCAP %s, pack %s", tr.name, name, rules[name], v.oval, v.pack)
			}
		}
	}
	printTable(t, trees, rules, table)
	if disagree == 0 {
		t.Logf("no disagreement over %d trees", len(trees))
	}
}

func agrees(oval, pack string) bool {
	switch oval {
	case "true":
		return pack == host.StatusCompliant || pack == host.StatusNotApplicable
	case "false":
		return pack == host.StatusNonCompliant
	}
	return false
}

// ovalDefinitions are the definition ids in the content.
func ovalDefinitions(t *testing.T) map[string]bool {
	b, err := os.ReadFile(OVALFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`<(?:[a-z-]+:)?definition [^>]*id="(oval:ssg-[a-zA-Z0-9_-]+:def:1)"`).FindAllSubmatch(b, -1) {
		out[string(m[1])] = true
	}
	return out
}

// definitionFor is the OVAL definition that stands for rule in a tree, or
// "" and why none does.
func definitionFor(rule string, defs map[string]bool) (string, string) {
	if strings.HasPrefix(rule, "sysctl_") {
		// The rule's own definition also asks the running kernel, which
		// OpenSCAP's sysctl probe cannot do for a tree (nor can the pack:
		// a tree has no running value), so its persisted half is compared.
		if id := "oval:ssg-" + rule + "_static:def:1"; defs[id] {
			return id, ""
		}
	}
	if id := "oval:ssg-" + rule + ":def:1"; defs[id] {
		return id, ""
	}
	return "", "no OVAL definition in ssg-debian's Debian 11 content"
}

// evalOVAL runs oscap on one definition in the tree: "true"/"false", or
// a reason not to compare.
func evalOVAL(t *testing.T, dir, def, vars string) (string, string) {
	cmd := exec.Command("oscap", "oval", "eval", "--skip-valid", "--variables", vars, "--id", def, OVALFile)
	cmd.Env = append(os.Environ(), "OSCAP_PROBE_ROOT="+dir)
	out, err := cmd.CombinedOutput()
	for _, f := range probeFailures {
		if bytes.Contains(out, []byte(f)) {
			return "", "OpenSCAP: " + f + " under OSCAP_PROBE_ROOT"
		}
	}
	m := regexp.MustCompile(`Definition ` + regexp.QuoteMeta(def) + `: ([a-z ]+)`).FindSubmatch(out)
	if err != nil || m == nil {
		return "", fmt.Sprintf("oscap failed: %v: %.200s", err, out)
	}
	switch r := string(m[1]); r {
	case "true", "false":
		return r, ""
	default:
		return "", "OpenSCAP answers " + r
	}
}

// runPack runs `amagent worklet run DIR... --root tree --json` in process
// and returns each worklet's status by name.
func runPack(t *testing.T, dirs []string, tree, cache string) map[string]string {
	scanTree := func(ctx context.Context, noPending bool, root string) ([]byte, error) {
		env, done, err := scan.RootEnv(root)
		if err != nil {
			return nil, err
		}
		defer done()
		env.SkipPending = true
		s := &scan.Scanner{Env: env, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		return json.Marshal(s.Collect(ctx))
	}
	args := append([]string{"run"}, dirs...)
	args = append(args, "--root", tree, "--json", "--no-pending", "--cache", cache)
	var out, errb bytes.Buffer
	cli.WorkletCommandWith(t.Context(), args, &out, &errb, map[string]cli.Subcommand{"run": cli.RunCommand(scanTree)})
	got := map[string]string{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var l struct {
			Name, Status, Message, Error string
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("worklet run line %q: %v (%s)", sc.Text(), err, errb.String())
		}
		got[l.Name] = l.Status
		if l.Status == host.StatusError {
			t.Logf("%s: error %s", l.Name, l.Error)
		}
	}
	return got
}

func printTable(t *testing.T, trees []tree, rules map[string]string, table map[string]map[string]verdict) {
	names := make([]string, 0, len(rules))
	for n := range rules {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-36s %-28s", "worklet", "tree")
	fmt.Fprintf(&b, " %-7s %-15s %s\n", "oscap", "pack", "")
	skipped := map[string]string{}
	compared := 0
	for _, n := range names {
		for _, tr := range trees {
			v := table[tr.name][n]
			if v.skip != "" {
				skipped[n+" ("+rules[n]+")"] = v.skip
				continue
			}
			compared++
			mark := "agree"
			if !agrees(v.oval, v.pack) {
				mark = "DISAGREE"
			}
			fmt.Fprintf(&b, "%-36s %-28s %-7s %-15s %s\n", n, tr.name, v.oval, v.pack, mark)
		}
	}
	fmt.Fprintf(&b, "\n%d cells compared over %d trees. Not compared:\n", compared, len(trees))
	keys := make([]string, 0, len(skipped))
	for k := range skipped {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", k, skipped[k])
	}
	t.Log(b.String())
}
