package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
)

// worklet run answers from the scan it is given, with the same JSON as
// worklet test, and exits with the status's code.
func TestRunLive(t *testing.T) {
	dir := worklet(t)
	for _, c := range []struct {
		doc    string
		code   int
		status string
	}{
		{`{"exit": 0}`, ExitCompliant, host.StatusCompliant},
		{`{"exit": 1}`, ExitNonCompliant, host.StatusNonCompliant},
		{`{"exit": 9}`, ExitError, host.StatusError},
	} {
		var asked bool
		scan := func(_ context.Context, noPending bool, _ string) ([]byte, error) {
			asked = noPending
			return []byte(c.doc), nil
		}
		var out, errb bytes.Buffer
		code := WorkletCommandWith(t.Context(), []string{"run", dir, "--json", "--no-pending", "--cache", ""}, &out, &errb,
			map[string]Subcommand{"run": RunCommand(scan)})
		var got map[string]any
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v in %q (%s)", c.doc, err, out.String(), errb.String())
		}
		if code != c.code || got["status"] != c.status || !asked {
			t.Errorf("%s: exit %d status %v (no-pending passed: %v)", c.doc, code, got["status"], asked)
		}
	}
	var out, errb bytes.Buffer
	failing := func(context.Context, bool, string) ([]byte, error) { return nil, errors.New("no dpkg") }
	if code := RunCommand(failing)(t.Context(), []string{dir, "--cache", ""}, &out, &errb); code != ExitError || !strings.Contains(errb.String(), "no dpkg") {
		t.Errorf("a failed scan: exit %d, %q", code, errb.String())
	}
}

func TestParamFlags(t *testing.T) {
	m, err := host.ParseManifest([]byte(`abi = 1
kind = "worklet"
name = "p"
version = "1.0.0"
module = "m.wasm"
[params.port]
type = "int"
default = 22
[params.on]
type = "bool"
[params.names]
type = "list"
[params.who]
type = "string"
`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := paramFlags{"port=2222", "on=true", "names=a,b", "who=x=y"}.resolve(m)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"port": int64(2222), "on": true, "names": []any{"a", "b"}, "who": "x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
	if got, _ := (paramFlags{`names=["a b", "c"]`}).resolve(m); !reflect.DeepEqual(got["names"], []any{"a b", "c"}) {
		t.Errorf("JSON list: %#v", got)
	}
	for _, bad := range []string{"port=x", "on=maybe", "nope=1"} {
		if _, err := (paramFlags{bad}).resolve(m); err == nil || !strings.Contains(err.Error(), strings.SplitN(bad, "=", 2)[0]) {
			t.Errorf("%s: error %v does not name the parameter", bad, err)
		}
	}
	var p paramFlags
	if err := p.Set("novalue"); err == nil {
		t.Error("--param without = accepted")
	}
}

// Issue 11 item 8: --json was ignored for a tests/ directory, and a wrong
// directory printed "0 passed, 0 failed". Both failed before the fix.
func TestCasesJSONAndMissingDir(t *testing.T) {
	dir := worklet(t)
	code, out, _ := run(t, "test", dir, "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != ExitNonCompliant || len(lines) != 6 {
		t.Fatalf("exit %d, %d lines:\n%s", code, len(lines), out)
	}
	var first struct {
		Case   string `json:"case"`
		Pass   bool   `json:"pass"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.Case != "a-compliant" || !first.Pass || first.Status != "compliant" {
		t.Errorf("first line %q: %+v %v", lines[0], first, err)
	}
	var sum map[string]int
	if err := json.Unmarshal([]byte(lines[5]), &sum); err != nil || sum["passed"] != 3 || sum["failed"] != 2 {
		t.Errorf("summary %q: %v %v", lines[5], sum, err)
	}
	code, out, errOut := run(t, "test", dir+"-missing")
	if code != ExitError || out != "" || !strings.Contains(errOut, "no such directory") {
		t.Errorf("missing dir: exit %d out %q err %q", code, out, errOut)
	}
}

// worklet run DIR... --root ROOT: the scan is asked for ROOT, each worklet
// prints one line with its name and references, a file is read from the
// tree (through an absolute link, resolved in the tree), and the exit code
// is the pipeline's: 0 all passing, 1 any non-compliant, 3 any error.
func TestRunManyWithRoot(t *testing.T) {
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "etc/motd.real"), []byte("from the tree"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/motd.real", filepath.Join(tree, "etc/motd")); err != nil {
		t.Fatal(err)
	}
	probe := t.TempDir()
	wasm, err := os.ReadFile("../testdata/probe.wasm")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(probe, "worklet.wasm"), wasm, 0o644)
	_ = os.WriteFile(filepath.Join(probe, "worklet.toml"), []byte("abi = 1\nkind = \"worklet\"\nname = \"probe\"\nversion = \"1\"\nmodule = \"worklet.wasm\"\n"+
		"references = [\"xccdf_org.ssgproject.content_rule_x\"]\n[evaluate]\nread = [\"/etc/motd\"]\n"), 0o644)
	exit := worklet(t)
	for _, c := range []struct {
		exit   int
		code   int
		status string
	}{{0, ExitCompliant, "compliant"}, {2, ExitCompliant, "not-applicable"}, {1, ExitNonCompliant, "non-compliant"}, {7, ExitError, "error"}} {
		var gotRoot string
		scan := func(_ context.Context, _ bool, root string) ([]byte, error) {
			gotRoot = root
			return []byte(`{"exit": ` + itoa(c.exit) + `, "probe": {"action": "read", "arg": "/etc/motd"}}`), nil
		}
		var out, errb bytes.Buffer
		code := RunCommand(scan)(t.Context(), []string{probe, exit, "--root", tree, "--json", "--cache", ""}, &out, &errb)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if code != c.code || gotRoot != tree || len(lines) != 2 {
			t.Fatalf("exit %d: code %d, root %q, output %q (%s)", c.exit, code, gotRoot, out.String(), errb.String())
		}
		var first, second struct {
			Name       string   `json:"name"`
			References []string `json:"references"`
			Status     string   `json:"status"`
			Message    string   `json:"message"`
		}
		if json.Unmarshal([]byte(lines[0]), &first) != nil || first.Name != "probe" || first.Message != "from the tree" ||
			len(first.References) != 1 || first.Status != "compliant" {
			t.Errorf("probe line %q", lines[0])
		}
		if json.Unmarshal([]byte(lines[1]), &second) != nil || second.Name != "exit" || second.References == nil || second.Status != c.status {
			t.Errorf("exit line %q", lines[1])
		}
	}
	var out, errb bytes.Buffer
	scan := func(context.Context, bool, string) ([]byte, error) { return []byte(`{"exit": 1}`), nil }
	code := RunCommand(scan)(t.Context(), []string{exit, exit, "--cache", ""}, &out, &errb)
	if code != ExitNonCompliant || !strings.HasSuffix(strings.TrimSpace(out.String()), "0 compliant or succeeded, 2 non-compliant or failed, 0 not applicable, 0 errors") {
		t.Errorf("text mode: %d %q", code, out.String())
	}
	if code := RunCommand(scan)(t.Context(), []string{exit, probe, "--param", "nope=1", "--cache", ""}, &out, &errb); code != ExitError || !strings.Contains(errb.String(), "no worklet given declares it") {
		t.Errorf("undeclared param: %d %q", code, errb.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
