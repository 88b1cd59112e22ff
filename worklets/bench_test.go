//go:build !wasip1

package worklets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/sysexec"
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

	engineOnce sync.Once
	engineVal  *host.Engine
	engineErr  error
)

// sharedEngine is one engine for every test and benchmark of the package,
// so that each module is compiled once (a Go module takes seconds).
func sharedEngine(tb testing.TB) *host.Engine {
	tb.Helper()
	engineOnce.Do(func() { engineVal, engineErr = host.NewEngine(context.Background(), host.Options{}) })
	if engineErr != nil {
		tb.Fatal(engineErr)
	}
	return engineVal
}

func loadBenchSet(tb testing.TB) *benchSet {
	tb.Helper()
	eng := sharedEngine(tb)
	benchOnce.Do(func() { benchVal, benchErr = newBenchSet(eng) })
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return benchVal
}

func newBenchSet(eng *host.Engine) (*benchSet, error) {
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
		// Only the modules with a shell twin are compared: a new worklet
		// folder needs no script here (and no edit of this file).
		if _, err := os.Stat(shellScript(w.Manifest.Name)); err != nil {
			continue
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
	reportPerModule(b, s, per)
}

// reportPerModule adds each module's (or script's) mean time per
// iteration to the benchmark's output, as "<name>-ms".
func reportPerModule(b *testing.B, s *benchSet, total []time.Duration) {
	for i, j := range s.jobs {
		b.ReportMetric(float64(total[i].Microseconds())/1000/float64(b.N), j.Worklet.Manifest.Name+"-ms")
	}
}

// shellRoot writes the recording where the shell checks read it (see
// bench/shell/lib.sh): the scan document as the modules get it, the files
// at their paths under files/, and each recorded program run under exec/.
func shellRoot(tb testing.TB, rec *host.Recording) string {
	tb.Helper()
	root := tb.TempDir()
	write := func(p string, b []byte) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	write(filepath.Join(root, "scan.json"), rec.Scan)
	for p, content := range rec.Files {
		write(filepath.Join(root, "files", filepath.FromSlash(p)), []byte(content))
	}
	for _, e := range rec.Exec {
		name := filepath.Join(root, "exec", strings.ReplaceAll(strings.Join(e.Argv, " "), "/", "%"))
		write(name+".rc", []byte(fmt.Sprintln(e.ExitCode)))
		write(name+".out", []byte(e.Stdout))
		write(name+".err", []byte(e.Stderr))
	}
	return root
}

// shellChecks are the scripts in bench/shell, one per module, by name.
// They need a POSIX system with sh, grep, sed, awk and dpkg.
func shellChecks(tb testing.TB, s *benchSet) []string {
	tb.Helper()
	for _, prog := range []string{"sh", "grep", "sed", "awk", "cat", "dpkg"} {
		if _, err := sysexec.LookPath(prog); err != nil || runtime.GOOS == "windows" {
			tb.Skipf("the shell versions of the checks need %s: %v", prog, err)
		}
	}
	var out []string
	for _, j := range s.jobs {
		p, err := filepath.Abs(shellScript(j.Worklet.Manifest.Name))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// shellScript is the path of the shell twin of the module called name.
func shellScript(name string) string { return filepath.Join("bench", "shell", name+".sh") }

// shellTwins are the names of the scripts in bench/shell (lib.sh aside).
func shellTwins(tb testing.TB) []string {
	tb.Helper()
	scripts, err := filepath.Glob(filepath.Join("bench", "shell", "*.sh"))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, p := range scripts {
		if name := strings.TrimSuffix(filepath.Base(p), ".sh"); name != "lib" {
			names = append(names, name)
		}
	}
	return names
}

// runShell runs every script once, as many at a time as Engine.Evaluate
// runs modules (one per core), each spawned through sysexec as the agent
// spawns programs: `sh SCRIPT ROOT`.
func runShell(ctx context.Context, scripts []string, root string) ([]sysexec.Result, []error) {
	res := make([]sysexec.Result, len(scripts))
	errs := make([]error, len(scripts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.NumCPU(), len(scripts)) {
		wg.Go(func() {
			for i := range next {
				res[i], errs[i] = sysexec.Run(ctx, sysexec.Request{Argv: []string{"sh", scripts[i], root}, Timeout: 30 * time.Second})
			}
		})
	}
	for i := range scripts {
		next <- i
	}
	close(next)
	wg.Wait()
	return res, errs
}

// BenchmarkScanAllWorkletsShell is the baseline of BenchmarkScanAllWorklets:
// the same checks (every module with a twin) written as POSIX shell scripts (grep, sed, awk,
// dpkg --compare-versions; bench/shell), reading the same recording
// (files from a directory, recorded program output from files, facts from
// the scan document), run with the same parallelism.
func BenchmarkScanAllWorkletsShell(b *testing.B) {
	s := loadBenchSet(b)
	scripts := shellChecks(b, s)
	root := shellRoot(b, s.rec)
	ctx := context.Background()
	per := make([]time.Duration, len(scripts))
	for b.Loop() {
		res, errs := runShell(ctx, scripts, root)
		for i, err := range errs {
			if err != nil || res[i].ExitCode > 2 {
				b.Fatalf("%s: %v %s", scripts[i], err, res[i].Stderr)
			}
			per[i] += res[i].Duration
		}
	}
	reportPerModule(b, s, per)
}

// TestShellChecksAgree makes sure the benchmarks compare like with like:
// on the recording, every module with a shell twin in bench/shell (the
// thirteen shipped ones; a new worklet needs none) decides without error,
// so the benchmark measures real checks, and each script reaches the
// module's status.
func TestShellChecksAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every module; skipped with -short")
	}
	s := loadBenchSet(t)
	scripts := shellChecks(t, s)
	res, errs := runShell(t.Context(), scripts, shellRoot(t, s.rec))
	status := []string{host.StatusCompliant, host.StatusNonCompliant, host.StatusNotApplicable}
	// Every script has its module (none is silently left out of the
	// comparison), and the thirteen shipped with a twin are still there.
	twins := shellTwins(t)
	have := map[string]bool{}
	for _, j := range s.jobs {
		have[j.Worklet.Manifest.Name] = true
	}
	for _, name := range twins {
		if !have[name] {
			t.Errorf("bench/shell/%s.sh has no worklet folder of that name", name)
		}
	}
	if len(twins) < 13 {
		t.Errorf("%d shell twins in bench/shell, want at least the 13 shipped", len(twins))
	}
	for i, r := range s.eng.Evaluate(t.Context(), s.jobs, s.env) {
		if r.Status == host.StatusError {
			t.Errorf("%s: error %s", r.Name, r.Error)
		}
		if errs[i] != nil || res[i].ExitCode < 0 || res[i].ExitCode > 2 {
			t.Errorf("%s: %v exit %d %s", r.Name, errs[i], res[i].ExitCode, res[i].Stderr)
			continue
		}
		if got := status[res[i].ExitCode]; got != r.Status {
			t.Errorf("%s: shell says %s (%s), module %s (%s)", r.Name, got, strings.TrimSpace(string(res[i].Stdout)), r.Status, r.Message)
		}
		t.Logf("%-24s %-15s module %6.2f ms, shell %6.2f ms: %s", r.Name, r.Status,
			float64(r.Duration.Microseconds())/1000, float64(res[i].Duration.Microseconds())/1000, strings.TrimSpace(string(res[i].Stdout)))
	}
}
