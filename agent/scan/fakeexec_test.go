package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/amagent/amagent/agent/sysexec"
)

// fakeExec answers programs from a table keyed by the argv joined with
// spaces and records what was run. An argv not in the table fails the test.
type fakeExec struct {
	t       *testing.T
	mu      sync.Mutex
	answers map[string]fakeAnswer
	ran     []string
	reqs    []sysexec.Request
}

type fakeAnswer struct {
	res sysexec.Result
	err error
}

func (f *fakeExec) run(ctx context.Context, req sysexec.Request) (sysexec.Result, error) {
	key := strings.Join(req.Argv, " ")
	f.mu.Lock()
	f.ran = append(f.ran, key)
	f.reqs = append(f.reqs, req)
	a, ok := f.answers[key]
	f.mu.Unlock()
	if !ok {
		f.t.Errorf("unexpected program run: %q", key)
		return sysexec.Result{}, fmt.Errorf("%s: not recorded", key)
	}
	return a.res, a.err
}

func out(exit int, stdout string) fakeAnswer {
	return fakeAnswer{res: sysexec.Result{ExitCode: exit, Stdout: []byte(stdout)}}
}

func pmData(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("internal", "pkgmgr", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func progs(names ...string) fstest.MapFS {
	m := fstest.MapFS{}
	for _, n := range names {
		m[strings.TrimPrefix(n, "/")] = &fstest.MapFile{Data: []byte("#!\n"), Mode: 0o755}
	}
	return m
}

func pmEnv(t *testing.T, fsys fstest.MapFS, answers map[string]fakeAnswer) (*Env, *fakeExec) {
	f := &fakeExec{t: t, answers: answers}
	return &Env{FS: fsys, Exec: f.run, Timeout: 5 * time.Second, Now: time.Now}, f
}

// testdataFile reads a parser package's recorded output.
func testdataFile(t *testing.T, pkg, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("internal", pkg, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hangRunner is a program that never ends: it returns only when the
// request's timeout (which must be set) expires. Use it inside a synctest
// bubble so that no real time passes.
func hangRunner(ctx context.Context, req sysexec.Request) (sysexec.Result, error) {
	if req.Timeout <= 0 {
		return sysexec.Result{}, fmt.Errorf("%s: no timeout given", req.Argv[0])
	}
	ctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	<-ctx.Done()
	return sysexec.Result{ExitCode: -1}, fmt.Errorf("%s: %w after %s", req.Argv[0], sysexec.ErrTimeout, req.Timeout)
}
