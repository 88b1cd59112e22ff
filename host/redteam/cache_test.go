package redteam

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
)

// Issue 9 finding 9 and issue 10 finding 1: the compiled-code cache was
// trusted unchecked (swapping two entries swapped the modules' behaviour),
// and a damaged entry failed every load of its module until the worklet was
// quarantined for good.

// cacheEntries lists wazero's entry files under the cache directory.
func cacheEntries(t *testing.T, cache string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		} else if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasPrefix(filepath.Base(filepath.Dir(p)), "wazero-") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compileInto loads dir with a fresh engine on cache and returns the entry
// files that appeared.
func compileInto(t *testing.T, cache, dir string) string {
	t.Helper()
	before := cacheEntries(t, cache)
	e := newCacheEngine(t, cache, nil)
	if _, err := e.Load(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range cacheEntries(t, cache) {
		if !slices.Contains(before, p) {
			return p
		}
	}
	t.Fatalf("loading %s wrote no cache entry", dir)
	return ""
}

// newCacheEngine is an engine on the cache directory cache (a restarted
// agent), logging into logs when given.
func newCacheEngine(t *testing.T, cache string, logs *logBuffer) *host.Engine {
	t.Helper()
	if logs == nil {
		logs = &logBuffer{}
	}
	e, err := host.NewEngine(context.Background(), host.Options{CacheDir: cache, Log: slogTo(logs)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

// TestCacheSwappedEntriesDoNotSwapBehaviour: two modules' entries with
// their contents swapped are detected before use, recompiled, and each
// module behaves as itself. Failed before the fix: the compliant module
// ran the other's code and ended non-compliant.
func TestCacheSwappedEntriesDoNotSwapBehaviour(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	zero := moduleWorklet(t, "exit-zero", wasmModule(exitBody(0)))
	one := moduleWorklet(t, "exit-one", wasmModule(append([]byte{0x01}, exitBody(1)...))) // nop first: another function length
	a, b := compileInto(t, cache, zero), compileInto(t, cache, one)
	ab, err := os.ReadFile(a)
	mustDo(t, err)
	bb, err := os.ReadFile(b)
	mustDo(t, err)
	mustDo(t, os.WriteFile(a, bb, 0o600))
	mustDo(t, os.WriteFile(b, ab, 0o600))

	logs := &logBuffer{}
	e := newCacheEngine(t, cache, logs)
	if res := runLive(t, e, zero, host.PhaseEvaluate, nil); res.Status != host.StatusCompliant {
		t.Errorf("exit-zero after the swap: %s %s, want compliant", res.Status, res.Error)
	}
	if res := runLive(t, e, one, host.PhaseEvaluate, nil); res.Status != host.StatusNonCompliant {
		t.Errorf("exit-one after the swap: %s %s, want non-compliant", res.Status, res.Error)
	}
	if n := strings.Count(logs.String(), "was damaged; compiling again"); n != 2 {
		t.Errorf("%d damage warnings, want one per module:\n%s", n, logs)
	}
}

// TestCacheTruncatedEntryHeals: a truncated entry is deleted, logged at
// WARN once, and compiled again; the worklet runs every time and the next
// engine finds a good entry. Failed before the fix: every load failed with
// "compilationcache: error reading executable: unexpected EOF", nothing
// at WARN, and the fourth scan quarantined the worklet.
func TestCacheTruncatedEntryHeals(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	dir := moduleWorklet(t, "exit-one", wasmModule(exitBody(1)))
	entry := compileInto(t, cache, dir)
	fi, err := os.Stat(entry)
	mustDo(t, err)
	mustDo(t, os.Truncate(entry, fi.Size()/2))

	logs := &logBuffer{}
	e := newCacheEngine(t, cache, logs)
	for i := range 4 { // four scans, the agent forgetting its modules between them
		res := runLive(t, e, dir, host.PhaseEvaluate, nil)
		if res.Status != host.StatusNonCompliant || res.ErrorKind != "" {
			t.Fatalf("scan %d: %s %s, want non-compliant", i+1, res.Status, res.Error)
		}
		e.Forget(context.Background(), nil)
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"compiled-code cache entry for exit-one was damaged; compiling again\""); n != 1 {
		t.Errorf("%d damage warnings at WARN, want 1:\n%s", n, logs)
	}
	logs2 := &logBuffer{}
	res := runLive(t, newCacheEngine(t, cache, logs2), dir, host.PhaseEvaluate, nil)
	if res.Status != host.StatusNonCompliant || strings.Contains(logs2.String(), "damaged") {
		t.Errorf("after healing: %s %s\n%s", res.Status, res.Error, logs2)
	}
}

// TestCacheKeyFileIsPrivate: the digest key is 32 bytes in a 0600 file.
// Failed before the fix: there was no key (entries were not checked).
func TestCacheKeyFileIsPrivate(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	newCacheEngine(t, cache, nil)
	fi, err := os.Stat(filepath.Join(cache, "key"))
	mustDo(t, err)
	if fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Errorf("key file mode %v size %d, want 0600 and 32 bytes", fi.Mode().Perm(), fi.Size())
	}
}
