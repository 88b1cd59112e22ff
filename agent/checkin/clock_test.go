package checkin

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// Issue 10: every interval uses the monotonic clock. Every wall clock the
// check-in path reads (the client's, for the UTC offset it sends, and the
// command processor's) jumps a day forward and later a day back: the
// check-ins stay one interval apart, with no storm and none skipped, and
// the retry backoff after failures keeps its sequence.
func TestCheckinsIgnoreWallClockJumps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var offset atomic.Int64
		wall := func() time.Time { return time.Now().Round(0).Add(time.Duration(offset.Load())) }
		var failing atomic.Bool
		p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, nopAnswer)}}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() && strings.HasPrefix(r.URL.Path, "/checkin") {
				p.mu.Lock()
				p.checkins = append(p.checkins, time.Now())
				p.mu.Unlock()
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			p.ServeHTTP(w, r)
		})
		e := setup(t, "http://platform.test", inMemory(h), "tok", func(o *LoopOptions) {
			o.Client.Now = wall
			o.Processor.Now = wall
		})
		start := time.Now()
		go func() {
			time.Sleep(150 * time.Minute)
			offset.Add(int64(24 * time.Hour)) // a day forward at 2h30
			time.Sleep(3 * time.Hour)
			offset.Add(-int64(24 * time.Hour)) // and back at 5h30
			time.Sleep(90*time.Minute + time.Second)
			failing.Store(true) // the platform fails from just after 7h
			time.Sleep(30 * time.Minute)
			offset.Add(int64(24 * time.Hour)) // during the backoff
			time.Sleep(60 * time.Minute)
			failing.Store(false) // back at 8h30
		}()
		runFor(t, e.loop, 10*time.Hour-time.Second)
		got := fmt.Sprint(gaps(start, p.times()))
		// 0..8h hourly; 8h fails; retries after 1m, 2m, 4m, 8m, 16m
		// (the platform is back at 8h30: 8h31 succeeds), then hourly.
		want := "[0s 1h0m0s 1h0m0s 1h0m0s 1h0m0s 1h0m0s 1h0m0s 1h0m0s 1h0m0s 1m0s 2m0s 4m0s 8m0s 16m0s 1h0m0s]"
		if got != want {
			t.Fatalf("check-in gaps %s\nwant            %s", got, want)
		}
	})
}
