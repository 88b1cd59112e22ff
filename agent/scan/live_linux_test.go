//go:build linux

package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// dpkgQueryCount is what `dpkg-query -W | wc -l` says.
func dpkgQueryCount(t testing.TB) int {
	out, err := exec.Command("dpkg-query", "-W").Output()
	if err != nil {
		t.Fatalf("dpkg-query -W: %v", err)
	}
	return bytes.Count(out, []byte("\n"))
}

// TestLiveScanOnceMatchesDpkgQuery is the done-when check on this machine:
// `amagent scan --once --json` reports as many dpkg packages as
// `dpkg-query -W | wc -l`, the host name, the OS version and the reboot
// state.
func TestLiveScanOnceMatchesDpkgQuery(t *testing.T) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		t.Skip("no dpkg-query on this machine")
	}
	args := []string{"--once", "--json"}
	if testing.Short() {
		args = append(args, "--no-pending") // the apt simulation takes seconds
	}
	// Other work may install packages meanwhile: retry until dpkg-query
	// says the same before and after the scan.
	for attempt := 0; ; attempt++ {
		before := dpkgQueryCount(t)
		var stdout, stderr bytes.Buffer
		code := ScanCommand(t.Context(), args, &stdout, &stderr)
		after := dpkgQueryCount(t)
		if before != after && attempt < 3 {
			continue
		}
		var doc scandoc.Document
		if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
			t.Fatalf("scan --once --json printed no document (exit %d): %v\n%s", code, err, stderr.String())
		}
		n := 0
		for _, p := range doc.Software {
			if p.Source == "dpkg" {
				n++
			}
		}
		if n != after {
			t.Errorf("scan reports %d dpkg packages, dpkg-query -W lists %d", n, after)
		}
		host, _ := os.Hostname()
		if doc.Hostname != host {
			t.Errorf("hostname %q, want %q", doc.Hostname, host)
		}
		if doc.OS.Version == "" || doc.OS.Kernel == "" {
			t.Errorf("OS version or kernel missing: %+v", doc.OS)
		}
		if doc.RebootRequired != doc.Reboot.Required {
			t.Errorf("reboot_required %v but reboot.required %v", doc.RebootRequired, doc.Reboot.Required)
		}
		if code != 0 {
			t.Errorf("exit %d, errors %v", code, doc.Errors)
		}
		t.Logf("%d packages, %d patches, %d pending, reboot %v %v, timings %v", n, len(doc.Patches), len(doc.PendingUpdates), doc.RebootRequired, doc.Reboot.Reasons, doc.Timings)
		return
	}
}

func TestScanCommandUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--json"}, {"--once", "extra"}, {"--bogus"}} {
		var out, errb bytes.Buffer
		if code := ScanCommand(t.Context(), args, &out, &errb); code != 2 {
			t.Errorf("scan %q: exit %d, want 2 (usage)", args, code)
		}
		if out.Len() != 0 || errb.Len() == 0 {
			t.Errorf("scan %q: want usage on stderr only, got stdout %q", args, out.String())
		}
	}
}

func TestScanCommandSummary(t *testing.T) {
	var out, errb bytes.Buffer
	ScanCommand(t.Context(), []string{"--once", "--no-pending", "-v"}, &out, &errb)
	for _, want := range []string{"Host:", "OS:", "Software:", "Reboot:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errb.String(), "command_name=GetInstalledSoftware") {
		t.Errorf("-v did not log the commands:\n%s", errb.String())
	}
}

// peakRSS resets the kernel's resident-set high-water mark of this process
// (clear_refs 5) and returns a function reading it (VmHWM) in MiB.
func peakRSS(b *testing.B) func() float64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS: %v", err)
	}
	return func() float64 {
		st, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return 0
		}
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				f := strings.Fields(v)
				if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
					return kb / 1024
				}
			}
		}
		return 0
	}
}

// BenchmarkScanFull is a full scan of this machine without the
// pending-update simulation. Goals: < 150 ms, < 40 MiB peak. peak-RSS-MiB
// is the whole test process's high-water mark during the benchmark;
// heap-MiB is the Go heap in use after the scan.
func BenchmarkScanFull(b *testing.B) {
	env := LiveEnv()
	env.SkipPending = true
	s := &Scanner{Env: env}
	runtime.GC()
	peak := peakRSS(b)
	var doc *scandoc.Document
	for b.Loop() {
		doc = s.Collect(b.Context())
	}
	b.ReportMetric(peak(), "peak-RSS-MiB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	if len(doc.Errors) > 0 {
		b.Logf("scan errors: %v", doc.Errors)
	}
}

// BenchmarkCollector times each collector alone on this machine (GetPatches
// without the simulation).
func BenchmarkCollector(b *testing.B) {
	env := LiveEnv()
	env.SkipPending = true
	for _, c := range Collectors() {
		b.Run(c.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Run(b.Context(), env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAptSimulation is the pending-update simulation alone, for
// scale (apt-get's dependency solver: what a full scan added before the
// lists were read in Go).
func BenchmarkAptSimulation(b *testing.B) {
	if _, err := exec.LookPath("apt-get"); err != nil {
		b.Skip("no apt-get")
	}
	env := LiveEnv()
	env.AptSimulate = true
	for b.Loop() {
		if _, err := aptPending(b.Context(), env); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAptLists is pending updates from apt's lists in Go, with the
// dpkg database parsed each time (as a scan does once).
func BenchmarkAptLists(b *testing.B) {
	env := LiveEnv()
	if !exists(env.FS, pathDpkgStatus) || !exists(env.FS, "var/lib/apt/lists") {
		b.Skip("no dpkg or apt lists")
	}
	n := 0
	for b.Loop() {
		ups, err := aptListsPending(env.forScan())
		if err != nil {
			b.Fatal(err)
		}
		n = len(ups)
	}
	b.ReportMetric(float64(n), "updates")
}

// BenchmarkDpkgInventory reads and parses /var/lib/dpkg/status: the
// software inventory. Compare with BenchmarkDpkgQuery (goal: 5x faster).
func BenchmarkDpkgInventory(b *testing.B) {
	env := LiveEnv()
	if !exists(env.FS, pathDpkgStatus) {
		b.Skip("no dpkg")
	}
	n := 0
	for b.Loop() {
		ps, err := dpkgSoftware(env)
		if err != nil {
			b.Fatal(err)
		}
		n = len(ps)
	}
	b.ReportMetric(float64(n), "packages")
}

// BenchmarkDpkgQuery is the baseline: `dpkg-query -W` run from Go.
func BenchmarkDpkgQuery(b *testing.B) {
	if _, err := exec.LookPath("dpkg-query"); err != nil {
		b.Skip("no dpkg-query")
	}
	n := 0
	for b.Loop() {
		res, err := sysexec.Run(context.Background(), sysexec.Request{Argv: []string{"dpkg-query", "-W"}, Timeout: time.Minute})
		if err != nil || res.ExitCode != 0 {
			b.Fatalf("dpkg-query -W: %v exit %d", err, res.ExitCode)
		}
		n = bytes.Count(res.Stdout, []byte("\n"))
	}
	b.ReportMetric(float64(n), "packages")
}
