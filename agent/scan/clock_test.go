package scan

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/state"
)

// wallClock is a wall clock that an operator (or NTP) can set: its
// readings carry no monotonic reading and follow offset.
type wallClock struct{ offset atomic.Int64 }

func (c *wallClock) Now() time.Time                  { return time.Now().Round(0).Add(time.Duration(c.offset.Load())) }
func (c *wallClock) jump(d time.Duration)            { c.offset.Add(int64(d)) }
func (r *schedRig) count() int                       { return len(r.reasons()) }
func (r *schedRig) withClock(c *wallClock) *schedRig { r.s.Now = c.Now; return r }

// Issue 10: every interval uses the monotonic clock. The wall clock jumps
// a day forward and back while the agent runs, and back a day across a
// restart: scans stay 6 hours apart, none is added and none is missed.
func TestSchedulerWallClockJumps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := state.NewMemStore()
		clock := &wallClock{}
		r := newRig(store, "boot-A").withClock(clock)
		r.s.SetInterval(6)
		stop := r.start(t)
		synctest.Wait()
		expect := func(when string, n int) {
			t.Helper()
			synctest.Wait()
			if got := r.count(); got != n {
				t.Fatalf("%s: %d scans, want %d (%v)", when, got, n, r.reasons())
			}
		}
		expect("start", 1) // the boot scan
		time.Sleep(time.Hour)
		clock.jump(24 * time.Hour) // a day forward
		time.Sleep(5*time.Hour - time.Second)
		expect("just before 6h, after a jump a day forward", 1)
		time.Sleep(time.Second)
		expect("at 6h", 2)
		time.Sleep(time.Hour)
		clock.jump(-24 * time.Hour) // and back
		time.Sleep(5*time.Hour - time.Second)
		expect("just before 12h, after a jump a day back", 2)
		time.Sleep(time.Second)
		expect("at 12h", 3)
		time.Sleep(12 * time.Hour)
		expect("at 24h", 5)
		stop()

		// The clock is set back a day while the agent is stopped for an
		// hour: the next scan is at most one interval after the restart,
		// not a day and an interval later.
		time.Sleep(time.Hour)
		clock.jump(-24 * time.Hour)
		r2 := newRig(store, "boot-A").withClock(clock)
		r2.s.SetInterval(6)
		stop = r2.start(t)
		synctest.Wait()
		if n := r2.count(); n != 0 {
			t.Fatalf("restart in the same boot scanned at once: %v", r2.reasons())
		}
		time.Sleep(6*time.Hour + 8*time.Minute)
		synctest.Wait()
		if n := r2.count(); n != 1 {
			t.Fatalf("after a restart with the clock set back a day: %d scans in one interval, want 1", n)
		}
		stop()

		// Set a day forward across a restart: one scan at once, not a
		// scan for every interval the clock skipped.
		clock.jump(48 * time.Hour)
		r3 := newRig(store, "boot-A").withClock(clock)
		r3.s.SetInterval(6)
		stop = r3.start(t)
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := r3.count(); n != 1 {
			t.Fatalf("after a restart with the clock set forward: %d scans in the first hour, want 1", n)
		}
		stop()
	})
}
