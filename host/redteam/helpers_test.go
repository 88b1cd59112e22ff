package redteam

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/amagent/amagent/host"
)

// logBuffer is a log sink safe for concurrent runs.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// engine makes an engine with the agent's limits lim, logging into a buffer.
func engine(t testing.TB, lim host.Limits) (*host.Engine, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	e, err := host.NewEngine(context.Background(), host.Options{
		CacheDir: filepath.Join(t.TempDir(), "cache"), Limits: lim,
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e, logs
}

// moduleDir is testdata/redteam/<name> from this package.
func moduleDir(name string) string {
	return filepath.Join("..", "..", "testdata", "redteam", name)
}

// worklet copies the module testdata/redteam/<name>/worklet.wasm into a
// fresh directory with the manifest body given (after a common header
// naming it), so that a test can grant it the paths of its own temporary
// directories.
func worklet(t testing.TB, name, body string) string {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join(moduleDir(name), "worklet.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "worklet.wasm"), wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := "abi = 1\nkind = \"worklet\"\nname = \"rt-" + strings.ReplaceAll(name, "_", "-") +
		"\"\nversion = \"1.0.0\"\nmodule = \"worklet.wasm\"\n" + body
	if err := os.WriteFile(filepath.Join(dir, host.ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runLive loads dir and runs phase live on this machine with params.
func runLive(t testing.TB, e *host.Engine, dir, phase string, params map[string]any) host.Result {
	t.Helper()
	w, err := e.Load(context.Background(), dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	scan, err := host.NewScan([]byte(`{"os": {"family": "linux"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return e.Run(context.Background(), w, phase, params, host.LiveEnv(scan))
}
