package host

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/amagent/amagent/agent/sysexec"
)

// The benchmarks behind `make bench` (see README.md for the figures).
// Each compares against a baseline measured in the same run: the same
// check as a shell script that the agent spawns.

type benchModule struct {
	name, wasm, body string
	params           map[string]any
}

func benchModules(b *testing.B) (cfg string, mods []benchModule) {
	dir := b.TempDir()
	cfg = filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte("Port 22\nPermitRootLogin no\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	read := "[evaluate]\nread = [\"" + cfg + "\"]\n"
	return cfg, []benchModule{
		{"wat", "exit.wasm", "", nil},
		{"c", "check.wasm", read, nil},
		{"go", "gomod.wasm", read + "[params.file]\ntype = \"string\"\n", map[string]any{"file": cfg}},
	}
}

func benchManifest(b *testing.B, m benchModule) (*Manifest, []byte) {
	dir := writeWorklet(b, m.wasm, "", m.body)
	man, err := LoadManifest(dir)
	if err != nil {
		b.Fatal(err)
	}
	wasm, err := os.ReadFile(filepath.Join(dir, man.Module))
	if err != nil {
		b.Fatal(err)
	}
	return man, wasm
}

// BenchmarkCompileCold compiles a module with no cache at all.
func BenchmarkCompileCold(b *testing.B) {
	_, mods := benchModules(b)
	for _, m := range mods[1:] {
		b.Run(m.name, func(b *testing.B) {
			man, wasm := benchManifest(b, m)
			ctx := context.Background()
			for b.Loop() {
				b.StopTimer()
				e, err := NewEngine(ctx, Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := e.LoadModule(ctx, man, "", wasm); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				e.Close(ctx)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkLoadWarm loads a module compiled earlier by another engine,
// from the on-disk cache (an agent restart).
func BenchmarkLoadWarm(b *testing.B) {
	_, mods := benchModules(b)
	for _, m := range mods[1:] {
		b.Run(m.name, func(b *testing.B) {
			man, wasm := benchManifest(b, m)
			ctx := context.Background()
			cache := b.TempDir()
			e, err := NewEngine(ctx, Options{CacheDir: cache})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := e.LoadModule(ctx, man, "", wasm); err != nil {
				b.Fatal(err)
			}
			e.Close(ctx)
			for b.Loop() {
				b.StopTimer()
				e, err := NewEngine(ctx, Options{CacheDir: cache})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := e.LoadModule(ctx, man, "", wasm); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				e.Close(ctx)
				b.StartTimer()
			}
		})
	}
}

// BenchmarkEvaluate is one evaluation: instantiate, run, close.
func BenchmarkEvaluate(b *testing.B) {
	cfg, mods := benchModules(b)
	e, _ := newTestEngine(b, Limits{})
	for _, m := range mods {
		b.Run(m.name, func(b *testing.B) {
			w := load(b, e, m.wasm, "", m.body)
			env := LiveEnv(scanOf(b, `{"hostname": "bench", "exit": 0, "check": {"file": "`+cfg+`"}}`))
			for b.Loop() {
				r := e.Run(context.Background(), w, PhaseEvaluate, m.params, env)
				if r.Status != StatusCompliant {
					b.Fatalf("%+v", r)
				}
			}
		})
	}
}

// BenchmarkScript is the baseline: the same check as a shell script
// (grep) that the agent spawns through sysexec.
func BenchmarkScript(b *testing.B) {
	cfg, _ := benchModules(b)
	script, err := filepath.Abs("testdata/check.sh")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		res, err := sysexec.Run(context.Background(), sysexec.Request{Argv: []string{"bash", script, cfg}})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("%v %+v", err, res)
		}
	}
}

// BenchmarkFactCall is one amagent.fact call from the guest (the guest
// loops; the time is per call).
func BenchmarkFactCall(b *testing.B) {
	e, _ := newTestEngine(b, Limits{})
	w := load(b, e, "factloop.wasm", "", "")
	ctx := context.Background()
	env := LiveEnv(scanOf(b, `{"os": {"version": "12.5"}}`))
	st := &runState{name: "bench", env: env, maxHostBytes: 1 << 62, log: e.log}
	ctx = context.WithValue(ctx, runStateKey{}, st)
	mod, err := e.rt.InstantiateModule(ctx, w.compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		b.Fatal(err)
	}
	defer mod.Close(ctx)
	fn := mod.ExportedFunction("loop")
	b.ResetTimer()
	res, err := fn.Call(ctx, uint64(b.N/10+1)) // ten calls per iteration
	if err != nil || int32(res[0]) != 6 {
		b.Fatalf("%v %v", res, err)
	}
}

// BenchmarkCompute is a compute-heavy module with and without
// WithCloseOnContextDone (which costs a check in every loop).
func BenchmarkCompute(b *testing.B) {
	for _, c := range []struct {
		name string
		off  bool
	}{{"closeOnDone", false}, {"noCloseOnDone", true}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			e, err := NewEngine(ctx, Options{noCloseOnDone: c.off})
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close(ctx)
			w := load(b, e, "compute.wasm", "", "")
			env := LiveEnv(scanOf(b, `{}`))
			for b.Loop() {
				if r := e.Run(ctx, w, PhaseEvaluate, nil, env); r.Status != StatusCompliant {
					b.Fatalf("%+v", r)
				}
			}
		})
	}
}
