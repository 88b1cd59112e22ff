//go:build linux

package scan

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A scan with --root reads the tree (os-release through an absolute link,
// dpkg's database, /etc/hostname) and says "not available for --root" for
// what only the running kernel or a program could tell, instead of
// describing this machine.
func TestRootEnvScansTheTree(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/lib/os-release", "ID=treeos\nVERSION_ID=\"7\"\nPRETTY_NAME=\"Tree OS 7\"\n")
	write("etc/hostname", "tree-host\n")
	if err := os.Symlink("/usr/lib/os-release", filepath.Join(dir, "etc/os-release")); err != nil {
		t.Fatal(err)
	}
	write("var/lib/dpkg/status", "Package: telnetd\nStatus: install ok installed\nVersion: 0.17-44\nArchitecture: amd64\n\n")
	env, done, err := RootEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	s := &Scanner{Env: env, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	doc := s.Collect(t.Context())
	if doc.OS.ID != "treeos" || doc.OS.Version != "7" || doc.Hostname != "tree-host" {
		t.Errorf("os %+v hostname %q", doc.OS, doc.Hostname)
	}
	found := false
	for _, p := range doc.Software {
		found = found || p.Name == "telnetd"
	}
	if !found {
		t.Errorf("software %+v: telnetd missing", doc.Software)
	}
	all := ""
	for n, e := range doc.Errors {
		all += n + ": " + e + "\n"
	}
	if !strings.Contains(all, "not available for --root") {
		t.Errorf("errors do not say what --root cannot tell:\n%s", all)
	}
	host, _ := os.Hostname()
	if doc.OS.Kernel != "" || (host != "tree-host" && doc.Hostname == host) {
		t.Errorf("the running machine leaked in: kernel %q hostname %q", doc.OS.Kernel, doc.Hostname)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("fixture")
	}
	if _, _, err := RootEnv(filepath.Join(dir, "nope")); err == nil {
		t.Error("a missing --root accepted")
	}
}
