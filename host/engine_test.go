package host

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "exit.wasm", "", "")
	cases := []struct {
		phase  string
		code   int
		status string
		err    string
	}{
		{PhaseEvaluate, 0, StatusCompliant, ""},
		{PhaseEvaluate, 1, StatusNonCompliant, ""},
		{PhaseEvaluate, 2, StatusNotApplicable, ""},
		{PhaseEvaluate, 3, StatusError, "exit 3"},
		{PhaseRemediate, 0, StatusSucceeded, ""},
		{PhaseRemediate, 1, StatusFailed, ""},
		{PhaseRemediate, 2, StatusError, "exit 2"},
	}
	for _, c := range cases {
		t.Run(c.phase+"/"+c.status, func(t *testing.T) {
			env := LiveEnv(scanOf(t, `{"exit": `+string(rune('0'+c.code))+`}`))
			r := e.Run(t.Context(), w, c.phase, nil, env)
			if r.Status != c.status || r.Error != c.err || r.ExitCode != c.code {
				t.Fatalf("got status %q error %q exit %d, want %q %q %d", r.Status, r.Error, r.ExitCode, c.status, c.err, c.code)
			}
		})
	}
}

func TestOutputAndErrors(t *testing.T) {
	e, logs := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[limits]\ntimeout = \"300ms\"\nmemory = \"2MiB\"\noutput = \"1KiB\"\n")
	cases := []struct {
		action, arg string
		status      string
		kind        string
		message     string
		details     string
		truncated   bool
	}{
		{"exit", "0", StatusCompliant, "", "exit 0", `{"code": 0}`, false},
		{"exit", "1", StatusNonCompliant, "", "exit 1", `{"code": 1}`, false},
		{"exit", "7", StatusError, KindExit, "exit 7", `{"code": 7}`, false},
		{"plain", "hello", StatusCompliant, "", "plain text hello", "null", false},
		{"loop", "", StatusError, KindTimeout, "", "null", false},
		{"oom", "", StatusError, KindMemoryLimit, "", "null", false},
		{"trap", "", StatusError, KindTrap, "", "null", false},
		{"flood", "", StatusError, KindTimeout, "flood flood", "null", true},
		{"stderr", "psst", StatusCompliant, "", "", "null", false},
	}
	for _, c := range cases {
		t.Run(c.action+c.arg, func(t *testing.T) {
			r := e.Run(t.Context(), w, PhaseEvaluate, nil, LiveEnv(scanOf(t, probeScan(c.action, c.arg))))
			if r.Status != c.status || r.ErrorKind != c.kind || !strings.HasPrefix(r.Message, c.message) || string(r.Details) != c.details || r.Truncated != c.truncated {
				t.Fatalf("got %+v", r)
			}
			if c.kind != "" && !strings.HasPrefix(r.Error, c.kind) {
				t.Fatalf("error %q does not start with its kind %q", r.Error, c.kind)
			}
		})
	}
	if !strings.Contains(logs.String(), `msg="worklet stderr" worklet=t-probe line="to stderr: psst"`) {
		t.Errorf("stderr not logged:\n%s", logs)
	}
	r := e.Run(t.Context(), w, PhaseEvaluate, nil, LiveEnv(scanOf(t, probeScan("trap", ""))))
	if r.Error != "trap: unreachable" {
		t.Errorf("trap error %q", r.Error)
	}
}

func TestInputDocument(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[params.port]\ntype = \"int\"\ndefault = 22\n[params.user]\ntype = \"string\"\n")
	r := e.Run(t.Context(), w, PhaseEvaluate, map[string]any{"user": "bob"}, LiveEnv(scanOf(t, probeScan("stdin", ""))))
	var in map[string]any
	if err := json.Unmarshal([]byte(r.Message), &in); err != nil {
		// the probe echoes stdin, which is a JSON object: it becomes message/details
		t.Logf("message %q", r.Message)
	}
	_ = in
	if r.Status != StatusCompliant {
		t.Fatalf("%+v", r)
	}
}

func TestWASMMemoryLimitInitial(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	_, err := e.Load(context.Background(), writeWorklet(t, "bigmem.wasm", "", ""))
	if err == nil || !strings.Contains(err.Error(), "initial memory") {
		t.Fatalf("got %v", err)
	}
	w := load(t, e, "grow.wasm", "", "[limits]\nmemory = \"1MiB\"\n")
	r := e.Run(t.Context(), w, PhaseEvaluate, nil, LiveEnv(scanOf(t, `{}`)))
	if r.Error != KindMemoryLimit {
		t.Fatalf("%+v", r)
	}
}

func TestGoPanicIsATrap(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "gomod.wasm", "", "[params.panic]\ntype = \"bool\"\ndefault = true\n")
	r := e.Run(t.Context(), w, PhaseEvaluate, nil, LiveEnv(scanOf(t, `{}`)))
	if r.Status != StatusError || r.Error != "trap: panic: asked to panic" {
		t.Fatalf("%+v", r)
	}
	if _, ok := goPanic([]byte("panic: x\nnot a trace\n")); ok {
		t.Error("a panic line without a goroutine trace counted as a Go panic")
	}
}

func TestRunLoadAndCanceled(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "exit.wasm", "", "[params.n]\ntype = \"int\"\n")
	env := LiveEnv(scanOf(t, `{"exit": 0}`))
	r := e.Run(t.Context(), w, PhaseEvaluate, map[string]any{"n": "x"}, env)
	if r.Status != StatusError || r.ErrorKind != KindLoad || r.Error != "load: params.n: want an int, got a string" {
		t.Errorf("bad param: %+v", r)
	}
	r = e.Run(t.Context(), w, "fix", nil, env)
	if r.ErrorKind != KindLoad {
		t.Errorf("bad phase: %+v", r)
	}
	p := load(t, e, "exit.wasm", "policy", "")
	if r := e.Run(t.Context(), p, PhaseRemediate, nil, env); r.Error != "load: a policy has no remediate phase" {
		t.Errorf("policy remediate: %+v", r)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if r := e.Run(ctx, w, PhaseEvaluate, nil, env); r.ErrorKind != KindCanceled {
		t.Errorf("canceled: %+v", r)
	}
}
