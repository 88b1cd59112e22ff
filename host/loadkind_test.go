package host

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Issue 10 finding 2: a load error is charged to a module only when its own
// bytes or manifest caused it. Real loads, so that LoadErrorKind cannot
// drift from the messages the engine gives.
func TestLoadErrorKind(t *testing.T) {
	e, _ := newTestEngine(t, Limits{})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		dir  func(t *testing.T) string
		ctx  context.Context
		want string
	}{
		{"invalid module", func(t *testing.T) string {
			d := writeWorklet(t, "compute.wasm", "", "")
			os.WriteFile(filepath.Join(d, "m.wasm"), []byte("\x00asm\x01\x00\x00\x00garbage"), 0o644)
			return d
		}, nil, KindLoad},
		{"import outside the ABI", func(t *testing.T) string { return writeWorklet(t, "badimport.wasm", "", "") }, nil, KindLoad},
		{"import with a wrong signature", func(t *testing.T) string { return writeWorklet(t, "badsig.wasm", "", "") }, nil, KindLoad},
		{"no _start", func(t *testing.T) string { return writeWorklet(t, "nostart.wasm", "", "") }, nil, KindLoad},
		{"policy importing exec", func(t *testing.T) string { return writeWorklet(t, "execimport.wasm", "policy", "") }, nil, KindLoad},
		{"bad manifest", func(t *testing.T) string { return writeWorklet(t, "compute.wasm", "", "colour = \"blue\"\n") }, nil, KindLoad},
		{"sha256 mismatch", func(t *testing.T) string {
			return writeWorklet(t, "compute.wasm", "", fmt.Sprintf("sha256 = %q\n", "00000000000000000000000000000000000000000000000000000000000000ff"))
		}, nil, KindLoad},
		{"module file missing", func(t *testing.T) string {
			d := writeWorklet(t, "compute.wasm", "", "")
			os.Remove(filepath.Join(d, "m.wasm"))
			return d
		}, nil, KindHost},
		{"manifest unreadable", func(t *testing.T) string { return t.TempDir() }, nil, KindHost},
		{"canceled", func(t *testing.T) string { return writeWorklet(t, "gomin.wasm", "", "") }, canceled, KindCanceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			_, err := e.Load(ctx, tc.dir(t))
			if err == nil {
				t.Fatal("loaded")
			}
			if got := LoadErrorKind(err); got != tc.want {
				t.Fatalf("LoadErrorKind(%q) = %q, want %q", err, got, tc.want)
			}
			if ModuleFault(tc.want) != (tc.want == KindLoad) {
				t.Fatalf("ModuleFault(%q) = %v", tc.want, ModuleFault(tc.want))
			}
		})
	}
	if k := LoadErrorKind(&CompileLimitError{Reason: "x"}); k != KindCompileLimit || !ModuleFault(k) {
		t.Fatalf("compile limit: %q", k)
	}
	for _, k := range []string{KindCanceled, KindHost, ""} {
		if ModuleFault(k) {
			t.Fatalf("ModuleFault(%q) = true", k)
		}
	}
}
