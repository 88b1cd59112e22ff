package host

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runProbe(t *testing.T, e *Engine, w *Worklet, phase, action, arg string) Result {
	t.Helper()
	return e.Run(t.Context(), w, phase, nil, LiveEnv(scanOf(t, probeScan(action, arg))))
}

func TestFact(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "")
	cases := []struct{ key, details, status string }{
		{"os.version", `"12"`, StatusCompliant},
		{"os", `{"family": "linux", "version": "12"}`, StatusCompliant}, // the document's own text
		{"probe.arg", `"probe.arg"`, StatusCompliant},
		{"nope.nope", `-1`, StatusNonCompliant},
	}
	for _, c := range cases {
		r := runProbe(t, e, w, PhaseEvaluate, "fact", c.key)
		if string(r.Details) != c.details || r.Status != c.status {
			t.Errorf("fact %q: got %s %s, want %s %s", c.key, r.Details, r.Status, c.details, c.status)
		}
	}
	s := scanOf(t, `{"software": [{"name": "a"}, {"name": "b"}], "reboot_required": true}`)
	for key, want := range map[string]string{"software.1.name": `"b"`, "reboot_required": "true", "software.2": "", "software.x": "", "": `{"software": [{"name": "a"}, {"name": "b"}], "reboot_required": true}`} {
		got, ok := s.Fact([]byte(key))
		if string(got) != want || ok != (want != "") {
			t.Errorf("Fact(%q) = %s %v, want %s", key, got, ok, want)
		}
	}
}

// TestFactRawBytes checks that a fact is the value's text exactly as the
// document has it (spacing, key order, escapes, number spelling), never
// re-encoded, for every kind of value and path.
func TestFactRawBytes(t *testing.T) {
	doc := `{
  "os": {"version": "12",  "family" : "linux", "tags": ["a<b", "\u00e9\n"]},
  "software": [ {"name": "z", "version": "1:2.0~rc1"} ,
    {"name":"a","size": 1.50e3, "nested": {"k": [1, [2, {"x": null}]]}} ],
  "n": -0.0,
  "dup": 1, "dup": {"last": true},
  "esc\u0061ped": "key with an escape",
  "empty": {}, "none": [], "t": true
}`
	s := scanOf(t, doc)
	for key, want := range map[string]string{
		"os":                        `{"version": "12",  "family" : "linux", "tags": ["a<b", "\u00e9\n"]}`,
		"os.family":                 `"linux"`,
		"os.tags":                   `["a<b", "\u00e9\n"]`,
		"os.tags.1":                 `"\u00e9\n"`,
		"software":                  "[ {\"name\": \"z\", \"version\": \"1:2.0~rc1\"} ,\n    {\"name\":\"a\",\"size\": 1.50e3, \"nested\": {\"k\": [1, [2, {\"x\": null}]]}} ]",
		"software.0":                `{"name": "z", "version": "1:2.0~rc1"}`,
		"software.1.size":           `1.50e3`,
		"software.1.nested.k.1.1":   `{"x": null}`,
		"software.1.nested.k.1.1.x": `null`,
		"n":                         `-0.0`,
		"dup":                       `{"last": true}`,
		"escaped":                   `"key with an escape"`,
		"empty":                     `{}`,
		"none":                      `[]`,
		"t":                         `true`,
	} {
		got, ok := s.Fact([]byte(key))
		if !ok || string(got) != want {
			t.Errorf("Fact(%q) = %q %v, want %q", key, got, ok, want)
		}
		// A second call answers from the cache, the same bytes.
		if again, _ := s.Fact([]byte(key)); string(again) != string(got) {
			t.Errorf("Fact(%q) cached = %q, first %q", key, again, got)
		}
	}
	for _, key := range []string{"nope", "os.nope", "os.family.x", "software.2", "software.-1", "software.01", "software.x", "none.0", "empty.a", "t.x", "os."} {
		if got, ok := s.Fact([]byte(key)); ok || got != nil {
			t.Errorf("Fact(%q) = %q %v, want nothing", key, got, ok)
		}
	}
	if s.OSFamily() != "linux" {
		t.Errorf("OSFamily = %q", s.OSFamily())
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a": }`, `{"a": 1} x`, `{"a": "\x"}`} {
		if _, err := NewScan([]byte(bad)); err == nil {
			t.Errorf("NewScan(%q): no error", bad)
		}
	}
}

// TestFactElements walks a long list one element at a time, as a worklet
// does with "software.N.name": every answer is right, nested lists are
// indexed on their own, and the end of the list is "not found".
func TestFactElements(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"software": [`)
	for i := range 3000 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, `{"name": "p%d", "tags": ["t%d", "u%d"]}`, i, i, i)
	}
	b.WriteString(`]}`)
	s := scanOf(t, b.String())
	for round := range 2 {
		for i := range 3000 {
			if got, ok := s.Fact([]byte(fmt.Sprintf("software.%d.name", i))); !ok || string(got) != fmt.Sprintf(`"p%d"`, i) {
				t.Fatalf("round %d: software.%d.name = %s %v", round, i, got, ok)
			}
			if got, _ := s.Fact([]byte(fmt.Sprintf("software.%d.tags.1", i))); string(got) != fmt.Sprintf(`"u%d"`, i) {
				t.Fatalf("round %d: software.%d.tags.1 = %s", round, i, got)
			}
		}
	}
	for _, key := range []string{"software.3000", "software.3000.name", "software.0.tags.2"} {
		if got, ok := s.Fact([]byte(key)); ok {
			t.Errorf("Fact(%q) = %s, want nothing", key, got)
		}
	}
}

func TestOutOfBoundsAndSlot(t *testing.T) {
	e, logs := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "")
	r := runProbe(t, e, w, PhaseEvaluate, "oob", "")
	// fact, exec, response with out-of-bounds pointers; a negative key
	// length; malformed exec JSON; a negative response capacity: all -3.
	if string(r.Details) != "[-3,-3,-3,-3,-3,-3]" || r.Status != StatusCompliant {
		t.Fatalf("got %+v", r)
	}
	if !strings.Contains(logs.String(), "out-of-bounds message") {
		t.Errorf("the out-of-bounds log call was not reported:\n%s", logs)
	}
	// The slot holds the last answer; a short buffer gets its prefix; a
	// failed call empties it.
	r = runProbe(t, e, w, PhaseEvaluate, "slot", "abcdef")
	if r.Message != `'ab` || string(r.Details) != "[8,3,-1,0]" {
		t.Fatalf("slot: got %q %s", r.Message, r.Details)
	}
}

func TestLog(t *testing.T) {
	e, logs := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "")
	runProbe(t, e, w, PhaseEvaluate, "log", "hello there")
	for _, lvl := range []string{"DEBUG", "INFO", "WARN", "ERROR"} {
		if !strings.Contains(logs.String(), "level="+lvl+` msg="worklet log" worklet=t-probe message="hello there"`) {
			t.Errorf("no %s line in\n%s", lvl, logs)
		}
	}
}

func execReq(argv ...string) string {
	b, _ := json.Marshal(map[string]any{"argv": argv, "timeout_ms": 5000})
	return string(b)
}

func TestExecAllowlist(t *testing.T) {
	e, logs := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[evaluate]\nexec = [[\"echo\", \"hi\"], [\"echo\", \"hi\", \"{word}\"], [\"/bin/true\"]]\n[remediate]\nexec = [[\"printf\", \"{word}\"]]\n[limits]\nexec_calls = 1\n")
	cases := []struct {
		phase   string
		argv    []string
		details string
	}{
		{PhaseEvaluate, []string{"echo", "hi", "there"}, `{"exit_code":0,"stdout":"hi there\n","stderr":""}`},
		{PhaseEvaluate, []string{"echo", "hi"}, `{"exit_code":0,"stdout":"hi\n","stderr":""}`},
		{PhaseEvaluate, []string{"echo"}, "-2"},                 // shorter than the pattern
		{PhaseEvaluate, []string{"echo", "hi", "a", "b"}, "-2"}, // longer: patterns match whole
		{PhaseEvaluate, []string{"echo", "hi", "-e"}, "-2"},     // a {word} is never an option
		{PhaseEvaluate, []string{"echo", "hix"}, "-2"},          // element by element, not by string
		{PhaseEvaluate, []string{"sh", "-c", "echo hi"}, "-2"},  // not listed
		{PhaseEvaluate, []string{"printf", "x"}, "-2"},          // remediate only
		{PhaseRemediate, []string{"printf", "x"}, `{"exit_code":0,"stdout":"x","stderr":""}`},
		{PhaseEvaluate, []string{"/bin/true"}, `{"exit_code":0,"stdout":"","stderr":""}`},
	}
	for _, c := range cases {
		r := runProbe(t, e, w, c.phase, "exec", execReq(c.argv...))
		if string(r.Details) != c.details {
			t.Errorf("%s %q: got %s, want %s", c.phase, c.argv, r.Details, c.details)
		}
	}
	if !strings.Contains(logs.String(), `msg="worklet exec denied" worklet=t-probe phase=evaluate argv="[sh -c echo hi]"`) {
		t.Errorf("denial not logged with its argv:\n%s", logs)
	}
}

func TestExecFixedPathAndFailures(t *testing.T) {
	// A program found only on the environment's PATH is not run.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "amagent-evil"), []byte("#!/bin/sh\necho evil\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[evaluate]\nexec = [[\"amagent-evil\"], [\"sleep\", \"{int}\"]]\n[limits]\nexec_calls = 3\n")
	if r := runProbe(t, e, w, PhaseEvaluate, "exec", execReq("amagent-evil")); string(r.Details) != "-4" {
		t.Errorf("PATH program: got %s, want -4", r.Details)
	}
	b, _ := json.Marshal(map[string]any{"argv": []string{"sleep", "5"}, "timeout_ms": 50})
	if r := runProbe(t, e, w, PhaseEvaluate, "exec", string(b)); string(r.Details) != "-4" {
		t.Errorf("timed-out program: got %s, want -4", r.Details)
	}
}

func TestExecCallLimit(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[evaluate]\nexec = [[\"true\"]]\n[limits]\nexec_calls = 0\n")
	if r := runProbe(t, e, w, PhaseEvaluate, "exec", execReq("true")); string(r.Details) != "-5" {
		t.Errorf("got %s, want -5", r.Details)
	}
}

func TestHostBytesLimit(t *testing.T) {
	e, _ := newTestEngine(t, Limits{MaxHostBytes: 8})
	w := load(t, e, "probe.wasm", "", "")
	// probe reads probe.action and probe.arg itself (6+2 bytes), so the next
	// answer is over the budget.
	r := runProbe(t, e, w, PhaseEvaluate, "fact", "")
	if string(r.Details) != "-5" {
		t.Errorf("got %s, want -5", r.Details)
	}
}

func TestLoadErrors(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	cases := []struct{ wasm, kind, want string }{
		{"badimport.wasm", "", "import env.now is not in ABI v1"},
		{"badsig.wasm", "", "import amagent.fact has signature (i32) -> (i32), want (i32, i32) -> (i32)"},
		{"execimport.wasm", "policy", "import amagent.exec: a policy module is given no exec"},
		{"nostart.wasm", "", "exports no _start"},
	}
	for _, c := range cases {
		_, err := e.Load(context.Background(), writeWorklet(t, c.wasm, c.kind, ""))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.wasm, err, c.want)
		}
	}
	// exec is fine in a worklet
	if _, err := e.Load(context.Background(), writeWorklet(t, "execimport.wasm", "worklet", "")); err != nil {
		t.Errorf("worklet importing exec: %v", err)
	}
	// sha256 mismatch
	if _, err := e.Load(context.Background(), writeWorklet(t, "exit.wasm", "", "sha256 = \""+strings.Repeat("ab", 32)+"\"\n")); err == nil || !strings.Contains(err.Error(), "key sha256") {
		t.Errorf("sha256 mismatch: %v", err)
	}
}

func TestLimitsCapped(t *testing.T) {
	e, logs := newTestEngine(t, Limits{MaxMemory: 4 << 20, MaxTimeout: 200e6, MaxOutput: 100, MaxExecCalls: 2})
	w := load(t, e, "probe.wasm", "", "[limits]\nmemory = \"1GiB\"\ntimeout = \"1h\"\noutput = \"1MiB\"\nexec_calls = 100\n")
	if w.limits != (runLimits{memory: 4 << 20, timeout: 200e6, output: 100, execCalls: 2}) {
		t.Errorf("limits %+v", w.limits)
	}
	for _, key := range []string{"limits.memory", "limits.timeout", "limits.output", "limits.exec_calls"} {
		if !strings.Contains(logs.String(), "key="+key) {
			t.Errorf("cap of %s not logged:\n%s", key, logs)
		}
	}
	r := runProbe(t, e, w, PhaseEvaluate, "loop", "")
	if r.Error != KindTimeout || r.Duration > 2e9 {
		t.Errorf("capped timeout: %+v", r)
	}
}
