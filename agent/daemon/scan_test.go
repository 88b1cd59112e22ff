package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/scan"
	"github.com/amagent/amagent/agent/scandoc"
)

// handlerTransport answers in-process, so that the daemon runs inside a
// testing/synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// TestSlowScanDoesNotHoldCheckins: a scan command whose scan blocks does
// not stop the check-ins, the commands queued after it, or their results;
// a second scan command waits for the next scan; one scan at a time.
// Failed before the fix (issue 9, finding 2): the scan command ran inside
// the check-in loop, so no check-in and no other command happened until
// the scan ended.
func TestSlowScanDoesNotHoldCheckins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var checkins []time.Time
		results := map[string]time.Time{}
		scans := 0
		answers := []string{
			`{"id":1,"command":"scan","params":[],"config":{"checkin_interval":60}}`,
			`{"id":2,"command":"hello","params":["a"]}`,
			`{"id":0,"command":"nop","params":[]}`,
			`{"id":3,"command":"scan","params":[]}`,
			`{"id":4,"command":"hello","params":["b"]}`,
		}
		mux := http.NewServeMux()
		mux.HandleFunc("POST /enroll", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"device_token":"t"}`) })
		mux.HandleFunc("POST /checkin", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			checkins = append(checkins, time.Now())
			if n := len(checkins); n <= len(answers) {
				io.WriteString(w, answers[n-1])
				return
			}
			io.WriteString(w, `{"id":0,"command":"nop","params":[]}`)
		})
		mux.HandleFunc("POST /commands/{id}/result", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			results[r.PathValue("id")] = time.Now()
		})
		mux.HandleFunc("POST /scan", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			scans++
		})

		cfg := config.Config{Server: "http://127.0.0.1:9", AccessKey: "k", StateDir: t.TempDir(), LogFile: "unused", DryRun: true}
		cfg.ApplyDefaults()
		cfg.Checkin.Variance = 0
		d, err := New(Options{
			Config: cfg,
			Log:    slog.New(slog.DiscardHandler),
			HTTP:   &http.Client{Transport: handlerTransport{mux}},
			Zone:   func() *time.Location { return time.UTC },
			Rand:   func() float64 { return 0.5 },
			Uptime: func(context.Context) (time.Duration, error) { return time.Hour, nil },
			Handlers: []command.Handler{{Type: "hello", Run: func(_ context.Context, p []string) (any, error) {
				return p, nil
			}}},
		})
		if err != nil {
			t.Fatal(err)
		}

		// A scan that blocks until released, counting how many run at once.
		hold := make(chan struct{})
		var active, maxActive atomic.Int32
		n := 0
		scanner := &scan.Scanner{
			Env: &scan.Env{Now: time.Now, Timeout: 48 * time.Hour},
			Collectors: []scan.Collector{{Name: "GetHostname", Run: func(ctx context.Context, env *scan.Env) (scan.Part, error) {
				if a := active.Add(1); a > maxActive.Load() {
					maxActive.Store(a)
				}
				defer active.Add(-1)
				select {
				case <-hold:
				case <-ctx.Done():
				}
				return scan.HostnamePart{Hostname: "h"}, nil
			}}},
			NewID: func() string { n++; return fmt.Sprintf("scan-%d", n) },
		}
		sched := scan.NewScheduler(scanner, d.Store(), d.ReportScan)
		sched.Boot = func(context.Context) (scandoc.Boot, error) { return scandoc.Boot{ID: "boot-1"}, nil }
		// Scanned in this boot an hour ago: no boot scan, none due soon.
		st, _ := json.Marshal(map[string]any{"boot_id": "boot-1", "last_scan": time.Now().Add(-time.Hour)})
		d.Store().Write(scan.StateKey, st)
		if err := d.AddHandler(sched.ScanHandler()); err != nil {
			t.Fatal(err)
		}
		if err := d.AddService(sched.Run); err != nil {
			t.Fatal(err)
		}

		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- d.Run(ctx) }()

		time.Sleep(5*time.Minute + time.Second)
		synctest.Wait()
		mu.Lock()
		got := len(checkins)
		last := checkins[len(checkins)-1].Sub(start)
		_, r1 := results["1"]
		_, r2 := results["2"]
		_, r3 := results["3"]
		_, r4 := results["4"]
		mu.Unlock()
		// Checks-ins 1-5 in a row at start (commands), then one a minute.
		if got != 10 || last != 5*time.Minute {
			t.Errorf("%d check-ins, the last at %s; want 10, the last at 5m0s", got, last)
		}
		if !r2 || !r4 {
			t.Errorf("commands queued after the scan did not run: results %v", results)
		}
		if r1 || r3 {
			t.Errorf("scan results delivered while the scan is held: %v", results)
		}
		if active.Load() != 1 {
			t.Errorf("%d scans running, want 1 (the second scan command waits)", active.Load())
		}

		close(hold)
		synctest.Wait()
		mu.Lock()
		_, r1 = results["1"]
		_, r3 = results["3"]
		gotScans := scans
		mu.Unlock()
		if !r1 || !r3 || gotScans != 2 {
			t.Errorf("after the scan: results %v, %d scans posted; want results 1 and 3, 2 scans", results, gotScans)
		}
		if maxActive.Load() != 1 {
			t.Errorf("%d scans ran at once", maxActive.Load())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
