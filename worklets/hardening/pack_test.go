//go:build !wasip1

package hardening

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
	"github.com/amagent/amagent/host/cli"
)

// packDirs are the pack's folders and the other worklets that name a
// ComplianceAsCode rule in their manifest.
func packDirs(t testing.TB) []string {
	t.Helper()
	manifests, err := filepath.Glob("../*/worklet.toml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range manifests {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := host.ParseManifest(b)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if len(mf.References) > 0 {
			out = append(out, filepath.Dir(m))
		}
	}
	return out
}

// The pack has at least 30 rules, each mapped to exactly one
// ComplianceAsCode rule (no two folders to the same one), each with a
// README that names it and cases that pass under `amagent worklet test`
// (which also checks what remediations wrote: expect.files).
func TestPack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every case of every folder; skipped with -short")
	}
	dirs := packDirs(t)
	seen := map[string]string{}
	n := 0
	for _, dir := range dirs {
		b, _ := os.ReadFile(filepath.Join(dir, "worklet.toml"))
		m, _ := host.ParseManifest(b)
		if len(m.References) != 1 || !strings.HasPrefix(m.References[0], "xccdf_org.ssgproject.content_rule_") {
			t.Errorf("%s: references %q: want one ComplianceAsCode rule id", dir, m.References)
			continue
		}
		if other, dup := seen[m.References[0]]; dup {
			t.Errorf("%s and %s map to the same rule %s", dir, other, m.References[0])
		}
		seen[m.References[0]] = dir
		if !strings.HasPrefix(filepath.Base(dir), "hardening-") {
			continue
		}
		n++
		readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
		if err != nil || !bytes.Contains(readme, []byte(m.References[0])) {
			t.Errorf("%s: README.md does not name %s", dir, m.References[0])
		}
		var out, errb bytes.Buffer
		if code := cli.WorkletCommand(t.Context(), []string{"test", dir, "--cache", ""}, &out, &errb); code != 0 {
			t.Errorf("%s: worklet test exit %d:\n%s%s", dir, code, out.String(), errb.String())
		}
	}
	if n < 30 {
		t.Errorf("%d hardening-* folders, want at least 30", n)
	}
	pack, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for rule, dir := range seen {
		if !bytes.Contains(pack, []byte(filepath.Base(dir))) || !bytes.Contains(pack, []byte(strings.TrimPrefix(rule, "xccdf_org.ssgproject.content_rule_"))) {
			t.Errorf("README.md has no line for %s (%s)", filepath.Base(dir), rule)
		}
	}
}
