package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func worklet(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	wasm, err := os.ReadFile("../testdata/exit.wasm")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"worklet.wasm":            string(wasm),
		"worklet.toml":            "abi = 1\nkind = \"worklet\"\nname = \"exit\"\nversion = \"1.0.0\"\nmodule = \"worklet.wasm\"\n",
		"tests/a-compliant.json":  `{"abi": 1, "time": "2026-11-25T12:00:00Z", "scan": {"exit": 0}, "files": {}, "exec": [], "expect": {"status": "compliant"}}`,
		"tests/b-remediate.json":  `{"abi": 1, "scan": {"exit": 1}, "expect": {"phase": "remediate", "status": "failed"}}`,
		"tests/c-wrong.json":      `{"abi": 1, "scan": {"exit": 1}, "expect": {"status": "compliant"}}`,
		"tests/d-error.json":      `{"abi": 1, "scan": {"exit": 5}, "expect": {"status": "error"}}`,
		"tests/e-bad-expect.json": `{"abi": 1, "scan": {}, "expect": {"status": "succeeded"}}`,
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

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := WorkletCommand(t.Context(), append(args, "--cache", ""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestScanJSON(t *testing.T) {
	dir := worklet(t)
	cases := []struct {
		file   string
		phase  string
		code   int
		status string
		err    string
	}{
		{"a-compliant", "evaluate", 0, "compliant", ""},
		{"c-wrong", "evaluate", 1, "non-compliant", ""},
		{"c-wrong", "remediate", 1, "failed", ""},
		{"a-compliant", "remediate", 0, "succeeded", ""},
		{"d-error", "evaluate", 3, "error", "exit 5"},
	}
	for _, c := range cases {
		code, out, errOut := run(t, "test", dir, "--scan", filepath.Join(dir, "tests", c.file+".json"), "--phase", c.phase, "--json")
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v in %q (%s)", c.file, err, out, errOut)
		}
		keys := []string{}
		for k := range got {
			keys = append(keys, k)
		}
		want := map[string]bool{"status": true, "exit_code": true, "message": true, "details": true, "error": true, "duration_ms": true, "truncated": true, "denied": true}
		for _, k := range keys {
			if !want[k] {
				t.Errorf("unexpected field %q", k)
			}
		}
		if len(keys) != len(want) || code != c.code || got["status"] != c.status || got["error"] != c.err {
			t.Errorf("%s %s: exit %d %v", c.file, c.phase, code, got)
		}
	}
	// not applicable exits 2
	if err := os.WriteFile(filepath.Join(dir, "na.json"), []byte(`{"abi": 1, "scan": {"exit": 2}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := run(t, "test", "--scan", filepath.Join(dir, "na.json"), dir); code != 2 || !strings.HasPrefix(out, "not-applicable (exit 2)") {
		t.Errorf("not applicable: %d %q", code, out)
	}
}

func TestCasesMode(t *testing.T) {
	dir := worklet(t)
	code, out, _ := run(t, "test", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 1 || len(lines) != 6 || lines[5] != "3 passed, 2 failed" {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	got := []string{}
	for _, l := range lines[:5] {
		got = append(got, strings.SplitN(l, ":", 2)[0])
	}
	if !reflect.DeepEqual(got, []string{"PASS a-compliant", "PASS b-remediate", "FAIL c-wrong", "PASS d-error", "FAIL e-bad-expect"}) {
		t.Errorf("lines: %q", got)
	}
	os.Remove(filepath.Join(dir, "tests", "c-wrong.json"))
	os.Remove(filepath.Join(dir, "tests", "e-bad-expect.json"))
	if code, out, _ := run(t, "test", dir); code != 0 || !strings.HasSuffix(out, "3 passed, 0 failed\n") {
		t.Errorf("all passing: %d %q", code, out)
	}
}

func TestLoadErrorJSON(t *testing.T) {
	dir := worklet(t)
	os.WriteFile(filepath.Join(dir, "worklet.toml"), []byte("abi = 1\nkind = \"worklet\"\nname = \"exit\"\nversion = \"1\"\nmodule = \"worklet.wasm\"\ncolour = \"red\"\n"), 0o644)
	code, out, _ := run(t, "test", dir, "--scan", filepath.Join(dir, "tests", "a-compliant.json"), "--json")
	if code != 3 || !strings.Contains(out, `"error":"load: `) || !strings.Contains(out, "unknown key colour") {
		t.Errorf("%d %s", code, out)
	}
}

func TestExtraSubcommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := WorkletCommandWith(t.Context(), []string{"verify", "DIR"}, &out, &errb, map[string]Subcommand{
		"verify": func(_ context.Context, args []string, stdout, _ io.Writer) int {
			fmt.Fprintf(stdout, "verify %v", args)
			return 5
		},
	})
	if code != 5 || out.String() != "verify [DIR]" {
		t.Errorf("%d %q", code, out.String())
	}
	if code := WorkletCommand(t.Context(), []string{"nope"}, &out, &errb); code != ExitError {
		t.Errorf("unknown subcommand: %d", code)
	}
}
