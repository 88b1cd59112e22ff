package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/state"
)

// schedRig is a Scheduler whose scans are counted, can be held open, and
// whose boot identity the test controls.
type schedRig struct {
	s       *Scheduler
	store   *state.MemStore
	mu      sync.Mutex
	reports []protocol.ScanReport
	active  atomic.Int32
	maxSeen atomic.Int32
	hold    chan struct{} // when non-nil, each scan waits until it is closed
	bootID  string
}

func newRig(store *state.MemStore, bootID string) *schedRig {
	r := &schedRig{store: store, bootID: bootID}
	n := 0
	sc := &Scanner{
		Env: &Env{Now: time.Now, Hostname: func() (string, error) { return "h", nil }, Timeout: 48 * time.Hour},
		Collectors: []Collector{{Name: "GetHostname", Run: func(ctx context.Context, env *Env) (Part, error) {
			if a := r.active.Add(1); a > r.maxSeen.Load() {
				r.maxSeen.Store(a)
			}
			defer r.active.Add(-1)
			r.mu.Lock()
			hold := r.hold
			r.mu.Unlock()
			if hold != nil {
				<-hold
			}
			return HostnamePart{Hostname: "h"}, nil
		}}},
		NewID: func() string { n++; return fmt.Sprintf("scan-%d", n) },
	}
	r.s = NewScheduler(sc, store, func(ctx context.Context, rep protocol.ScanReport) error {
		r.mu.Lock()
		r.reports = append(r.reports, rep)
		r.mu.Unlock()
		return nil
	})
	r.s.Jitter = func(time.Duration) time.Duration { return 0 }
	r.s.Boot = func(ctx context.Context) (scandoc.Boot, error) {
		return scandoc.Boot{ID: r.bootID, Time: time.Unix(1000, 0)}, nil
	}
	return r
}

func (r *schedRig) reasons() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rep := range r.reports {
		out = append(out, rep.Reason)
	}
	return out
}

// start runs the scheduler until the returned stop is called.
func (r *schedRig) start(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.s.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func TestSchedulerScansAfterBootAndOnInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := state.NewMemStore()
		r := newRig(store, "boot-A")
		stop := r.start(t)
		synctest.Wait()
		if got := r.reasons(); len(got) != 1 || got[0] != ReasonBoot {
			t.Fatalf("first start: scans %v, want one boot scan at once", got)
		}
		time.Sleep(DefaultScanInterval - time.Minute)
		synctest.Wait()
		if n := len(r.reasons()); n != 1 {
			t.Fatalf("%d scans before the interval passed", n)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if got := r.reasons(); len(got) != 2 || got[1] != ReasonInterval {
			t.Fatalf("after 24h: scans %v, want boot then interval", got)
		}
		stop()

		// The agent restarts in the same boot an hour later: no boot scan,
		// the next interval scan is due 24h after the last scan.
		time.Sleep(time.Hour)
		r2 := newRig(store, "boot-A")
		stop = r2.start(t)
		synctest.Wait()
		if n := len(r2.reasons()); n != 0 {
			t.Fatalf("restart in the same boot scanned at once: %v", r2.reasons())
		}
		time.Sleep(23 * time.Hour)
		synctest.Wait()
		if got := r2.reasons(); len(got) != 1 || got[0] != ReasonInterval {
			t.Fatalf("restart: scans %v, want one interval scan 24h after the last", got)
		}
		stop()

		// After a reboot (new boot id) the agent scans at once.
		r3 := newRig(store, "boot-B")
		stop = r3.start(t)
		synctest.Wait()
		if got := r3.reasons(); len(got) != 1 || got[0] != ReasonBoot {
			t.Fatalf("after reboot: scans %v, want a boot scan", got)
		}
		stop()
		var st scanState
		b, _ := store.Read(StateKey)
		if err := json.Unmarshal(b, &st); err != nil || st.BootID != "boot-B" {
			t.Errorf("state after reboot scan: %s %v", b, err)
		}
	})
}

func TestRebootedByBootTime(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	for _, c := range []struct {
		name string
		prev scanState
		cur  scandoc.Boot
		want bool
	}{
		{"same id", scanState{BootID: "a", BootTime: at}, scandoc.Boot{ID: "a", Time: at.Add(time.Hour)}, false},
		{"new id", scanState{BootID: "a"}, scandoc.Boot{ID: "b"}, true},
		{"no id, same time within jitter", scanState{BootTime: at}, scandoc.Boot{Time: at.Add(time.Second)}, false},
		{"no id, later boot", scanState{BootTime: at}, scandoc.Boot{Time: at.Add(2 * time.Hour)}, true},
		{"nothing known", scanState{}, scandoc.Boot{}, true},
	} {
		if got := rebooted(c.prev, c.cur); got != c.want {
			t.Errorf("%s: rebooted = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSchedulerIntervalClampAndChange(t *testing.T) {
	for hours, want := range map[int]time.Duration{0: 24 * time.Hour, -3: 24 * time.Hour, 1: 6 * time.Hour, 6: 6 * time.Hour, 12: 12 * time.Hour, 24: 24 * time.Hour, 100: 24 * time.Hour} {
		if got := ClampInterval(hours); got != want {
			t.Errorf("ClampInterval(%d) = %s, want %s", hours, got, want)
		}
	}
	synctest.Test(t, func(t *testing.T) {
		r := newRig(state.NewMemStore(), "boot-A")
		stop := r.start(t)
		defer stop()
		synctest.Wait()    // boot scan at t=0
		r.s.SetInterval(2) // clamped to 6h, reschedules from the last scan
		if r.s.Interval() != 6*time.Hour {
			t.Fatalf("interval %s", r.s.Interval())
		}
		r.s.SetInterval(0) // zero keeps the current interval
		if r.s.Interval() != 6*time.Hour {
			t.Fatalf("SetInterval(0) changed the interval to %s", r.s.Interval())
		}
		time.Sleep(6*time.Hour - time.Second)
		synctest.Wait()
		if n := len(r.reasons()); n != 1 {
			t.Fatalf("scanned %d times before 6h", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := len(r.reasons()); n != 2 {
			t.Fatalf("no scan 6h after the last one: %v", r.reasons())
		}
	})
}

func TestSchedulerJitterIsSmall(t *testing.T) {
	s := NewScheduler(&Scanner{}, state.NewMemStore(), nil)
	for range 1000 {
		j := s.jitter(24 * time.Hour)
		if j < -30*time.Minute || j > 30*time.Minute {
			t.Fatalf("jitter %s outside ±30m for 24h", j)
		}
	}
}

// TestSchedulerCoalesces holds a scan open while three scan commands
// arrive: they share one scan after it, and no two scans ever overlap.
func TestSchedulerCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(state.NewMemStore(), "boot-A")
		hold := make(chan struct{})
		r.hold = hold
		stop := r.start(t)
		defer stop()
		synctest.Wait() // the boot scan is running and held
		if r.active.Load() != 1 {
			t.Fatal("boot scan not running")
		}
		ids := make(chan string, 3)
		for range 3 {
			go func() {
				rep, err := r.s.ScanNow(t.Context(), ReasonCommand)
				if err != nil {
					t.Error(err)
				}
				ids <- rep.ScanID
			}()
		}
		synctest.Wait()
		r.mu.Lock()
		r.hold = nil
		r.mu.Unlock()
		close(hold)
		synctest.Wait()
		got := map[string]int{}
		for range 3 {
			got[<-ids]++
		}
		if len(got) != 1 {
			t.Errorf("three requests during a scan got scans %v, want one shared scan", got)
		}
		if reasons := r.reasons(); len(reasons) != 2 || reasons[0] != ReasonBoot || reasons[1] != ReasonCommand {
			t.Errorf("scans %v, want the boot scan then one command scan", reasons)
		}
		if r.maxSeen.Load() != 1 {
			t.Errorf("%d scans ran at once", r.maxSeen.Load())
		}
		// The scan command handler answers with the scan's id.
		out, err := r.s.ScanHandler().Run(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum, ok := out.(ScanSummary); !ok || sum.ScanID != "scan-3" {
			t.Errorf("scan command output %#v", out)
		}
	})
}

func TestSchedulerCorruptStateScansAsAfterBoot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := state.NewMemStore()
		store.Write(StateKey, []byte("{not json"))
		r := newRig(store, "boot-A")
		stop := r.start(t)
		defer stop()
		synctest.Wait()
		if got := r.reasons(); len(got) != 1 || got[0] != ReasonBoot {
			t.Errorf("corrupt state: scans %v, want a boot scan", got)
		}
	})
}

// TestSchedulerShutdownMidScan: a scan cut short by shutdown is neither
// reported nor recorded, so the next start scans again.
func TestSchedulerShutdownMidScan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := state.NewMemStore()
		r := newRig(store, "boot-A")
		hold := make(chan struct{})
		r.hold = hold
		stop := r.start(t)
		synctest.Wait() // boot scan running, held
		go func() {
			synctest.Wait()
			close(hold)
		}()
		stop()
		if got := r.reasons(); len(got) != 0 {
			t.Errorf("an interrupted scan was reported: %v", got)
		}
		if _, err := store.Read(StateKey); !state.IsNotExist(err) {
			t.Errorf("an interrupted scan was recorded (err %v)", err)
		}
	})
}

// The platform config restored at start changes the interval before the
// scheduler runs; the scan due after a reboot must still happen at once.
func TestSchedulerIntervalChangeKeepsBootScan(t *testing.T) {
	for range 20 { // select picks among ready cases at random: try often
		synctest.Test(t, func(t *testing.T) {
			r := newRig(state.NewMemStore(), "boot-1")
			r.s.SetInterval(12)
			stop := r.start(t)
			defer stop()
			synctest.Wait()
			if got := r.reasons(); len(got) != 1 || got[0] != ReasonBoot {
				t.Fatalf("scans after start %v, want the boot scan", got)
			}
		})
	}
}
