package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/protocol"
)

func TestRunWorkletCommand(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	dir := writeWorklet(t, "exit.wasm", "", "")
	find := func(_ context.Context, name string) (string, map[string]any, []byte, error) {
		if name != "t-exit" {
			return "", nil, nil, errors.New("not assigned")
		}
		return dir, nil, []byte(`{"exit": 1}`), nil
	}
	var logs bytes.Buffer
	table, err := command.NewTable(RunWorkletHandler(e, find))
	if err != nil {
		t.Fatal(err)
	}
	p := &command.Processor{Log: slog.New(slog.NewTextHandler(&logs, nil)), Table: table}
	res := p.Execute(t.Context(), command.Command{ID: 7, Type: protocol.CmdRunWorklet, Params: []string{"t-exit", "evaluate"}})
	var wr protocol.WorkletResult
	if err := json.Unmarshal(res.Output, &wr); err != nil || res.Status != protocol.StatusOK || wr.Status != StatusNonCompliant || wr.Name != "t-exit" {
		t.Fatalf("%+v %s", res, res.Output)
	}
	if !strings.Contains(logs.String(), "command_processor=wasm command_name=t-exit") {
		t.Errorf("log:\n%s", logs.String())
	}
	for _, params := range [][]string{{"other"}, {}, {"t-exit", "fix"}} {
		if res := p.Execute(t.Context(), command.Command{ID: 8, Type: protocol.CmdRunWorklet, Params: params}); res.Status != protocol.StatusError {
			t.Errorf("%q: %+v", params, res)
		}
	}
}

func TestOSNotApplicable(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "exit.wasm", "", "os = [\"windows\"]\n")
	r := e.Run(t.Context(), w, PhaseEvaluate, nil, LiveEnv(scanOf(t, `{"os": {"family": "linux"}, "exit": 0}`)))
	if r.Status != StatusNotApplicable || r.ExitCode != 2 {
		t.Fatalf("%+v", r)
	}
}

func TestReplayRemediateWritesScratch(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "probe.wasm", "", "[remediate]\nwrite = [\"/etc/amagent-test/\"]\n")
	env, err := ReplayEnv(&Recording{ABI: 1, Scan: json.RawMessage(probeScan("write", "/etc/amagent-test/x.conf"))})
	if err != nil {
		t.Fatal(err)
	}
	r := e.Run(t.Context(), w, PhaseRemediate, nil, env)
	if r.Status != StatusSucceeded {
		t.Fatalf("%+v", r)
	}
}

// TestNoLeaks runs a thousand evaluations, some timing out, and checks that
// no goroutine is left behind and the heap is back where it was. It
// measures in a process of its own: in the package's run, what the other
// tests left to the collector and to their finalizers moved the heap by
// more than the bound while nothing leaked.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if os.Getenv("AMAGENT_NOLEAKS_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestNoLeaks$", "-test.count", "1", "-test.v")
		cmd.Env = append(os.Environ(), "AMAGENT_NOLEAKS_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestNoLeaks") {
			t.Fatalf("TestNoLeaks in its own process: %v\n%s", err, out)
		}
		return
	}
	e, _ := newTestEngine(t, Limits{})
	w := load(t, e, "exit.wasm", "", "")
	loop := load(t, e, "probe.wasm", "", "[limits]\ntimeout = \"1ms\"\n")
	env := LiveEnv(scanOf(t, `{"exit": 1, "probe": {"action": "loop"}}`))
	jobs := make([]Job, 1000)
	for i := range jobs {
		jobs[i] = Job{Worklet: w}
		if i%100 == 0 {
			jobs[i] = Job{Worklet: loop}
		}
	}
	// Warm up with a whole batch, so that pools and caches that a batch
	// fills once (guest memory kept for reuse, indexes) are in the
	// baseline: what a second batch adds is what leaks.
	e.Evaluate(t.Context(), jobs, env)
	runtime.GC()
	before := runtime.NumGoroutine()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapAlloc
	for i, r := range e.Evaluate(t.Context(), jobs, env) {
		want := StatusNonCompliant
		if i%100 == 0 {
			want = StatusError
		}
		if r.Status != want {
			t.Fatalf("job %d: %+v", i, r)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines: %d before, %d after", before, after)
	}
	// On a loaded machine a collection can run before finalizers free
	// what the runs dropped: measure a few times, keep the lowest.
	low := uint64(1<<63 - 1)
	for range 5 {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		low = min(low, ms.HeapAlloc)
		if low <= heapBefore+8<<20 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if low > heapBefore+8<<20 {
		t.Errorf("heap grew from %d to %d bytes", heapBefore, low)
	}
}
