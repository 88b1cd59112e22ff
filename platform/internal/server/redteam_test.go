package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/store"
)

// Red-team tests of the platform (issue 9, findings 4 and 9): what a holder
// of the access key, which is on every device, or a hostile device can do.

// TestRedteamEnrollTakeover: the access key and another device's UUID
// take nothing over: the attacker's enrollment is 409, gets no token, and
// the real device keeps its token, its commands and its results.
func TestRedteamEnrollTakeover(t *testing.T) {
	// Failed on the code before the fix: the attacker's /enroll was 200 with a token and the real device's check-in then got 401.
	for _, tc := range []struct {
		name string
		open func(testing.TB, int) []store.Store
	}{{"sqlite", store.OpenTestSQLite}, {"postgres", store.OpenTestPostgres}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.open(t, 2))
			real := e.enroll(t, "web1")
			id := e.queue(t, real.uuid, protocol.CmdExec, "GetOS")

			attacker := newKey(t)
			for i, u := range e.url { // through either replica
				code, body := call(t, "POST", u+protocol.PathEnroll, nil, signedEnroll(attacker, real.uuid, "web1", e.clock.Now().Add(time.Duration(i)*time.Second)))
				if code != http.StatusConflict || !bytes.Contains(body, []byte("bound to another device key")) || bytes.Contains(body, []byte("device_token")) {
					t.Fatalf("attacker enrollment via replica %d: %d %s, want 409 and no token", i, code, body)
				}
			}
			// The old, unsigned form is refused too (no key to bind).
			code, body := call(t, "POST", e.url[0]+protocol.PathEnroll, nil, protocol.EnrollRequest{AccessKey: testAccessKey, DeviceUUID: real.uuid, Hostname: "web1"})
			if code != http.StatusBadRequest || !bytes.Contains(body, []byte("device_key is missing")) {
				t.Fatalf("unsigned enrollment: %d %s, want 400 naming device_key", code, body)
			}

			// The real device keeps working: its token, its command, its result.
			r := real.checkin(t, e.url[1])
			if r.ID != id {
				t.Fatalf("real device's check-in after the attack = %+v, want command %d", r, id)
			}
			if code, body := call(t, "POST", e.url[0]+fmt.Sprintf(protocol.PathResult, id), real.hdr(), protocol.CommandResult{Status: "ok"}); code != 200 {
				t.Fatalf("real device's result: %d %s", code, body)
			}
			d, err := e.srv[0].st.FindDevice(t.Context(), real.uuid)
			if err != nil || d.Hostname != "web1" || d.DeviceKey == "" {
				t.Fatalf("device after the attack = %+v, %v", d, err)
			}

			// Its own key rotates its token: the old one stops working.
			old := *real
			e.clock.Advance(time.Minute)
			code, body = call(t, "POST", e.url[1]+protocol.PathEnroll, nil, signedEnroll(real.key, real.uuid, "web1", e.clock.Now()))
			var er protocol.EnrollResponse
			if code != 200 || json.Unmarshal(body, &er) != nil || er.DeviceToken == "" || er.DeviceToken == old.token {
				t.Fatalf("re-enrollment with the bound key: %d %s", code, body)
			}
			real.token = er.DeviceToken
			real.checkin(t, e.url[0])
			if code, _ := call(t, "POST", e.url[0]+"/checkin", old.hdr(), nil); code != http.StatusUnauthorized {
				t.Fatalf("check-in with the rotated-out token = %d, want 401", code)
			}

			// An admin releases the binding (reinstalled machine): the next
			// enrollment binds the key it carries, and only that one.
			if code, body := call(t, "POST", e.url[0]+"/api/devices/web1/reset", admin(), nil); code != http.StatusBadRequest {
				t.Fatalf("reset by hostname = %d %s, want 400 (UUID only)", code, body)
			}
			if code, body := call(t, "POST", e.url[0]+"/api/devices/"+real.uuid+"/reset", nil, nil); code != http.StatusUnauthorized {
				t.Fatalf("reset without the admin token = %d %s", code, body)
			}
			if code, body := call(t, "POST", e.url[0]+"/api/devices/"+real.uuid+"/reset", admin(), nil); code != 200 {
				t.Fatalf("reset: %d %s", code, body)
			}
			if code, _ := call(t, "POST", e.url[0]+"/checkin", real.hdr(), nil); code != http.StatusUnauthorized {
				t.Fatalf("check-in after reset = %d, want 401 (token revoked)", code)
			}
			reinstalled := newKey(t)
			if code, body := call(t, "POST", e.url[0]+protocol.PathEnroll, nil, signedEnroll(reinstalled, real.uuid, "web1", e.clock.Now().Add(time.Second))); code != 200 {
				t.Fatalf("enrollment after reset: %d %s", code, body)
			}
			if code, _ := call(t, "POST", e.url[0]+protocol.PathEnroll, nil, signedEnroll(real.key, real.uuid, "web1", e.clock.Now().Add(2*time.Second))); code != http.StatusConflict {
				t.Fatalf("the old key after the new one bound = %d, want 409", code)
			}
		})
	}
}

// TestRedteamEnrollTime: an enrollment signed at a time more than
// EnrollMaxSkew off the platform's clock is 401 with the reason and the
// platform's Date; the same device signing again with that Date enrolls;
// a captured enrollment cannot be replayed.
func TestRedteamEnrollTime(t *testing.T) {
	// Failed on the code before the fix: the stale and the replayed enrollments were both 200 with a new token.
	e := newSQLiteEnv(t)
	key := newKey(t)
	id := uuid.NewString()
	for _, off := range []time.Duration{-10 * time.Minute, 6 * time.Minute, -24 * time.Hour} {
		req := signedEnroll(key, id, "h", e.clock.Now().Add(off))
		resp := post(t, e.url[0]+protocol.PathEnroll, req)
		if resp.code != http.StatusUnauthorized || !strings.Contains(resp.err, "time is off") {
			t.Fatalf("enrollment %v off: %d %q, want 401 saying the time is off", off, resp.code, resp.err)
		}
		date, err := http.ParseTime(resp.hdr.Get("Date"))
		if err != nil || !date.Equal(e.clock.Now().Truncate(time.Second)) {
			t.Fatalf("Date header %q (%v), want the platform's clock %s", resp.hdr.Get("Date"), err, e.clock.Now())
		}
	}
	// Within the skew it is accepted, whichever side of the clock.
	e.clock.Advance(90 * time.Second)
	date := e.clock.Now().Add(-4 * time.Minute)
	resp := post(t, e.url[0]+protocol.PathEnroll, signedEnroll(key, id, "h", date))
	if resp.code != 200 {
		t.Fatalf("enrollment 4 minutes behind: %d %q", resp.code, resp.err)
	}
	// The device's retry signed with the platform's Date works.
	e.clock.Advance(time.Hour)
	stale := post(t, e.url[0]+protocol.PathEnroll, signedEnroll(key, id, "h", e.clock.Now().Add(-time.Hour)))
	pdate, _ := http.ParseTime(stale.hdr.Get("Date"))
	captured := signedEnroll(key, id, "h", pdate)
	if r := post(t, e.url[0]+protocol.PathEnroll, captured); r.code != 200 {
		t.Fatalf("retry signed with the platform's Date: %d %q", r.code, r.err)
	}
	// Replaying that request (e.g. from a proxy's log) is refused, and the
	// device's token stays.
	if r := post(t, e.url[0]+protocol.PathEnroll, captured); r.code != http.StatusUnauthorized || !strings.Contains(r.err, "already used") {
		t.Fatalf("replayed enrollment: %d %q, want 401", r.code, r.err)
	}
	// After the skew window the time check refuses it.
	e.clock.Advance(protocol.EnrollMaxSkew*time.Second + time.Second)
	if r := post(t, e.url[0]+protocol.PathEnroll, captured); r.code != http.StatusUnauthorized || !strings.Contains(r.err, "time is off") {
		t.Fatalf("replayed enrollment after the window: %d %q, want 401", r.code, r.err)
	}
}

type answer struct {
	code int
	hdr  http.Header
	err  string
}

func post(t *testing.T, u string, body any) answer {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb errorBody
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &eb)
	return answer{code: resp.StatusCode, hdr: resp.Header, err: eb.Error}
}

// TestRedteamBodyCaps: every endpoint that reads a body reads at most its
// cap and answers 413 with a JSON error naming the limit.
func TestRedteamBodyCaps(t *testing.T) {
	// Guards caps the code before the fix had too; only the scan cap is new here (configurable, MaxScanBytes), so this test passed before.
	st := store.OpenTestSQLite(t, 1)
	e := newEnv(t, st)
	s, err := New(t.Context(), Config{Store: st[0], Now: e.clock.Now, SigningKey: e.key, MaxScanBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	d := e.enroll(t, "h")
	id := e.queue(t, d.uuid, protocol.CmdScan)
	big := func(n int) string { return `{"scan_id":"x","status":"ok","pad":"` + strings.Repeat("a", n) + `"}` }
	for _, tc := range []struct {
		name, path string
		hdr        map[string]string
		body       string
	}{
		{"enroll", protocol.PathEnroll, nil, big(maxEnrollBody)},
		{"checkin", "/checkin", d.hdr(), big(maxCheckinBody)},
		{"result", fmt.Sprintf(protocol.PathResult, id), d.hdr(), big(maxResultBody)},
		{"scan", protocol.PathScan, d.hdr(), big(64 << 10)},
		{"admin", "/api/groups", admin(), big(maxAdminBody)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, "POST", hs.URL+tc.path, tc.hdr, tc.body)
			var eb errorBody
			if code != http.StatusRequestEntityTooLarge || json.Unmarshal(body, &eb) != nil || !strings.Contains(eb.Error, "larger") && !strings.Contains(eb.Error, "too large") {
				t.Fatalf("status %d %s, want 413 with an error", code, body)
			}
		})
	}
	// Just under the scan cap is stored.
	ok := `{"scan_id":"s","pad":"` + strings.Repeat("a", 60<<10) + `"}`
	if code, body := call(t, "POST", hs.URL+protocol.PathScan, d.hdr(), ok); code != 200 {
		t.Fatalf("scan under the cap: %d %s", code, body)
	}
}

// countingBody is a request body of n bytes that counts what was read.
type countingBody struct {
	r    io.Reader
	read atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// TestRedteamOneScanPerDevice: 16 concurrent 16 MiB scan uploads from one
// device: one is received, the 15 others are 429 with Retry-After and not
// a byte of their bodies is read, so the platform's memory holds one
// upload, not sixteen. Another device is not held up.
func TestRedteamOneScanPerDevice(t *testing.T) {
	// Failed on the code before the fix: all 16 bodies were read at once (16 × 16 MiB; the issue measured 837 MB).
	e := newSQLiteEnv(t)
	s := e.srv[0]
	d := e.enroll(t, "h")
	other := e.enroll(t, "o")
	h := s.Handler()

	// The hook counts the uploads of each device being received at once;
	// the first one stays in it until the 15 others are answered.
	var mu sync.Mutex
	active, peak := map[int64]int{}, map[int64]int{}
	first := make(chan struct{})
	unblock := make(chan struct{})
	var firstCall atomic.Bool
	var unblockOnce sync.Once
	release := func() { unblockOnce.Do(func() { close(unblock) }) }
	defer release()
	s.scanReceiving = func(dev int64) {
		mu.Lock()
		active[dev]++
		peak[dev] = max(peak[dev], active[dev])
		mu.Unlock()
		if firstCall.CompareAndSwap(false, true) {
			close(first)
			<-unblock
		}
		mu.Lock()
		active[dev]--
		mu.Unlock()
	}
	scan := func(dev *device, id string) (*countingBody, *httptest.ResponseRecorder, func()) {
		pad := DefaultMaxScanBytes - 100
		doc := `{"scan_id":"` + id + `","scan":"` + strings.Repeat("x", pad) + `"}`
		body := &countingBody{r: strings.NewReader(doc)}
		req := httptest.NewRequest("POST", protocol.PathScan, body)
		req.ContentLength = int64(len(doc))
		for k, v := range dev.hdr() {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		return body, w, func() { h.ServeHTTP(w, req) }
	}

	const n = 16
	bodies := make([]*countingBody, n)
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	b0, w0, run0 := scan(d, "s0")
	bodies[0], recs[0] = b0, w0
	wg.Go(run0)
	<-first // the first upload holds the device's slot
	var others sync.WaitGroup
	for i := 1; i < n; i++ {
		b, w, run := scan(d, fmt.Sprint("s", i))
		bodies[i], recs[i] = b, w
		others.Go(run)
	}
	// The 15 are answered while the first is still being received.
	others.Wait()
	// Another device is not held up by this one.
	ob, ow, orun := scan(other, "o1")
	orun()
	if ow.Code != 200 || ob.read.Load() == 0 {
		t.Fatalf("other device's scan: %d %s", ow.Code, ow.Body)
	}
	release()
	wg.Wait()

	if recs[0].Code != 200 || bodies[0].read.Load() < DefaultMaxScanBytes-100 {
		t.Fatalf("first upload: %d %s, read %d", recs[0].Code, recs[0].Body, bodies[0].read.Load())
	}
	for i := 1; i < n; i++ {
		if recs[i].Code != http.StatusTooManyRequests || recs[i].Header().Get("Retry-After") == "" {
			t.Errorf("upload %d: %d (Retry-After %q) %s, want 429 with Retry-After", i, recs[i].Code, recs[i].Header().Get("Retry-After"), recs[i].Body)
		}
		if got := bodies[i].read.Load(); got != 0 {
			t.Errorf("upload %d: %d bytes of its body were read, want none", i, got)
		}
	}
	for dev, p := range peak {
		if p != 1 {
			t.Fatalf("device %d: %d uploads received at once, want 1", dev, p)
		}
	}
	// Once the first is done, the device may upload again.
	_, w, run := scan(d, "s-next")
	s.scanReceiving = nil
	run()
	if w.Code != 200 {
		t.Fatalf("upload after the first ended: %d %s", w.Code, w.Body)
	}
}

// TestScanGateLimit: beyond MaxScans uploads at once, from any devices,
// the next is 429 unread.
func TestScanGateLimit(t *testing.T) {
	g := scanGate{busy: map[int64]bool{}, max: 2}
	r1, _, ok1 := g.acquire(1)
	_, _, ok2 := g.acquire(2)
	_, reason, ok3 := g.acquire(3)
	if !ok1 || !ok2 || ok3 || !strings.Contains(reason, "2 scans") {
		t.Fatalf("acquire: %v %v %v %q", ok1, ok2, ok3, reason)
	}
	r1()
	if _, _, ok := g.acquire(3); !ok {
		t.Fatal("a released slot was not reused")
	}
}
