package checkin

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/protocol"
)

// TestOneEnrollmentInFlight: the check-in loop and a delivery (the boot
// scan's POST /scan) that both find no token share one POST /enroll
// (issue 10, finding 5). Failed before the fix: two /enroll requests.
func TestOneEnrollmentInFlight(t *testing.T) {
	var enrolls atomic.Int32
	second := make(chan struct{})
	var once sync.Once
	mux := http.NewServeMux()
	mux.HandleFunc("POST /enroll", func(w http.ResponseWriter, r *http.Request) {
		if enrolls.Add(1) == 2 {
			once.Do(func() { close(second) })
		}
		// Hold the first enrollment until a second one arrives (the bug)
		// or long enough for the other caller to have asked for one.
		select {
		case <-second:
		case <-time.After(300 * time.Millisecond):
		}
		io.WriteString(w, `{"device_token":"tok-new"}`)
	})
	mux.HandleFunc("POST /checkin", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-new" {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, nopAnswer)
	})
	mux.HandleFunc("POST /scan", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-new" {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(204)
	})
	srv, hc := loopback(t, mux)
	hc.Timeout = 5 * time.Second
	e := setup(t, srv, hc, "", nil)
	c := e.opts.Client
	c.Enroller.HTTP = hc

	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); _, _, errs[0] = c.Checkin(t.Context()) }()
	go func() { defer wg.Done(); errs[1] = c.Post(t.Context(), protocol.PathScan, []byte(`{}`)) }()
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("errors: %v", errs)
	}
	if n := enrolls.Load(); n != 1 {
		t.Fatalf("%d enrollments, want 1", n)
	}
}

// TestKeyConflictBacksOff: a 409 at enrollment is logged at ERROR naming
// the UUID and the admin's command, and retried on the backoff only.
func TestKeyConflictBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var attempts []time.Time
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == protocol.PathEnroll {
				attempts = append(attempts, time.Now())
				w.WriteHeader(409)
				io.WriteString(w, `{"error":"device is bound to another key"}`)
				return
			}
			w.WriteHeader(401)
		})
		e := setup(t, "http://platform.test", inMemory(h), "", nil)
		start := time.Now()
		runFor(t, e.loop, 8*time.Minute)
		got := gaps(start, attempts)
		if len(got) != 4 || got[1] != time.Minute || got[2] != 2*time.Minute || got[3] != 4*time.Minute {
			t.Fatalf("enrollments at gaps %v, want [0s 1m 2m 4m]", got)
		}
		log := e.log.String()
		if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "amplatform devices reset "+testUUID) {
			t.Fatalf("log: %s", log)
		}
	})
}
