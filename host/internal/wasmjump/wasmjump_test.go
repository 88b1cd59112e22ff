package wasmjump

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// newRuntime is the host's configuration: the compiler (where it runs)
// with WithCloseOnContextDone.
func newRuntime(t *testing.T) wazero.Runtime {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	t.Cleanup(func() { rt.Close(ctx) })
	return rt
}

func TestDispatchShapes(t *testing.T) {
	orig, err := os.ReadFile("testdata/dispatch.wasm")
	if err != nil {
		t.Fatal(err)
	}
	out, st, err := rewrite(orig)
	if err != nil {
		t.Fatal(err)
	}
	// sum: 2 forward, 1 backward; spin: 1 forward, 1 backward; odd: the
	// br to the loop after "local.set $n" is not the shape; pick: 2
	// forward, and its loop is a block.
	want := Stats{Functions: 4, Dispatch: 4, Rewritten: 5, Backward: 2, Unlooped: 1}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
	ctx := context.Background()
	rt := newRuntime(t)
	instance := func(wasm []byte) api.Module {
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		m, err := rt.InstantiateModule(ctx, cm, wazero.NewModuleConfig().WithName(""))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := instance(orig), instance(out)
	call := func(m api.Module, name string, args ...uint64) uint64 {
		t.Helper()
		r, err := m.ExportedFunction(name).Call(ctx, args...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r[0]
	}
	for _, n := range []uint64{0, 1, 2, 10, 1000} {
		if x, y := call(a, "sum", n), call(b, "sum", n); x != y || x != n*(n-1)/2 {
			t.Errorf("sum(%d): %d before, %d after", n, x, y)
		}
	}
	if x, y := call(a, "odd"), call(b, "odd"); x != 1 || y != 1 {
		t.Errorf("odd: %d before, %d after", x, y)
	}
	for _, x := range []uint64{0, 1, 7} {
		if p, q := call(a, "pick", x), call(b, "pick", x); p != q || (p == 10) != (x == 0) {
			t.Errorf("pick(%d): %d before, %d after", x, p, q)
		}
	}
	// Only pick's loop opcode became a block.
	if n, m := bytes.Count(orig, []byte{0x03, 0x40}), bytes.Count(out, []byte{0x03, 0x40}); n-m != 1 {
		t.Errorf("%d loops before, %d after", n, m)
	}

	// The rewritten loop is still stopped by a deadline.
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := b.ExportedFunction("spin").Call(sctx)
		done <- err
	}()
	select {
	case err := <-done:
		var ee *sys.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != sys.ExitCodeDeadlineExceeded {
			t.Errorf("spin ended with %v, want the deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("spin was not stopped by its deadline")
	}
}

func TestNotRewritten(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("hello"), []byte("\x00asm\x01\x00\x00\x00")} {
		if !bytes.Equal(Rewrite(in), in) {
			t.Errorf("Rewrite(%q) changed it", in)
		}
	}
	// A C module has no dispatch loops.
	c, err := os.ReadFile("../../testdata/check.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Rewrite(c), c) {
		t.Error("a C module was rewritten")
	}
	// A truncated module is left alone.
	g, err := os.ReadFile("../../testdata/gomod.wasm")
	if err != nil {
		t.Fatal(err)
	}
	if cut := g[:len(g)/2]; !bytes.Equal(Rewrite(cut), cut) {
		t.Error("a truncated module was rewritten")
	}
	// An opcode the decoder does not know leaves the function alone.
	fn := []byte{0x00, 0xfd, 0x0c, 0x0b}
	if _, _, err := rewriteFunc(fn); err == nil {
		t.Error("a SIMD function was decoded")
	}
}

// TestGoProgram builds a Go program that exercises goroutine switches
// (which unwind and resume through the dispatch loops), stack growth,
// panics and the collector, runs it before and after the rewrite, and
// compares the transcripts; then checks that the rewritten program's
// endless loops are still stopped by a deadline.
func TestGoProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	wasmPath := filepath.Join(t.TempDir(), "gostress.wasm")
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", wasmPath, "./testdata/gostress")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	orig, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	out, st, err := rewrite(orig)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rewritten < 1000 || st.Unlooped < 100 || st.SkippedFunc != 0 {
		t.Errorf("stats %+v", st)
	}
	ctx := context.Background()
	rt := newRuntime(t)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	run := func(ctx context.Context, wasm []byte, args ...string) (string, error) {
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		cfg := wazero.NewModuleConfig().WithName("").WithArgs(append([]string{"gostress"}, args...)...).
			WithStdout(&stdout).WithStderr(&stderr)
		m, err := rt.InstantiateModule(ctx, cm, cfg)
		if m != nil {
			m.Close(ctx)
		}
		if stderr.Len() > 0 {
			t.Logf("stderr: %s", stderr.String())
		}
		return stdout.String(), err
	}
	before, err := run(ctx, orig)
	if err != nil {
		t.Fatalf("before the rewrite: %v", err)
	}
	after, err := run(ctx, out)
	if err != nil {
		t.Fatalf("after the rewrite: %v", err)
	}
	if before != after {
		t.Fatalf("transcripts differ:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if n := bytes.Count([]byte(before), []byte("\n")); n != 13 {
		t.Errorf("%d lines:\n%s", n, before)
	}
	for _, mode := range []string{"spin", "spincall"} {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := run(dctx, out, mode)
		cancel()
		var ee *sys.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != sys.ExitCodeDeadlineExceeded {
			t.Errorf("%s ended with %v, want the deadline", mode, err)
		}
	}
}

// TestGoModule runs the host's Go test module before and after the
// rewrite on the same input.
func TestGoModule(t *testing.T) {
	orig, err := os.ReadFile("../../testdata/gomod.wasm")
	if err != nil {
		t.Fatal(err)
	}
	out, st, err := rewrite(orig)
	if err != nil {
		t.Fatal(err)
	}
	if st.Functions != 2236 || st.Rewritten < 10000 || st.Unlooped < 500 || st.SkippedFunc != 0 {
		t.Errorf("stats %+v", st)
	}
	ctx := context.Background()
	rt := newRuntime(t)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	_, err = rt.NewHostModuleBuilder("amagent").
		NewFunctionBuilder().WithFunc(func(uint32, uint32) int32 { return -1 }).Export("fact").
		NewFunctionBuilder().WithFunc(func(uint32, uint32) int32 { return 0 }).Export("response").
		Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cfg"), []byte("a\nPermitRootLogin no\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(wasm []byte) (string, uint32) {
		cm, err := rt.CompileModule(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		var stdout bytes.Buffer
		in := `{"phase":"evaluate","params":{"file":"/cfg"}}`
		cfg := wazero.NewModuleConfig().WithName("").WithStdin(bytes.NewReader([]byte(in))).WithStdout(&stdout).
			WithFSConfig(wazero.NewFSConfig().WithReadOnlyDirMount(dir, "/"))
		m, err := rt.InstantiateModule(ctx, cm, cfg)
		var code uint32
		var ee *sys.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if m != nil {
			m.Close(ctx)
		}
		return stdout.String(), code
	}
	s1, c1 := run(orig)
	s2, c2 := run(out)
	if s1 != s2 || c1 != c2 || c1 != 0 || s1 == "" {
		t.Errorf("before: %q exit %d; after: %q exit %d", s1, c1, s2, c2)
	}
}
