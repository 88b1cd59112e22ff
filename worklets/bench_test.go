//go:build !wasip1

package worklets

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/host"
)

// benchRecording is a real recorded scan of the build machine (Debian 12,
// about 900 packages, 130 pending updates), made with
// `amagent scan --record worklets/testdata/recorded-scan.json --worklet worklets/X ...`
// for all thirteen example modules.
const benchRecording = "testdata/recorded-scan.json"

// benchParams are the parameters of the modules that need some beyond
// their defaults to check anything.
var benchParams = map[string]map[string]any{
	"package-min-version": {"package": "openssl", "min_version": "3.0.0"},
	"required-software":   {"packages": []any{"openssl>=3.0.0", "bash>=5.2", "ca-certificates", "coreutils>=9.1", "zlib1g>=1:1.2.13"}},
}

// benchSet is every example module loaded once (compiled, warm) with the
// replay environment of the recording.
type benchSet struct {
	eng  *host.Engine
	jobs []host.Job
	env  *host.Environment
	rec  *host.Recording
}

var (
	benchOnce sync.Once
	benchVal  *benchSet
	benchErr  error
)

func loadBenchSet(tb testing.TB) *benchSet {
	tb.Helper()
	benchOnce.Do(func() { benchVal, benchErr = newBenchSet() })
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return benchVal
}

func newBenchSet() (*benchSet, error) {
	ctx := context.Background()
	raw, err := os.ReadFile(benchRecording)
	if err != nil {
		return nil, err
	}
	rec, err := host.ParseRecording(raw)
	if err != nil {
		return nil, err
	}
	env, err := host.ReplayEnv(rec)
	if err != nil {
		return nil, err
	}
	eng, err := host.NewEngine(ctx, host.Options{})
	if err != nil {
		return nil, err
	}
	manifests, err := filepath.Glob("*/worklet.toml")
	if err != nil {
		return nil, err
	}
	sort.Strings(manifests)
	s := &benchSet{eng: eng, env: env, rec: rec}
	for _, m := range manifests {
		w, err := eng.Load(ctx, filepath.Dir(m))
		if err != nil {
			return nil, err
		}
		params, err := w.Manifest.ResolveParams(benchParams[w.Manifest.Name])
		if err != nil {
			return nil, err
		}
		s.jobs = append(s.jobs, host.Job{Worklet: w, Params: params})
	}
	return s, nil
}

// BenchmarkScanAllWorklets is what the example modules add to a scan: one
// Engine.Evaluate of all of them (as many at a time as there are cores),
// compiled modules cached, against the recorded scan of a real machine.
// The metrics are each module's mean run time within those evaluations.
func BenchmarkScanAllWorklets(b *testing.B) {
	s := loadBenchSet(b)
	ctx := context.Background()
	per := make([]time.Duration, len(s.jobs))
	for b.Loop() {
		for i, r := range s.eng.Evaluate(ctx, s.jobs, s.env) {
			if r.Status == host.StatusError {
				b.Fatalf("%s: %s", r.Name, r.Error)
			}
			per[i] += r.Duration
		}
	}
	for i, j := range s.jobs {
		b.ReportMetric(float64(per[i].Microseconds())/1000/float64(b.N), j.Worklet.Manifest.Name+"-ms")
	}
}

// TestBenchSetOutcomes pins what the modules decide on the recorded scan,
// so that the benchmark measures real checks, not early errors.
func TestBenchSetOutcomes(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every module; skipped with -short")
	}
	s := loadBenchSet(t)
	got := map[string]string{}
	for _, r := range s.eng.Evaluate(t.Context(), s.jobs, s.env) {
		got[r.Name] = r.Status
		t.Logf("%-24s %-15s %6.2f ms  %s", r.Name, r.Status, float64(r.Duration.Microseconds())/1000, r.Message)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range got {
			if !yield(k) {
				return
			}
		}
	})
	if len(names) != 13 {
		t.Fatalf("%d modules: %v", len(names), names)
	}
	for name, st := range got {
		if st == host.StatusError {
			t.Errorf("%s: error", name)
		}
	}
}
