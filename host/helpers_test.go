package host

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a log sink safe for concurrent runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestEngine makes an engine logging into a buffer.
func newTestEngine(t testing.TB, lim Limits) (*Engine, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	e, err := NewEngine(context.Background(), Options{
		CacheDir: filepath.Join(t.TempDir(), "cache"), Limits: lim,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e, logs
}

// worklet writes a worklet directory with the test module wasmName and the
// manifest body (after the common header) and loads it.
func writeWorklet(t testing.TB, wasmName, kind, body string) string {
	t.Helper()
	dir := t.TempDir()
	wasm, err := os.ReadFile(filepath.Join("testdata", wasmName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	if kind == "" {
		kind = "worklet"
	}
	manifest := "abi = 1\nkind = \"" + kind + "\"\nname = \"t-" + strings.TrimSuffix(wasmName, ".wasm") + "\"\nversion = \"1.0.0\"\nmodule = \"m.wasm\"\n" + body
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t testing.TB, e *Engine, wasmName, kind, body string) *Worklet {
	t.Helper()
	w, err := e.Load(context.Background(), writeWorklet(t, wasmName, kind, body))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func scanOf(t testing.TB, doc string) *Scan {
	t.Helper()
	s, err := NewScan([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// probeScan is a scan document that tells the probe module what to do.
func probeScan(action, arg string) string {
	q := func(s string) string {
		b := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
		return `"` + b + `"`
	}
	return `{"os": {"family": "linux", "version": "12"}, "hostname": "box", "probe": {"action": ` + q(action) + `, "arg": ` + q(arg) + `}}`
}
