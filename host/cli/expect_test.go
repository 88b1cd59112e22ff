package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
)

// probeWorklet is a worklet folder running host/testdata/probe.wasm, which
// does what the scan's probe.action says (here: read or write a file),
// with /etc/app/ writable in remediate, and the given test cases.
func probeWorklet(t *testing.T, cases map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	wasm, err := os.ReadFile("../testdata/probe.wasm")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"worklet.wasm": string(wasm),
		"worklet.toml": "abi = 1\nkind = \"worklet\"\nname = \"probe\"\nversion = \"1.0.0\"\nmodule = \"worklet.wasm\"\n" +
			"[evaluate]\nread = [\"/etc/app/\"]\n[remediate]\nread = [\"/etc/app/\"]\nwrite = [\"/etc/app/\"]\n",
	}
	for name, body := range cases {
		files["tests/"+name+".json"] = body
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// probeCase is a test case: the probe does action on arg against a
// recording holding /etc/app/old.conf, and expect is the case's expect.
func probeCase(action, arg, expect string) string {
	return `{"abi": 1, "time": "2026-11-25T12:00:00Z",
 "scan": {"os": {"family": "linux"}, "probe": {"action": "` + action + `", "arg": "` + arg + `"}},
 "files": {"/etc/app/old.conf": "old setting\n"},
 "expect": ` + expect + `}`
}

// A case can check what remediation wrote (exact content, a substring,
// "must not exist"), what was denied, and the message by pattern; each
// mismatch is named. Before expect.files, a case could not see the files
// at all (the scratch copy was thrown away) and these keys were ignored.
func TestExpectFiles(t *testing.T) {
	dir := probeWorklet(t, map[string]string{
		"a-wrote": probeCase("write", "/etc/app/new.conf", `{"phase": "remediate", "status": "succeeded",
			"files": {"/etc/app/new.conf": "written by probe\n", "/etc/app/old.conf": {"contains": "old"}, "/etc/app/none.conf": null},
			"message_re": "^writ+en$"}`),
		"b-wrong-content": probeCase("write", "/etc/app/new.conf", `{"phase": "remediate", "status": "succeeded",
			"files": {"/etc/app/new.conf": "something else\n"}}`),
		"c-not-written": probeCase("write", "/etc/app/new.conf", `{"phase": "remediate", "status": "succeeded",
			"files": {"/etc/app/other.conf": {"contains": "probe"}}}`),
		"d-must-not-exist": probeCase("write", "/etc/app/new.conf", `{"phase": "remediate", "status": "succeeded",
			"files": {"/etc/app/new.conf": null}}`),
		"e-denied":       probeCase("read", "/etc/shadow", `{"status": "non-compliant", "denied": ["/etc/shadow"], "message_re": "Permission denied"}`),
		"f-denied-wrong": probeCase("read", "/etc/shadow", `{"status": "non-compliant", "denied": []}`),
		"g-regexp-wrong": probeCase("read", "/etc/app/old.conf", `{"status": "compliant", "message_re": "^new"}`),
		"h-unknown-key":  probeCase("read", "/etc/app/old.conf", `{"status": "compliant", "file": {"/etc/app/old.conf": "x"}}`),
		"i-evaluate-files": probeCase("read", "/etc/app/old.conf", `{"status": "compliant", "denied": [],
			"files": {"/etc/app/old.conf": "old setting\n", "/etc/app/new.conf": null}}`),
		"j-bad-regexp": probeCase("read", "/etc/app/old.conf", `{"status": "compliant", "message_re": "("}`),
	})
	code, out, errOut := run(t, "test", dir)
	want := map[string]string{
		"a-wrote":          "PASS",
		"b-wrong-content":  `file /etc/app/new.conf holds "written by probe\n", want "something else\n"`,
		"c-not-written":    "file /etc/app/other.conf does not exist",
		"d-must-not-exist": `file /etc/app/new.conf exists ("written by probe\n"), want none`,
		"e-denied":         "PASS",
		"f-denied-wrong":   `denied ["/etc/shadow"], want []`,
		"g-regexp-wrong":   `does not match "^new"`,
		"h-unknown-key":    `expect: unknown key "file"`,
		"i-evaluate-files": "PASS",
		"j-bad-regexp":     "expect.message_re: error parsing regexp",
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != ExitNonCompliant || lines[len(lines)-1] != "3 passed, 7 failed" {
		t.Fatalf("exit %d:\n%s\n%s", code, out, errOut)
	}
	for name, w := range want {
		found := false
		for _, l := range lines {
			if w == "PASS" && strings.HasPrefix(l, "PASS "+name+":") || strings.HasPrefix(l, "FAIL "+name+":") && strings.Contains(l, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no line with %q in\n%s", name, w, out)
		}
	}
}

// --json gives each case's "files": what the run wrote, path -> content;
// left out when it wrote nothing. A single --scan run reports it too.
func TestExpectFilesJSON(t *testing.T) {
	dir := probeWorklet(t, map[string]string{
		"a-wrote": probeCase("write", "/etc/app/new.conf", `{"phase": "remediate", "status": "succeeded"}`),
		"b-read":  probeCase("read", "/etc/app/old.conf", `{"status": "compliant"}`),
	})
	_, out, _ := run(t, "test", dir, "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 2 cases and a summary:\n%s", out)
	}
	var a, b map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &b); err != nil {
		t.Fatal(err)
	}
	if files, _ := a["files"].(map[string]any); len(files) != 1 || files["/etc/app/new.conf"] != "written by probe\n" {
		t.Errorf("a-wrote: files %v", a["files"])
	}
	if _, ok := b["files"]; ok {
		t.Errorf("b-read wrote nothing but has files: %v", b["files"])
	}
	code, out, _ := run(t, "test", dir, "--scan", filepath.Join(dir, "tests", "a-wrote.json"), "--phase", "remediate", "--json")
	if code != 0 || !strings.Contains(out, `"files":{"/etc/app/new.conf":"written by probe\n"}`) {
		t.Errorf("--scan --json: exit %d %s", code, out)
	}
	code, out, _ = run(t, "test", dir, "--scan", filepath.Join(dir, "tests", "a-wrote.json"), "--phase", "remediate")
	if code != 0 || !strings.Contains(out, "wrote: /etc/app/new.conf (17 bytes)") {
		t.Errorf("--scan: exit %d %s", code, out)
	}
}

// --scan with a directory, a scan document or any other JSON names the
// format it wants and the key; before, a directory was "is a directory"
// and the rest "key abi: 0 is not 1".
func TestScanFileErrors(t *testing.T) {
	dir := worklet(t)
	other := t.TempDir()
	files := map[string]string{
		"golden.json":  `{"schema": 1, "collected_at": "2026-11-25T12:00:00Z", "os": {"family": "linux"}}`,
		"machine.json": `{"hostname": "vm", "goos": "linux"}`,
		"exec.json":    `[{"argv": ["true"]}]`,
		"files.json":   `{"abi": 1, "scan": {}, "files": []}`,
		"abi2.json":    `{"abi": 2, "scan": {}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(other, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(other, "recording.json"), []byte(`{"abi": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	const format = `a recorded scan: {"abi": 1, "scan": {...}, "files": {...}} as written by ` + "`amagent scan --record FILE`"
	for _, c := range []struct{ file, want string }{
		{"", "is a directory; --scan wants a file holding " + format + " (did you mean " + filepath.Join(other, "recording.json") + "?)"},
		{"golden.json", "key abi is missing, and this looks like a bare scan document"},
		{"machine.json", "key abi is missing; want " + format},
		{"exec.json", "the file is a JSON array; want " + format},
		{"files.json", "key files: a JSON array is not an object of absolute path"},
		{"abi2.json", "key abi: 2 is not 1; want " + format},
	} {
		code, _, errOut := run(t, "test", dir, "--scan", filepath.Join(other, c.file))
		if code != ExitError || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q, want %q", c.file, code, errOut, c.want)
		}
	}
}

// RunTests gives a Go test the outcomes `worklet test DIR` prints.
func TestRunTests(t *testing.T) {
	dir := probeWorklet(t, map[string]string{
		"a-wrote": probeCase("write", "/etc/app/new.conf", `{"phase": "remediate", "status": "succeeded", "files": {"/etc/app/new.conf": {"contains": "probe"}}}`),
		"b-wrong": probeCase("read", "/etc/app/old.conf", `{"status": "compliant", "message": "new"}`),
	})
	e, err := host.NewEngine(t.Context(), host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(t.Context())
	got, err := RunTests(t.Context(), e, dir)
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %+v", err, got)
	}
	if got[0].Name != "a-wrote" || got[0].Problem != "" || got[0].Files["/etc/app/new.conf"] == nil {
		t.Errorf("a-wrote: %+v", got[0])
	}
	if got[1].Name != "b-wrong" || !strings.Contains(got[1].Problem, `does not contain "new"`) {
		t.Errorf("b-wrong: %+v", got[1])
	}
	if _, err := RunTests(t.Context(), e, t.TempDir()); err == nil {
		t.Error("a folder without tests/ passed")
	}
}
