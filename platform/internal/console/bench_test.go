package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// TestConsolePageTimes is `make bench`'s console part: it fills a store
// with AMPLATFORM_CONSOLE_BENCH_DEVICES devices (default 100,000), each
// with a scan (40 packages, 8 results, some pending updates), and 30 days
// of history (a scan a day) for 1% of them (1,000), then times the
// server side of the fleet, devices, device and software pages (p50 and
// p99 of repeated requests), on SQLite and, with
// AMPLATFORM_TEST_DATABASE_URL, PostgreSQL. Goal: p50 under 100 ms, p99
// under 300 ms on a 2-core machine.
//
// Each page is requested once cold (the first request after the console
// starts, reported apart) and then 100 times; p99 is the 99th of those.
// With AMPLATFORM_CONSOLE_BENCH_KEEP=1 the filled stores are kept (SQLite
// under var/bench, PostgreSQL in schema console_bench_<n>) and reused by
// the next run, so that timing a change does not refill them.
func TestConsolePageTimes(t *testing.T) {
	if os.Getenv("AMPLATFORM_CONSOLE_BENCH") == "" {
		t.Skip("set AMPLATFORM_CONSOLE_BENCH=1 (make bench) to fill a store with 100,000 devices and time the console's pages")
	}
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("AMPLATFORM_CONSOLE_BENCH_DEVICES")); err == nil && v > 0 {
		n = v
	}
	keep := os.Getenv("AMPLATFORM_CONSOLE_BENCH_KEEP") != ""
	t.Run("sqlite", func(t *testing.T) {
		if !keep {
			benchPages(t, store.OpenTestSQLite(t, 1)[0], n, 1)
			return
		}
		dir, err := filepath.Abs(filepath.Join("..", "..", "..", "var", "bench", fmt.Sprintf("console-sqlite-%d", n)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		st, err := store.OpenSQLite(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		benchPages(t, st, n, 1)
	})
	t.Run("postgres", func(t *testing.T) {
		if !keep {
			benchPages(t, store.OpenTestPostgres(t, 1)[0], n, 4)
			return
		}
		base := os.Getenv(store.TestDatabaseEnv)
		if base == "" {
			t.Skipf("%s is not set", store.TestDatabaseEnv)
		}
		u, err := store.PostgresSchemaURL(base, fmt.Sprintf("console_bench_%d", n))
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.OpenPostgres(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		benchPages(t, st, n, 4)
	})
}

func benchPages(t *testing.T, st store.Store, n, workers int) {
	ctx := context.Background()
	now := time.Now()
	if _, have, err := st.ListDevices(ctx, store.DeviceQuery{Limit: 1}); err != nil {
		t.Fatal(err)
	} else if have == 0 {
		fillBench(t, st, n, workers, now)
	} else if have != n {
		t.Fatalf("the kept store has %d devices, not %d: remove it", have, n)
	} else {
		t.Logf("reusing a kept store of %d devices", have)
	}
	timePages(t, st, now)
}

// fillBench registers n devices, 80%% of them online, each with a scan, and
// 29 more days of scans for 1%% of them.
func fillBench(t *testing.T, st store.Store, n, workers int, now time.Time) {
	ctx := context.Background()
	start := time.Now()
	devs := make([]store.NewDevice, n)
	for i := range devs {
		devs[i] = store.NewDevice{UUID: uuid.NewString(), Hostname: fmt.Sprintf("host-%06d", i), TokenHash: "x"}
	}
	if err := st.RegisterDevices(ctx, devs, now.Add(-60*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var rows []store.DeviceRow
	for len(rows) < n {
		page, _, err := st.ListDevices(ctx, store.DeviceQuery{Offset: len(rows), Limit: 10000})
		if err != nil || len(page) == 0 {
			t.Fatalf("listing devices: %v", err)
		}
		rows = append(rows, page...)
	}
	var checkins []store.Checkin
	for i, d := range rows {
		if i%5 != 0 { // 80% online
			checkins = append(checkins, store.Checkin{DeviceID: d.ID, At: now.Add(-time.Minute), AgentVersion: "1.4.0"})
		}
	}
	if err := st.RecordCheckins(ctx, checkins); err != nil {
		t.Fatal(err)
	}
	report := func(i int, at time.Time, day int) []byte {
		var pk []scandoc.Package
		for j := range 40 {
			name := fmt.Sprintf("pkg-%03d", (i*7+j*13)%400)
			pk = append(pk, scandoc.Package{Name: name, Version: fmt.Sprintf("1.%d-%d", (i+j)%9, day%3), Source: "dpkg"})
		}
		var up []scandoc.Update
		for j := range i % 6 {
			up = append(up, scandoc.Update{Name: fmt.Sprintf("pkg-%03d", j*17), Version: "2.0", Security: j%2 == 0})
		}
		statuses := []string{"compliant", "compliant", "non-compliant", "compliant", "not-applicable", "error", "compliant", "quarantined"}
		var res []protocol.WorkletResult
		for j := range 8 {
			res = append(res, protocol.WorkletResult{Name: fmt.Sprintf("worklet-%d", j), Version: "1.0", Kind: "worklet", Phase: "evaluate",
				Status: statuses[(i+j+day)%len(statuses)], Message: "checked"})
		}
		doc, _ := json.Marshal(scandoc.Document{OS: scandoc.OS{PrettyName: []string{"Debian GNU/Linux 12 (bookworm)", "Ubuntu 24.04 LTS", "Rocky Linux 9.4"}[i%3]},
			Software: pk, PendingUpdates: up, Reboot: scandoc.Reboot{Required: i%10 == 0}})
		b, _ := json.Marshal(protocol.ScanReport{ScanID: fmt.Sprintf("s-%d-%d", i, day), StartedAt: at, Scan: doc, Results: res})
		return b
	}
	save := func(jobs func(yield func(int, int))) {
		var wg sync.WaitGroup
		ch := make(chan [2]int, 256)
		var firstErr error
		var mu sync.Mutex
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range ch {
					i, day := j[0], j[1]
					at := now.Add(-time.Duration(day)*24*time.Hour - time.Hour)
					if _, err := st.SaveScan(ctx, rows[i].ID, store.NewScan{ID: fmt.Sprintf("s-%d-%d", i, day), StartedAt: at, Report: report(i, at, day)}, at); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			}()
		}
		jobs(func(i, day int) { ch <- [2]int{i, day} })
		close(ch)
		wg.Wait()
		if firstErr != nil {
			t.Fatal(firstErr)
		}
	}
	histDevices := max(1, n/100)
	save(func(yield func(int, int)) {
		for i := range n {
			yield(i, 0)
		}
		for i := range histDevices {
			for day := 1; day < 30; day++ {
				yield(i*(n/histDevices), day)
			}
		}
	})
	t.Logf("filled %d devices (%d with 30 days of history) in %s", n, histDevices, time.Since(start).Round(time.Second))
}

// timePages times the console's pages on a filled store.
func timePages(t *testing.T, st store.Store, now time.Time) {
	ctx := context.Background()
	rows, _, err := st.ListDevices(ctx, store.DeviceQuery{Limit: 1})
	if err != nil || len(rows) == 0 {
		t.Fatalf("listing devices: %v", err)
	}

	if err := st.SetSetting(ctx, fleet.SettingAdminTokenHash, fleet.HashToken(adminToken)); err != nil {
		t.Fatal(err)
	}
	con, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	sid := uuid.NewString()
	if err := st.CreateSession(ctx, store.Session{IDHash: hashHex(sid), CSRF: "c", AdminHash: fleet.HashToken(adminToken), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	con.Warm(ctx) // as amplatform serve does before it listens
	h := con.Handler()
	// The fleet page's figures are computed in the background (at most
	// once per 10 s and per ten times their own duration) and kept for
	// the next start: their cost is reported apart.
	for range 2 {
		t0 := time.Now()
		if _, err := st.FleetSummary(ctx, now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		if _, err := st.PendingUpdates(ctx, 500); err != nil {
			t.Fatal(err)
		}
		t.Logf("%-42s summary %s, pending updates %s", "fleet figures (background)", t1.Sub(t0).Round(100*time.Microsecond), time.Since(t1).Round(100*time.Microsecond))
	}
	hist := rows[0]
	pages := []struct{ name, path string }{
		{"fleet", "/"},
		{"devices", "/devices"},
		{"devices, filtered and sorted, page 100", "/devices?status=online&worklet=worklet-2&outcome=non-compliant&d.sort=non_compliant&d.dir=desc&d.page=100"},
		{"devices, search", "/devices?q=host-0123"},
		{"devices, any worklet non-compliant", "/devices?outcome=non-compliant"},
		{"devices, any worklet in error", "/devices?outcome=error"},
		{"devices, any worklet in error, by errors", "/devices?outcome=error&d.sort=error&d.dir=desc"},
		{"device (30 days of history)", "/devices/" + hist.UUID},
		{"device, diff of two scans", "/devices/" + hist.UUID + "?from=1&to=2"},
		{"software", "/software?name=pkg-007"},
		{"software, below a version", "/software?name=pkg-007&below=1.5"},
		{"worklet, failing devices", "/worklets/worklet-2?status=failing"},
	}
	hs, _ := st.ScanHistory(ctx, hist.ID)
	for i := range pages {
		if pages[i].name == "device, diff of two scans" && len(hs) >= 2 {
			pages[i].path = fmt.Sprintf("/devices/%s?from=%d&to=%d", hist.UUID, hs[1].ID, hs[0].ID)
		}
	}
	for _, p := range pages {
		var times []time.Duration
		var cold time.Duration
		for i := range 101 {
			req := httptest.NewRequest(http.MethodGet, p.path, nil)
			req.AddCookie(&http.Cookie{Name: cookieSession, Value: sid})
			w := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(w, req)
			if i == 0 {
				cold = time.Since(t0)
			} else {
				times = append(times, time.Since(t0))
			}
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d\n%s", p.path, w.Code, w.Body.String())
			}
		}
		slices.Sort(times)
		p50, p99 := times[len(times)/2], times[len(times)*99/100-1]
		t.Logf("%-42s p50 %8s  p99 %8s  first %8s", p.name, p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), cold.Round(100*time.Microsecond))
	}
}
