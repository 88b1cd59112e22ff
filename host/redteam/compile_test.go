package redteam

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/host"
)

// Issue 9 finding 6: compiling was unbounded. A 120 KB module of 40,000
// nested blocks took 7 s and 107 MB to compile; a 3 MB one ran more than
// 10 minutes at 835 MB, ignoring SIGTERM, holding the engine's lock. The
// bomb modules are generated here rather than committed.

// section is one wasm section.
func section(id byte, body []byte) []byte {
	out := binary.AppendUvarint([]byte{id}, uint64(len(body)))
	return append(out, body...)
}

// wasmModule builds a worklet module: it imports WASI's proc_exit
// (function 0), defines one function of type () -> () per body (the
// instructions, without the final end), exports a memory and the first
// defined function as _start.
func wasmModule(bodies ...[]byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, []byte{2, 0x60, 0, 0, 0x60, 1, 0x7f, 0})...)
	imp := []byte{1}
	imp = append(imp, 22)
	imp = append(imp, "wasi_snapshot_preview1"...)
	imp = append(imp, 9)
	imp = append(imp, "proc_exit"...)
	imp = append(imp, 0x00, 1)
	m = append(m, section(2, imp)...)
	funcs := binary.AppendUvarint(nil, uint64(len(bodies)))
	for range bodies {
		funcs = append(funcs, 0)
	}
	m = append(m, section(3, funcs)...)
	m = append(m, section(5, []byte{1, 0, 1})...)
	exp := []byte{2, 6}
	exp = append(exp, "memory"...)
	exp = append(exp, 0x02, 0, 6)
	exp = append(exp, "_start"...)
	exp = append(exp, 0x00, 1)
	m = append(m, section(7, exp)...)
	code := binary.AppendUvarint(nil, uint64(len(bodies)))
	for _, b := range bodies {
		fn := append(append([]byte{0}, b...), 0x0b) // no locals
		code = binary.AppendUvarint(code, uint64(len(fn)))
		code = append(code, fn...)
	}
	return append(m, section(10, code)...)
}

// exitBody calls proc_exit(code).
func exitBody(code byte) []byte { return []byte{0x41, code, 0x10, 0} }

// nestedBlocks is n blocks, each inside the one before.
func nestedBlocks(n int) []byte {
	b := make([]byte, 0, 3*n)
	for range n {
		b = append(b, 0x02, 0x40)
	}
	for range n {
		b = append(b, 0x0b)
	}
	return b
}

// blockRun is n empty blocks one after another: within the structural
// bounds for n up to 12,000, and about half a second of compiling each.
func blockRun(n int) []byte {
	b := make([]byte, 0, 3*n)
	for range n {
		b = append(b, 0x02, 0x40, 0x0b)
	}
	return b
}

// hugeBomb is several MB of pathological code that passes every
// structural bound: functions of 11,000 blocks each, which together would
// take minutes to compile.
func hugeBomb(functions int) []byte {
	bodies := [][]byte{exitBody(0)}
	run := blockRun(11_000)
	for range functions {
		bodies = append(bodies, run)
	}
	return wasmModule(bodies...)
}

// moduleWorklet writes wasm and a manifest for it into a fresh directory.
func moduleWorklet(t testing.TB, name string, wasm []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "worklet.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := "abi = 1\nkind = \"worklet\"\nname = \"" + name + "\"\nversion = \"1.0.0\"\nmodule = \"worklet.wasm\"\n"
	if err := os.WriteFile(filepath.Join(dir, host.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// loadRefused loads dir and wants a compile-limit refusal within limit;
// it returns the refusal.
func loadRefused(t *testing.T, e *host.Engine, dir string, limit time.Duration) *host.CompileLimitError {
	t.Helper()
	start := time.Now()
	_, err := e.Load(context.Background(), dir)
	took := time.Since(start)
	var refused *host.CompileLimitError
	if !errors.As(err, &refused) {
		t.Fatalf("load: %v (after %s), want a compile limit", err, took)
	}
	if took > limit {
		t.Errorf("refused after %s, want within %s", took, limit)
	}
	if r := host.LoadErrorResult("bomb", host.PhaseEvaluate, err); r.ErrorKind != host.KindCompileLimit || !strings.HasPrefix(r.Error, "compile limit: ") {
		t.Errorf("result kind %q error %q, want %q", r.ErrorKind, r.Error, host.KindCompileLimit)
	}
	return refused
}

// TestCompileBombNestedBlocks: 40,000 nested blocks (120 KB) are refused
// by the structural bounds before anything compiles them, at once and again
// at once. Failed before the fix: the module compiled for 7 s and 107 MB.
func TestCompileBombNestedBlocks(t *testing.T) {
	e, logs := engine(t, host.Limits{})
	wasm := wasmModule(append(nestedBlocks(40_000), exitBody(0)...))
	if len(wasm) < 100_000 || len(wasm) > 150_000 {
		t.Fatalf("bomb is %d bytes, want about 120 KB", len(wasm))
	}
	dir := moduleWorklet(t, "nested-bomb", wasm)
	r := loadRefused(t, e, dir, time.Second)
	if !strings.Contains(r.Reason, "over the bound") {
		t.Errorf("reason %q: want the structural bound named", r.Reason)
	}
	loadRefused(t, e, dir, 100*time.Millisecond) // remembered
	if !strings.Contains(logs.String(), "compile limit") {
		t.Errorf("no log line names the refusal:\n%s", logs)
	}
}

// TestCompileBombHugeInProcess: a module of several MB within the
// structural bounds is refused at the compile timeout when it compiles in
// the engine's own process (no compile process: tools and tests), and the
// engine's lock is free meanwhile: another module loads while it compiles.
// Failed before the fix: the load ran for minutes holding the engine lock.
func TestCompileBombHugeInProcess(t *testing.T) {
	e, _ := engine(t, host.Limits{CompileTimeout: time.Second})
	// Eight functions: about 4 s of compiling, which the abandoned
	// goroutine finishes in the background; a larger module would only
	// burn the test machine's CPU for longer.
	bomb := moduleWorklet(t, "huge-bomb", hugeBomb(8))
	ok := moduleWorklet(t, "exit-zero", wasmModule(exitBody(0)))
	var wg sync.WaitGroup
	wg.Go(func() { loadRefused(t, e, bomb, 3*time.Second) })
	time.Sleep(100 * time.Millisecond) // let the bomb's compile start
	start := time.Now()
	if res := runLive(t, e, ok, host.PhaseEvaluate, nil); res.Status != host.StatusCompliant {
		t.Errorf("another module while the bomb compiles: %+v", res)
	}
	if took := time.Since(start); took > 900*time.Millisecond {
		t.Errorf("another module took %s to load and run while the bomb compiled: the engine was held", took)
	}
	wg.Wait()
}

func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var (
	agentOnce sync.Once
	agentBin  string
	agentErr  error
)

// amagent builds the agent binary once for the compile-process tests.
func amagent(t *testing.T) string {
	t.Helper()
	agentOnce.Do(func() {
		dir, err := os.MkdirTemp("", "redteam-amagent")
		if err != nil {
			agentErr = err
			return
		}
		agentBin = filepath.Join(dir, "amagent")
		cmd := exec.Command("go", "build", "-o", agentBin, "./agent/cmd/amagent")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			agentErr = errors.New(string(out))
		}
	})
	if agentErr != nil {
		t.Fatalf("go build ./agent/cmd/amagent: %v", agentErr)
	}
	return agentBin
}

// childEngine is an engine that compiles in the agent's compile process.
func childEngine(t *testing.T, cache string, lim host.Limits) (*host.Engine, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	e, err := host.NewEngine(context.Background(), host.Options{
		CacheDir: cache, Limits: lim, Log: slogTo(logs),
		CompileCommand: []string{amagent(t), host.CompileChildCommand},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e, logs
}

// TestCompileBombHugeInChild: the agent compiles in a child process under
// the deadline and rlimits. A several-MB bomb within the structural bounds
// is refused at the deadline (the child killed, nothing left compiling), a
// restarted agent refuses it at once without compiling (the refusal is kept
// in the cache directory), and an ordinary module compiles in the child and
// runs. Failed before the fix: the 3 MB module ran for more than 10 minutes.
func TestCompileBombHugeInChild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	cache := filepath.Join(t.TempDir(), "cache")
	lim := host.Limits{CompileTimeout: 2 * time.Second}
	e, logs := childEngine(t, cache, lim)
	bomb := moduleWorklet(t, "huge-bomb", hugeBomb(150)) // ~5 MB, over a minute of compiling
	r := loadRefused(t, e, bomb, 4*time.Second)
	if !strings.Contains(r.Reason, "sandbox.compile_timeout") {
		t.Errorf("reason %q: want the compile timeout named", r.Reason)
	}
	ok := moduleWorklet(t, "exit-one", wasmModule(exitBody(1)))
	if res := runLive(t, e, ok, host.PhaseEvaluate, nil); res.Status != host.StatusNonCompliant {
		t.Errorf("an ordinary module compiled in the child: %+v", res)
	}
	if strings.Contains(logs.String(), "could not run") {
		t.Errorf("the compile process did not run:\n%s", logs)
	}

	restarted, _ := childEngine(t, cache, lim)
	loadRefused(t, restarted, bomb, 200*time.Millisecond)
}

// TestCompileMemoryBoundInChild: a compile that needs more memory than
// sandbox.compile_memory ends in the child (RLIMIT_AS/RLIMIT_DATA), and
// the module is refused as a compile limit naming the memory bound.
// Failed before the fix: compiling took whatever memory it needed, in the
// agent (835 MB for the 3 MB module).
func TestCompileMemoryBoundInChild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the compile process's memory is bounded on Linux only (RLIMIT_AS, RLIMIT_DATA)")
	}
	cache := filepath.Join(t.TempDir(), "cache")
	// 12 MiB over what the child maps at start: one function of 11,000
	// blocks needs several times that.
	e, _ := childEngine(t, cache, host.Limits{CompileMemory: 12 << 20})
	dir := moduleWorklet(t, "memory-bomb", wasmModule(exitBody(0), blockRun(11_000), blockRun(11_000)))
	r := loadRefused(t, e, dir, 20*time.Second)
	if !strings.Contains(r.Reason, "sandbox.compile_memory") {
		t.Errorf("reason %q: want the memory bound named", r.Reason)
	}
}
