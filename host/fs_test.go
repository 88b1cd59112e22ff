package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fsFixture makes a tree on the host:
//
//	root/granted.txt            declared readable (a single file)
//	root/secret.txt             not declared, beside it
//	root/tree/a.txt             declared readable (tree)
//	root/tree/escape -> ../secret.txt
//	root/out/                   declared writable in remediate
func fsFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "granted.txt"), []byte("granted"), 0o644))
	must(os.WriteFile(filepath.Join(root, "secret.txt"), []byte("secret"), 0o644))
	must(os.MkdirAll(filepath.Join(root, "tree"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "out"), 0o755))
	must(os.WriteFile(filepath.Join(root, "tree", "a.txt"), []byte("in tree"), 0o644))
	must(os.Symlink("../secret.txt", filepath.Join(root, "tree", "escape")))
	return root
}

func TestFileCapabilities(t *testing.T) {
	root := fsFixture(t)
	e, _ := newTestEngine(t, Limits{})
	body := "[evaluate]\nread = [\"" + root + "/granted.txt\", \"" + root + "/tree/\"]\n" +
		"[remediate]\nread = [\"" + root + "/granted.txt\"]\nwrite = [\"" + root + "/out/\"]\n"
	w := load(t, e, "probe.wasm", "", body)
	cases := []struct {
		name, phase, action, arg string
		status, message          string
	}{
		{"single file", PhaseEvaluate, "read", root + "/granted.txt", StatusCompliant, "granted"},
		{"tree", PhaseEvaluate, "read", root + "/tree/a.txt", StatusCompliant, "in tree"},
		{"undeclared sibling", PhaseEvaluate, "read", root + "/secret.txt", StatusNonCompliant, "Permission denied"},
		{"dotdot escape", PhaseEvaluate, "read", root + "/tree/../secret.txt", StatusNonCompliant, "Permission denied"},
		{"dotdot above root", PhaseEvaluate, "read", "/../../../etc/passwd", StatusNonCompliant, "Operation not permitted"},
		{"symlink escape", PhaseEvaluate, "read", root + "/tree/escape", StatusNonCompliant, "Permission denied"},
		{"host file", PhaseEvaluate, "read", "/etc/passwd", StatusNonCompliant, "Permission denied"},
		{"write in evaluate", PhaseEvaluate, "write", root + "/tree/new.txt", StatusNonCompliant, "Read-only file system"},
		{"write read-only in remediate", PhaseRemediate, "write", root + "/granted.txt", StatusFailed, "Read-only file system"},
		{"write in remediate", PhaseRemediate, "write", root + "/out/new.txt", StatusSucceeded, "written"},
		{"tree not in remediate", PhaseRemediate, "read", root + "/tree/a.txt", StatusFailed, "Permission denied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runProbe(t, e, w, c.phase, c.action, c.arg)
			if r.Status != c.status || !strings.Contains(r.Message, c.message) {
				t.Fatalf("got %s %q, want %s %q", r.Status, r.Message, c.status, c.message)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(root, "out", "new.txt")); err != nil || string(b) != "written by probe\n" {
		t.Errorf("remediate write: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(root, "tree", "new.txt")); err == nil {
		t.Error("evaluate wrote a file")
	}
	// Listing a directory above the grants shows only the way to them.
	r := runProbe(t, e, w, PhaseEvaluate, "ls", root)
	if string(r.Details) != `["granted.txt","tree"]` && string(r.Details) != `["tree","granted.txt"]` {
		t.Errorf("ls %s: %s %s", root, r.Message, r.Details)
	}
	r = runProbe(t, e, w, PhaseEvaluate, "ls", "/")
	if r.Status != StatusCompliant || strings.Contains(string(r.Details), "etc") {
		t.Errorf("ls /: %s %s", r.Message, r.Details)
	}
}

func TestNoFilesWithoutGrants(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "")
	r := runProbe(t, e, w, PhaseEvaluate, "read", "/etc/hostname")
	if r.Status != StatusNonCompliant {
		t.Fatalf("read without grants: %+v", r)
	}
}
