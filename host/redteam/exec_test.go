package redteam

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
)

// shippedCaps is the [evaluate] and [remediate] part of a shipped worklet's
// manifest (everything from the first section on), so that an attack runs
// against exactly what ships.
func shippedCaps(t *testing.T, worklet string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "worklets", worklet, host.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n[evaluate]")
	if i < 0 {
		t.Fatalf("%s: no [evaluate] section", worklet)
	}
	return s[i+1:]
}

// execTry runs the exec-argv module with argv and returns the exec call's
// return code (from the message "rc=N") and the result.
func execTry(t *testing.T, e *host.Engine, dir, phase string, argv []string) (string, host.Result) {
	t.Helper()
	args := make([]any, len(argv))
	for i, a := range argv {
		args[i] = a
	}
	res := runLive(t, e, dir, phase, map[string]any{"argv": args})
	rc, ok := strings.CutPrefix(res.Message, "rc=")
	if !ok {
		t.Fatalf("%q: unexpected result %+v", argv, res)
	}
	return rc, res
}

const argvParam = "\n[params.argv]\ntype = \"list\"\ndefault = []\n"

func TestExecArgvIsMatchedWhole(t *testing.T) {
	// Failed before the fix: prefixes let find -exec run a shell, chmod --reference= set mode 4777, and find -delete remove files.
	e, logs := engine(t, host.Limits{})
	tmp := t.TempDir()
	proof := filepath.Join(tmp, "F")         // a shell would create it
	victim := filepath.Join(tmp, "victim")   // world-writable: -delete would remove it
	ref := filepath.Join(tmp, "reference")   // mode 4777
	target := filepath.Join(tmp, "target")   // mode 0644
	fprintf := filepath.Join(tmp, "fprintf") // -fprintf would write it
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{{victim, 0o666}, {ref, 0o4777}, {target, 0o644}} {
		if err := os.WriteFile(f.path, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f.path, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	// The shipped no-world-writable manifest, plus the test's directory
	// as a tree it may search and fix (so that the attacks aim at files
	// of this test rather than /etc).
	caps := shippedCaps(t, "no-world-writable")
	caps = strings.Replace(caps, "[evaluate]\nexec = [\n", "[evaluate]\nread = [\""+tmp+"/\"]\nexec = [\n  [\"find\", \"{path}\", \"-xdev\", \"-type\", \"f\", \"-perm\", \"-0002\", \"-print\"],\n", 1)
	caps = strings.Replace(caps, `read = ["/etc/",`, `read = ["`+tmp+`/", "/etc/",`, 1)
	nww := worklet(t, "exec-argv", caps+argvParam)
	auditd := worklet(t, "exec-argv", shippedCaps(t, "auditd-running")+argvParam)

	denied := []struct {
		dir, phase string
		argv       []string
	}{
		{nww, host.PhaseEvaluate, []string{"find", "/etc", "-xdev", "-type", "f", "-perm", "-0002", "-o", "-name", "hostname", "-exec", "sh", "-c", "id > " + proof, ";"}},
		{nww, host.PhaseEvaluate, []string{"find", tmp, "-xdev", "-type", "f", "-perm", "-0002", "-o", "-exec", "sh", "-c", "id > " + proof, ";"}},
		{nww, host.PhaseEvaluate, []string{"find", tmp, "-xdev", "-type", "f", "-perm", "-0002", "-delete"}},
		{nww, host.PhaseEvaluate, []string{"find", tmp, "-delete"}},
		{nww, host.PhaseEvaluate, []string{"find", tmp, "-xdev", "-type", "f", "-perm", "-0002", "-fprintf", fprintf, "%p"}},
		{nww, host.PhaseEvaluate, []string{"find", tmp, "-fprintf", fprintf, "%p"}},
		{nww, host.PhaseEvaluate, []string{"chmod", "o-w", target}}, // remediate only
		{nww, host.PhaseRemediate, []string{"chmod", "o-w", "--reference=" + ref, target}},
		{nww, host.PhaseRemediate, []string{"chmod", "--reference=" + ref, target}},
		{nww, host.PhaseRemediate, []string{"chmod", "o-w", target, "--reference=" + ref}},
		{nww, host.PhaseRemediate, []string{"chmod", "o-w", "/root/.bashrc"}},
		{auditd, host.PhaseRemediate, []string{"systemctl", "enable", "--now", "auditd", "debug-shell.service"}},
		{auditd, host.PhaseEvaluate, []string{"systemctl", "is-active", "auditd", "--host=evil"}},
	}
	for _, c := range denied {
		rc, res := execTry(t, e, c.dir, c.phase, c.argv)
		if rc != "-2" {
			t.Errorf("%s %q: exec returned %s, want -2 (denied); details %s", c.phase, c.argv, rc, res.Details)
			continue
		}
		b, _ := json.Marshal(c.argv)
		if want := "exec " + string(b); len(res.Denied) != 1 || res.Denied[0] != want {
			t.Errorf("%s %q: denied %q, want [%s]", c.phase, c.argv, res.Denied, want)
		}
	}
	if !strings.Contains(logs.String(), `msg="worklet exec denied"`) {
		t.Error("denials were not logged")
	}
	// Nothing happened.
	if _, err := os.Stat(proof); err == nil {
		t.Error("a shell ran: " + proof + " exists")
	}
	if _, err := os.Stat(fprintf); err == nil {
		t.Error("find -fprintf wrote " + fprintf)
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("find -delete removed the victim: %v", err)
	}
	if fi, err := os.Stat(target); err != nil || fi.Mode() != 0o644 {
		t.Errorf("target mode %v (%v), want -rw-r--r--", fi.Mode(), err)
	}

	// What the worklet needs still runs: its own search, and chmod o-w on
	// a file inside a declared tree.
	rc, res := execTry(t, e, nww, host.PhaseEvaluate, []string{"find", tmp, "-xdev", "-type", "f", "-perm", "-0002", "-print"})
	if strings.HasPrefix(rc, "-") || !strings.Contains(string(res.Details), victim) {
		t.Errorf("the declared search: rc %s details %s", rc, res.Details)
	}
	if rc, _ := execTry(t, e, nww, host.PhaseRemediate, []string{"chmod", "o-w", victim}); strings.HasPrefix(rc, "-") {
		t.Errorf("chmod o-w on a declared path: rc %s", rc)
	}
	if fi, err := os.Stat(victim); err != nil || fi.Mode() != 0o664 {
		t.Errorf("victim mode after chmod o-w: %v (%v), want -rw-rw-r--", fi.Mode(), err)
	}
}

func TestExecPatternErrorsNameTheElement(t *testing.T) {
	// Failed before the fix: "{file}" loaded as a literal and "{path}..." anywhere was accepted.
	e, _ := engine(t, host.Limits{})
	for body, want := range map[string]string{
		"[evaluate]\nexec = [[\"id\"], [\"ls\", \"-l\", \"{file}\"]]\n": `evaluate.exec[1][2]: unknown placeholder "{file}"`,
		"[remediate]\nexec = [[\"chmod\", \"{path}...\", \"o-w\"]]\n":   `remediate.exec[0][1]: "{path}..." must be the last element`,
		"[evaluate]\nexec = [[\"kill\", \"-9\", \"{int}...\"]]\n":       `evaluate.exec[0][2]: "{int}..."`,
		"[evaluate]\nexec = [[\"{word}\"]]\n":                           `evaluate.exec[0][0]: the program must be literal`,
		"[evaluate]\nexec = [[\"bin/sh\", \"-c\", \"id\"]]\n":           `evaluate.exec[0][0]: program "bin/sh" must be a bare name or an absolute path`,
	} {
		dir := worklet(t, "exec-argv", body)
		_, err := e.Load(t.Context(), dir)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: load error %v, want %q", body, err, want)
		}
	}
}
