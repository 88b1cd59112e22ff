package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/amagent/amagent/agent/sysexec"
)

// TestBenchReport is `make bench`'s side-by-side report: every subject is
// measured in interleaved rounds (so that load from other processes hits
// all of them alike) and reported as median and spread (p10-p90), with
// ratios against the baselines measured in the same run. It runs only with
// AMAGENT_BENCH=1 (rounds: AMAGENT_BENCH_ROUNDS, default 60).
func TestBenchReport(t *testing.T) {
	if os.Getenv("AMAGENT_BENCH") != "1" {
		t.Skip("set AMAGENT_BENCH=1")
	}
	rounds := 60
	if n, err := strconv.Atoi(os.Getenv("AMAGENT_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	ctx := context.Background()
	cfg := filepath.Join(t.TempDir(), "sshd_config")
	if err := os.WriteFile(cfg, []byte("Port 22\nPermitRootLogin no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := "[evaluate]\nread = [\"" + cfg + "\"]\n"
	goBody := read + "[params.file]\ntype = \"string\"\n"
	goParams := map[string]any{"file": cfg}
	scan := scanOf(t, `{"hostname": "bench", "exit": 0, "check": {"file": "`+cfg+`"}, "os": {"version": "12.5"}}`)
	env := LiveEnv(scan)
	script, _ := filepath.Abs("testdata/check.sh")

	e, err := NewEngine(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	eOff, err := NewEngine(ctx, Options{noCloseOnDone: true})
	if err != nil {
		t.Fatal(err)
	}
	defer eOff.Close(ctx)
	wat := load(t, e, "exit.wasm", "", "")
	cmod := load(t, e, "check.wasm", "", read)
	gmod := load(t, e, "gomod.wasm", "", goBody)
	gmodOff := load(t, eOff, "gomod.wasm", "", goBody)
	comp := load(t, e, "compute.wasm", "", "")
	compOff := load(t, eOff, "compute.wasm", "", "")
	fl := load(t, e, "factloop.wasm", "", "")

	mustStatus := func(r Result) {
		if r.Status != StatusCompliant {
			t.Fatalf("%+v", r)
		}
	}
	const factBatch = 100000
	factMod := func() func() {
		st := &runState{name: "bench", env: env, maxHostBytes: 1 << 62, log: e.log}
		fctx := context.WithValue(ctx, runStateKey{}, st)
		mod, err := e.rt.InstantiateModule(fctx, fl.compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
		if err != nil {
			t.Fatal(err)
		}
		fn := mod.ExportedFunction("loop")
		return func() {
			if _, err := fn.Call(fctx, factBatch/10); err != nil { // ten calls per iteration
				t.Fatal(err)
			}
		}
	}()

	type subject struct {
		name string
		div  int // operations per sample
		run  func()
	}
	subjects := []subject{
		{"script: bash check.sh spawned via sysexec", 1, func() {
			if r, err := sysexec.Run(ctx, sysexec.Request{Argv: []string{"bash", script, cfg}}); err != nil || r.ExitCode != 0 {
				t.Fatal(err, r)
			}
		}},
		{"evaluate WAT module (exit.wat)", 1, func() { mustStatus(e.Run(ctx, wat, PhaseEvaluate, nil, env)) }},
		{"evaluate C module (check.c)", 1, func() { mustStatus(e.Run(ctx, cmod, PhaseEvaluate, nil, env)) }},
		{"evaluate Go wasip1 module (gomod)", 1, func() { mustStatus(e.Run(ctx, gmod, PhaseEvaluate, goParams, env)) }},
		{"evaluate Go wasip1 module, no CloseOnContextDone", 1, func() { mustStatus(eOff.Run(ctx, gmodOff, PhaseEvaluate, goParams, env)) }},
		{"compute.wat (10M iterations), CloseOnContextDone", 1, func() { mustStatus(e.Run(ctx, comp, PhaseEvaluate, nil, env)) }},
		{"compute.wat (10M iterations), no CloseOnContextDone", 1, func() { mustStatus(eOff.Run(ctx, compOff, PhaseEvaluate, nil, env)) }},
		{"one amagent.fact call", factBatch, factMod},
	}
	samples := make([][]time.Duration, len(subjects))
	for range rounds {
		for i, s := range subjects {
			start := time.Now()
			s.run()
			samples[i] = append(samples[i], time.Since(start)/time.Duration(s.div))
		}
	}
	// Compile and load: fewer rounds (a cold Go compile takes seconds).
	compileRounds := max(3, rounds/20)
	cache := t.TempDir()
	loadSubjects := []struct {
		name, wasm, body string
		cacheDir         string
	}{
		{"cold compile C module", "check.wasm", read, ""},
		{"cold compile Go module", "gomod.wasm", goBody, ""},
		{"warm load C module (disk cache, new engine)", "check.wasm", read, cache},
		{"warm load Go module (disk cache, new engine)", "gomod.wasm", goBody, cache},
	}
	loadSamples := make([][]time.Duration, len(loadSubjects))
	for i, s := range loadSubjects { // fill the disk cache
		if s.cacheDir != "" {
			e2, _ := NewEngine(ctx, Options{CacheDir: s.cacheDir})
			load(t, e2, s.wasm, "", s.body)
			e2.Close(ctx)
		}
		_ = i
	}
	for range compileRounds {
		for i, s := range loadSubjects {
			dir := writeWorklet(t, s.wasm, "", s.body)
			e2, err := NewEngine(ctx, Options{CacheDir: s.cacheDir})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if _, err := e2.Load(ctx, dir); err != nil {
				t.Fatal(err)
			}
			loadSamples[i] = append(loadSamples[i], time.Since(start))
			e2.Close(ctx)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "host benchmarks: %d interleaved rounds (%d for compile/load), GOMAXPROCS=%d\n", rounds, compileRounds, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "%-55s %12s %12s %12s\n", "subject", "median", "p10", "p90")
	med := map[string]time.Duration{}
	row := func(name string, s []time.Duration) {
		slices.Sort(s)
		p := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
		med[name] = p(0.5)
		fmt.Fprintf(&b, "%-55s %12s %12s %12s\n", name, p(0.5), p(0.1), p(0.9))
	}
	for i, s := range subjects {
		row(s.name, samples[i])
	}
	for i, s := range loadSubjects {
		row(s.name, loadSamples[i])
	}
	ratio := func(label, a, bb string) {
		fmt.Fprintf(&b, "%-70s %8.2fx\n", label, float64(med[a])/float64(med[bb]))
	}
	fmt.Fprintln(&b, "ratios of medians:")
	ratio("script / C evaluation (goal >= 25)", subjects[0].name, subjects[2].name)
	ratio("script / WAT evaluation", subjects[0].name, subjects[1].name)
	ratio("script / Go evaluation (goal >= 1)", subjects[0].name, subjects[3].name)
	ratio("Go evaluation: CloseOnContextDone / without", subjects[3].name, subjects[4].name)
	ratio("compute: CloseOnContextDone / without", subjects[5].name, subjects[6].name)
	ratio("Go: cold compile / warm load", loadSubjects[1].name, loadSubjects[3].name)
	ratio("C: cold compile / warm load", loadSubjects[0].name, loadSubjects[2].name)

	// Memory over a scan of a thousand evaluations, NumCPU at a time.
	debug.FreeOSMemory()
	before := rssBytes()
	jobs := make([]Job, 1000)
	for i := range jobs {
		jobs[i] = Job{Worklet: cmod}
		if i%10 == 0 {
			jobs[i] = Job{Worklet: gmod, Params: goParams}
		}
	}
	peak := before
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				peak = max(peak, rssBytes())
			}
		}
	}()
	start := time.Now()
	for _, r := range e.Evaluate(ctx, jobs, env) {
		mustStatus(r)
	}
	elapsed := time.Since(start)
	close(stop)
	<-done
	peak = max(peak, rssBytes())
	e.Trim()
	debug.FreeOSMemory()
	after := rssBytes()
	fmt.Fprintf(&b, "scan of 1000 evaluations (900 C, 100 Go) in %s: RSS %.1f MiB before, %.1f MiB peak (goal < 100), %.1f MiB after (goal < 30)\n",
		elapsed.Round(time.Millisecond), mib(before), mib(peak), mib(after))
	t.Log("\n" + b.String())
	if out := os.Getenv("AMAGENT_BENCH_OUT"); out != "" {
		_ = os.WriteFile(out, []byte(b.String()), 0o644)
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// rssBytes reads the resident set size from /proc (0 elsewhere).
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}
