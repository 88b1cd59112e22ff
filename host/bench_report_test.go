package host

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
// ratios against the baselines measured in the same run. "Isolated" runs
// one operation between the others (cold caches); "back-to-back" runs a
// batch in a row, as a scan does. It runs only with
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
	gmin := load(t, e, "gomin.wasm", "", read)
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
	runScript := func() {
		if r, err := sysexec.Run(ctx, sysexec.Request{Argv: []string{"bash", script, cfg}}); err != nil || r.ExitCode != 0 {
			t.Fatal(err, r)
		}
	}
	times := func(n int, f func()) func() {
		return func() {
			for range n {
				f()
			}
		}
	}
	evalWAT := func() { mustStatus(e.Run(ctx, wat, PhaseEvaluate, nil, env)) }
	evalC := func() { mustStatus(e.Run(ctx, cmod, PhaseEvaluate, nil, env)) }
	evalGo := func() { mustStatus(e.Run(ctx, gmod, PhaseEvaluate, goParams, env)) }
	subjects := []subject{
		{"script: bash check.sh spawned via sysexec", 1, runScript},
		{"evaluate WAT module (exit.wat)", 1, evalWAT},
		{"evaluate C module (check.c)", 1, evalC},
		{"evaluate Go wasip1 module (gomod)", 1, evalGo},
		{"evaluate Go wasip1 module, no CloseOnContextDone", 1, func() { mustStatus(eOff.Run(ctx, gmodOff, PhaseEvaluate, goParams, env)) }},
		{"compute.wat (10M iterations), CloseOnContextDone", 1, func() { mustStatus(e.Run(ctx, comp, PhaseEvaluate, nil, env)) }},
		{"compute.wat (10M iterations), no CloseOnContextDone", 1, func() { mustStatus(eOff.Run(ctx, compOff, PhaseEvaluate, nil, env)) }},
		{"one amagent.fact call", factBatch, factMod},
		{"evaluate minimal Go module (gomin, no encoding/json)", 1, func() { mustStatus(e.Run(ctx, gmin, PhaseEvaluate, nil, env)) }},
		{"script, back-to-back (mean of 10)", 10, times(10, runScript)},
		{"evaluate WAT, back-to-back as in a scan (mean of 100)", 100, times(100, evalWAT)},
		{"evaluate C, back-to-back as in a scan (mean of 100)", 100, times(100, evalC)},
		{"evaluate Go, back-to-back as in a scan (mean of 10)", 10, times(10, evalGo)},
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
	ratio("isolated: script / C evaluation (goal >= 25)", subjects[0].name, subjects[2].name)
	ratio("isolated: script / WAT evaluation", subjects[0].name, subjects[1].name)
	ratio("isolated: script / Go evaluation (goal >= 1)", subjects[0].name, subjects[3].name)
	ratio("isolated: script / minimal Go evaluation", subjects[0].name, subjects[8].name)
	ratio("back-to-back: script / C evaluation (goal >= 25)", subjects[9].name, subjects[11].name)
	ratio("back-to-back: script / WAT evaluation", subjects[9].name, subjects[10].name)
	ratio("back-to-back: script / Go evaluation (goal >= 1)", subjects[9].name, subjects[12].name)
	ratio("Go evaluation: CloseOnContextDone / without", subjects[3].name, subjects[4].name)
	ratio("compute: CloseOnContextDone / without", subjects[5].name, subjects[6].name)
	ratio("Go: cold compile / warm load", loadSubjects[1].name, loadSubjects[3].name)
	ratio("C: cold compile / warm load", loadSubjects[0].name, loadSubjects[2].name)

	// Memory over a scan of a thousand evaluations, NumCPU at a time, in
	// a child process that holds only the engine (the RSS of this one
	// holds everything above).
	child := exec.Command(os.Args[0], "-test.run=^TestScanMemoryChild$", "-test.count=1")
	child.Env = append(os.Environ(), "AMAGENT_SCAN_CHILD=1")
	out, err := child.CombinedOutput()
	if err != nil {
		t.Fatalf("scan child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "scan of ") {
			fmt.Fprintln(&b, line)
		}
	}
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

// TestScanMemoryChild is the memory part of TestBenchReport, run in a child
// process: the RSS before, the peak during (VmHWM) and after a scan of a
// thousand evaluations (900 C, 100 Go), with the engine trimmed.
func TestScanMemoryChild(t *testing.T) {
	if os.Getenv("AMAGENT_SCAN_CHILD") != "1" {
		t.Skip("run by TestBenchReport")
	}
	ctx := context.Background()
	cfg := filepath.Join(t.TempDir(), "sshd_config")
	if err := os.WriteFile(cfg, []byte("PermitRootLogin no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := "[evaluate]\nread = [\"" + cfg + "\"]\n"
	e, err := NewEngine(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cmod := load(t, e, "check.wasm", "", read)
	gmod := load(t, e, "gomod.wasm", "", read+"[params.file]\ntype = \"string\"\n")
	env := LiveEnv(scanOf(t, `{"check": {"file": "`+cfg+`"}}`))
	jobs := make([]Job, 1000)
	for i := range jobs {
		jobs[i] = Job{Worklet: cmod}
		if i%10 == 0 {
			jobs[i] = Job{Worklet: gmod, Params: map[string]any{"file": cfg}}
		}
	}
	debug.FreeOSMemory()
	before := rssBytes()
	// Reset the peak so that it covers the scan, not the compilation.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	start := time.Now()
	for _, r := range e.Evaluate(ctx, jobs, env) {
		if r.Status != StatusCompliant {
			t.Fatalf("%+v", r)
		}
	}
	elapsed := time.Since(start)
	peak := procStatus("VmHWM")
	e.Trim()
	debug.FreeOSMemory()
	after := rssBytes()
	fmt.Printf("scan of 1000 evaluations (900 C, 100 Go), %d at a time, in %s: RSS %.1f MiB before, %.1f MiB peak (goal < 100), %.1f MiB after (goal < 30)\n",
		runtime.NumCPU(), elapsed.Round(time.Millisecond), mib(before), mib(peak), mib(after))
}

// procStatus reads a "kB" field of /proc/self/status, in bytes.
func procStatus(key string) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}
