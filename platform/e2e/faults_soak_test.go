package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/amagent/amagent/platform/e2e/internal/faultproxy"
)

// TestSoak (make soak; AMAGENT_SOAK=30m by default there) runs a platform
// and an agent for that long with 1 s check-ins through the faulty proxy,
// a command every few seconds and a scan every minute, and reports the
// agent's resident memory (VmRSS) and goroutines at start (after a
// warm-up of a tenth, at least a minute and at most three) and end. Goal: growth under 1 MiB and no goroutine growth.
//
// Goroutines are counted without a debug endpoint: a twin agent, started
// with the same configuration, is sent SIGQUIT after the warm-up (the Go
// runtime prints every goroutine's stack to stderr and exits), the soak
// agent at the end; and, in the soak agent itself at start and end, the
// runtime's goroutine high-water mark (runtime.allglen) is read from
// /proc/PID/mem with the binary's symbol table.
func TestSoak(t *testing.T) {
	spec := os.Getenv("AMAGENT_SOAK")
	if spec == "" {
		t.Skip("AMAGENT_SOAK is not set (make soak sets it, e.g. AMAGENT_SOAK=30m)")
	}
	total, err := time.ParseDuration(spec)
	if err != nil || total < time.Minute {
		t.Fatalf("AMAGENT_SOAK=%q: want a duration of at least 1m", spec)
	}
	agentBin, platBin := binaries(t)
	s := seed(t)
	rnd := newRand(s)
	p := &platform{t: t, bin: platBin, data: t.TempDir(), port: freePort(t)}
	t.Cleanup(p.stop)
	p.fStart("", "--command-timeout", "5s")
	px, err := faultproxy.New(s, "127.0.0.1:"+strconv.Itoa(p.port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	a := fAgent(t, agentBin, agentOpts{server: px.URL(), interval: "1s"})
	twin := fAgent(t, agentBin, agentOpts{server: px.URL(), interval: "1s"})
	a.start()
	twin.start()
	dev := enrolled(t, p, a, "")
	enrolled(t, p, twin, "")
	px.SetFaults(netFaults)

	// The warm-up holds the first scan (every kind of work has happened
	// once before the start is measured).
	warm := max(min(total/10, 3*time.Minute), time.Minute)
	var ids []int64
	scans := 0
	var lastScan time.Time
	work := func(until time.Time) {
		for time.Now().Before(until) {
			args := []string{"execCmd", "GetOS"}
			if time.Since(lastScan) > time.Minute {
				args, lastScan = []string{"scan"}, time.Now()
				scans++
			}
			if id, err := queueCLI(t, p, "", dev, args...); err == nil {
				ids = append(ids, id)
			}
			time.Sleep(time.Duration(2000+rnd.IntN(4000)) * time.Millisecond)
		}
	}
	start := time.Now()
	work(start.Add(warm))
	pid := a.cmd.Process.Pid
	rss0, err := rssKiB(pid)
	if err != nil {
		t.Fatal(err)
	}
	slots0, slotsErr := goroutineSlots(agentBin, pid)
	g0, err := quitAndCount(twin)
	if err != nil {
		t.Fatalf("twin agent goroutine dump: %v", err)
	}
	t.Logf("start (after %s warm-up): VmRSS %d KiB, goroutines %d (twin), goroutine high-water %d", warm, rss0, g0, slots0)

	work(start.Add(total))
	rss1, err := rssKiB(pid)
	if err != nil {
		t.Fatalf("the agent is gone at the end: %v\n%s", err, a.out)
	}
	slots1, _ := goroutineSlots(agentBin, pid)
	px.SetFaults(faultproxy.Faults{})
	cs := waitAnswered(t, p, "", dev, ids, 60*time.Second, func() string { return tail(fLog(a), 3000) })
	tl := countCommands(views(cs), ids, executions(fLog(a)))
	g1, err := quitAndCount(a)
	if err != nil {
		t.Fatalf("agent goroutine dump: %v", err)
	}
	tl.check(t)

	growth := rss1 - rss0
	tb := &table{}
	tb.add("soak", "start", "end", "growth", "goal")
	tb.add("agent VmRSS", fmt.Sprintf("%d KiB", rss0), fmt.Sprintf("%d KiB", rss1), fmt.Sprintf("%+d KiB", growth), "under 1024 KiB")
	tb.add("goroutines (SIGQUIT dump)", fmt.Sprintf("%d (twin)", g0), fmt.Sprint(g1), fmt.Sprintf("%+d", g1-g0), "no growth")
	if slotsErr == nil {
		tb.add("goroutine high-water (runtime.allglen)", fmt.Sprint(slots0), fmt.Sprint(slots1), fmt.Sprintf("%+d", slots1-slots0), "no growth")
	} else {
		tb.add("goroutine high-water (runtime.allglen)", "n/a", "n/a", "n/a", slotsErr.Error())
	}
	out := fmt.Sprintf("soak %s (warm-up %s, seed %d): %d commands (%d scans), %d answered, %d lost, %d run twice; proxy: %s\n%s",
		total, warm, s, tl.queued, scans, tl.ok, tl.lost(), tl.ranTwice, px.Counts(), tb)
	t.Log("\n" + out)
	if path := os.Getenv("AMAGENT_SOAK_TABLE"); path != "" {
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(out), 0o644)
	}
	if growth >= 1024 {
		t.Errorf("agent VmRSS grew %d KiB (%d -> %d), goal under 1024", growth, rss0, rss1)
	}
	if g1 > g0 {
		t.Errorf("goroutines grew: %d (twin, after warm-up) -> %d (end)", g0, g1)
	}
	// The high-water mark is shown, not judged: a moment with more
	// goroutines than before (a scan's collectors while requests are cut)
	// raises it without anything leaking; the dump counts what lives.
}
