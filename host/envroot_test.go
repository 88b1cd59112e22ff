package host

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// LiveEnvRoot: the guest's "/" is the tree, absolute links resolve in it,
// the path fact names owners from the tree's own passwd and group, and
// exec is -4 with the reason in the log.
func TestLiveEnvRoot(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "etc"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "usr/share/zoneinfo"), 0o755))
	uid, gid := os.Getuid(), os.Getgid()
	must(os.WriteFile(filepath.Join(dir, "etc/passwd"), []byte("treeuser:x:"+itoa(uid)+":"+itoa(gid)+"::/:/bin/sh\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "etc/group"), []byte("treegroup:x:"+itoa(gid)+":\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "usr/share/zoneinfo/UTC"), []byte("tree zone"), 0o600))
	must(os.Symlink("/usr/share/zoneinfo/UTC", filepath.Join(dir, "etc/localtime")))
	must(os.Symlink("/etc/passwd", filepath.Join(dir, "etc/abs-passwd")))

	e, logs := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", `[evaluate]
read = ["/etc/localtime", "/etc/passwd", "/etc/abs-passwd", "/usr/share/zoneinfo/UTC"]
exec = [["true"]]
`)
	run := func(action, arg string) Result {
		env, err := LiveEnvRoot(scanOf(t, probeScan(action, arg)), dir)
		if err != nil {
			t.Fatal(err)
		}
		return e.Run(t.Context(), w, PhaseEvaluate, nil, env)
	}
	if r := run("read", "/etc/localtime"); r.Status != StatusCompliant || r.Message != "tree zone" {
		t.Errorf("read /etc/localtime: %s %q %s", r.Status, r.Message, r.Error)
	}
	if r := run("read", "/etc/abs-passwd"); r.Status != StatusCompliant || !strings.HasPrefix(r.Message, "treeuser:") {
		t.Errorf("read /etc/abs-passwd: %s %q", r.Status, r.Message)
	}
	r := run("fact", "/usr/share/zoneinfo/UTC")
	var ps PathStat
	if b, _ := json.Marshal(r.Details); json.Unmarshal(b, &ps) != nil || ps.User != "treeuser" || ps.Group != "treegroup" || ps.Mode != "0600" {
		t.Errorf("path fact: %s %v (%s)", r.Status, r.Details, r.Error)
	}
	if r := run("exec", `{"argv": ["true"]}`); r.Status != StatusNonCompliant || r.Message != "exec -4" || !strings.Contains(logs.String(), "not available with --root") {
		t.Errorf("exec: %s %q; log %s", r.Status, r.Message, logs.String())
	}
	if _, err := LiveEnvRoot(scanOf(t, "{}"), filepath.Join(dir, "etc/passwd")); err == nil {
		t.Error("a file accepted as --root")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
