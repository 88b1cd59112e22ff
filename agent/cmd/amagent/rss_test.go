package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkIdleRSS starts the real agent binary against a loopback
// platform, lets it check in and go idle, and reports its resident
// memory (VmRSS, Linux) as the metric "idle-RSS-KiB". Goal: under 20 MiB.
func BenchmarkIdleRSS(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/<pid>/status")
	}
	bin := buildAgent(b)
	p := &scripted{script: []func(http.ResponseWriter){
		status(200, `{"id":0,"command":"nop","params":[],"config":{"checkin_interval":3600,"scan_interval":12,"worklets":[]}}`),
	}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	var maxKiB int
	for b.Loop() {
		dir := b.TempDir()
		cmd := exec.Command(bin, "run", "--config", writeConfig(b, dir, srv.URL, ""))
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		n := len(p.times())
		waitFor(b, 5*time.Second, func() bool { return len(p.times()) > n })
		time.Sleep(time.Second) // idle between check-ins
		kib, err := vmRSS(cmd.Process.Pid)
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if err != nil {
			b.Fatal(err)
		}
		maxKiB = max(maxKiB, kib)
	}
	b.ReportMetric(float64(maxKiB), "idle-RSS-KiB")
	if maxKiB > 20<<10 {
		b.Errorf("idle RSS %d KiB is over the 20 MiB goal", maxKiB)
	}
}

func vmRSS(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}
