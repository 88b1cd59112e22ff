package checkin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// runFor runs the loop for d of fake time inside the bubble and stops it.
func runFor(t *testing.T, l *Loop, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	time.Sleep(d)
	cancel()
	synctest.Wait()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	default:
		t.Fatal("Run did not return after cancel")
	}
}

func gaps(start time.Time, ts []time.Time) []time.Duration {
	var out []time.Duration
	prev := start
	for _, x := range ts {
		out = append(out, x.Sub(prev))
		prev = x
	}
	return out
}

// TestBackoffSequence: under repeated failure the waits are 1m, 2m, 4m,
// 8m, 16m, 30m, 30m, and the log's next_in says so.
func TestBackoffSequence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attempts []time.Time
		h := failingHandler(func() error { attempts = append(attempts, time.Now()); return errRefused })
		e := setup(t, "http://platform.test", inMemory(h), "tok", nil)
		start := time.Now()
		runFor(t, e.loop, 91*time.Minute+time.Second)
		got := fmt.Sprint(gaps(start, attempts))
		if want := "[0s 1m0s 2m0s 4m0s 8m0s 16m0s 30m0s 30m0s]"; got != want {
			t.Fatalf("attempts at gaps %s, want %s", got, want)
		}
		log := e.log.String()
		for _, d := range []string{"1m0s", "2m0s", "4m0s", "8m0s", "16m0s", "30m0s"} {
			if !strings.Contains(log, "next_in="+d+" process=checkin") {
				t.Errorf("log lacks next_in=%s", d)
			}
		}
	})
}

// TestBackoffJitterBounded: with jitter each wait stays within ±20% of
// the doubling and never above retry_max.
func TestBackoffJitterBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attempts []time.Time
		h := failingHandler(func() error { attempts = append(attempts, time.Now()); return errRefused })
		e := setup(t, "http://platform.test", inMemory(h), "tok", func(o *LoopOptions) {
			o.Jitter = -1 // the default
			o.Rand = nil  // real randomness
		})
		start := time.Now()
		runFor(t, e.loop, 3*time.Hour)
		g := gaps(start, attempts)[1:]
		base := time.Minute
		for i, d := range g {
			lo, hi := time.Duration(float64(base)*0.8), min(time.Duration(float64(base)*1.2), 30*time.Minute)
			if d < lo-time.Millisecond || d > hi+time.Millisecond {
				t.Fatalf("wait %d = %s outside [%s, %s] (all %v)", i, d, lo, hi, g)
			}
			base = min(base*2, 30*time.Minute)
		}
	})
}

// TestScheduleRecovers: failures back off, the first success goes back to
// the interval, and a later failure starts again from retry_initial.
func TestScheduleRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePlatform{answers: []func(http.ResponseWriter){
			answer(500, "down"), answer(500, "down"), answer(200, nopAnswer), answer(200, nopAnswer), answer(502, "bad gateway"), answer(200, nopAnswer),
		}}
		e := setup(t, "http://platform.test", inMemory(p), "tok", nil)
		start := time.Now()
		runFor(t, e.loop, 3*time.Hour+10*time.Minute)
		got := fmt.Sprint(gaps(start, p.times()))
		// 0 fail, +1m fail, +2m ok, +1h ok, +1h fail, +1m ok, +1h ok
		if want := "[0s 1m0s 2m0s 1h0m0s 1h0m0s 1m0s 1h0m0s]"; got != want {
			t.Fatalf("check-ins at gaps %s, want %s", got, want)
		}
	})
}

// TestIntervalVariance: waits are interval ± variance, to the limits.
func TestIntervalVariance(t *testing.T) {
	for _, tc := range []struct {
		r    float64
		want time.Duration
	}{{0, 55 * time.Minute}, {0.5, time.Hour}, {0.9999999, 65 * time.Minute}} {
		synctest.Test(t, func(t *testing.T) {
			p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, `{"id":0,"command":"nop","params":[]}`)}}
			e := setup(t, "http://platform.test", inMemory(p), "tok", func(o *LoopOptions) { o.Rand = func() float64 { return tc.r } })
			start := time.Now()
			runFor(t, e.loop, 3*tc.want+time.Second)
			g := gaps(start, p.times())
			if len(g) != 4 || g[1] != tc.want || g[2] != tc.want || g[3] != tc.want {
				t.Fatalf("r=%v gaps %v, want %s", tc.r, g, tc.want)
			}
			if !strings.Contains(e.log.String(), "msg=complete next_in="+tc.want.String()+" process=checkin") {
				t.Fatalf("next_in is not the real wait:\n%s", e.log.String())
			}
		})
	}
}

// TestTimezoneChange: a change of UTC offset triggers an out-of-cycle
// check-in within one poll; a change of zone name with the same offset
// does not.
func TestTimezoneChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var zone atomic.Pointer[time.Location]
		zone.Store(time.FixedZone("A", 3600))
		p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, nopAnswer)}}
		e := setup(t, "http://platform.test", inMemory(p), "tok", func(o *LoopOptions) {
			o.Zone = func() *time.Location { return zone.Load() }
			o.Client.Zone = o.Zone
		})
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { e.loop.Run(ctx); close(done) }()
		time.Sleep(10*time.Minute + 30*time.Second)
		zone.Store(time.FixedZone("B", 3600)) // same offset
		time.Sleep(5 * time.Minute)
		zone.Store(time.FixedZone("C", -4*3600))
		time.Sleep(5 * time.Minute)
		cancel()
		<-done
		got := fmt.Sprint(gaps(start, p.times()))
		if want := "[0s 16m0s]"; got != want {
			t.Fatalf("check-ins at gaps %s, want %s", got, want)
		}
		if q := p.queries[1]; !strings.HasSuffix(q, "tz=-0400") {
			t.Fatalf("second check-in sent %s", q)
		}
		if !strings.Contains(e.log.String(), `msg="timezone offset changed; checking in out of cycle" from=+0100 to=-0400`) {
			t.Fatal(e.log.String())
		}
	})
}

// TestCommandsChainUntilNop: a command in an answer is run, its result
// reported, and the agent checks in again at once until nop.
func TestCommandsChainUntilNop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePlatform{answers: []func(http.ResponseWriter){
			answer(200, `{"id":1,"command":"echo","params":["x"]}`),
			answer(200, `{"id":2,"command":"echo","params":["y"]}`),
			answer(200, nopAnswer),
		}}
		e := setup(t, "http://platform.test", inMemory(p), "tok", nil)
		start := time.Now()
		runFor(t, e.loop, 30*time.Minute)
		if got := fmt.Sprint(gaps(start, p.times())); got != "[0s 0s 0s]" {
			t.Fatalf("check-ins at %s", got)
		}
		if len(p.results) != 2 || !strings.HasPrefix(p.results[0], "/commands/1/result ") || !strings.HasPrefix(p.results[1], "/commands/2/result ") {
			t.Fatalf("results %v", p.results)
		}
	})
}

// TestChainBounded: a platform that never says nop cannot keep the agent
// in a tight loop.
func TestChainBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, `{"id":3,"command":"echo","params":[]}`)}}
		e := setup(t, "http://platform.test", inMemory(p), "tok", func(o *LoopOptions) { o.MaxChain = 5 })
		runFor(t, e.loop, 30*time.Minute)
		if n := len(p.times()); n != 5 {
			t.Fatalf("%d check-ins in 30 minutes", n)
		}
		if !strings.Contains(e.log.String(), "too many commands in a row") {
			t.Fatal(e.log.String())
		}
	})
}

// TestAnHourOfSchedule: a platform interval of 10 minutes gives seven
// check-ins in an hour of fake time.
func TestAnHourOfSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, `{"id":0,"command":"nop","params":[],"config":{"checkin_interval":600}}`)}}
		e := setup(t, "http://platform.test", inMemory(p), "tok", func(o *LoopOptions) { o.Variance = time.Minute })
		runFor(t, e.loop, time.Hour+time.Second)
		if n := len(p.times()); n != 7 {
			t.Fatalf("%d check-ins", n)
		}
	})
}
