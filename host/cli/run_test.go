package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
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
		scan := func(_ context.Context, noPending bool) ([]byte, error) {
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
	failing := func(context.Context, bool) ([]byte, error) { return nil, errors.New("no dpkg") }
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
