package checkin

import (
	"errors"
	"github.com/amagent/amagent/agent/protocol"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/identity"
	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/outbox"
)

// TestFaults runs one check-in cycle against a real HTTP server on
// loopback for each fault and checks that it is a failure, with its
// reason logged and the first backoff wait as next_in.
func TestFaults(t *testing.T) {
	huge := `{"id":0,"command":"nop","params":[],"pad":"` + strings.Repeat("x", 2<<20) + `"}`
	cases := []struct {
		name    string
		handler http.HandlerFunc
		closed  bool // the server is gone: connection refused
		reason  string
	}{
		{name: "500", handler: func(w http.ResponseWriter, r *http.Request) { http.Error(w, "db down", 500) }, reason: "platform answered 500"},
		{name: "refused", closed: true, reason: "connection refused"},
		{name: "timeout", handler: func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, reason: "Timeout"},
		{name: "not json", handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>hello</html>") }, reason: "malformed answer"},
		{name: "no command", handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"id":0,"params":[]}`) }, reason: `malformed answer: check-in answer: field \"command\" is missing`},
		{name: "command without id", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"id":0,"command":"reboot","params":["5"]}`)
		}, reason: "has no \\\"id\\\""},
		{name: "bad params", handler: func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"id":1,"command":"echo","params":[{"a":1}]}`)
		}, reason: "malformed answer"},
		{name: "oversized", handler: func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, huge) }, reason: "response body too large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.handler
			if h == nil {
				h = func(http.ResponseWriter, *http.Request) {}
			}
			srv, hc := loopback(t, h)
			if tc.closed {
				srv, hc = closedURL(t), httpx.NewClient(200*time.Millisecond, 500*time.Millisecond)
			}
			e := setup(t, srv, hc, "tok", nil)
			start := time.Now()
			wait := e.loop.cycle(t.Context())
			if took := time.Since(start); took > 1500*time.Millisecond {
				t.Fatalf("cycle took %s: timeouts not applied", took)
			}
			if wait != time.Minute {
				t.Fatalf("next wait %s, want the first backoff 1m", wait)
			}
			log := e.log.String()
			if !strings.Contains(log, `msg="checkin failed"`) || !strings.Contains(log, tc.reason) || !strings.Contains(log, "next_in=1m0s process=checkin") {
				t.Fatalf("log lacks the failure or %q:\n%s", tc.reason, log)
			}
			if strings.Contains(log, "msg=complete") {
				t.Fatalf("a failure logged complete:\n%s", log)
			}
		})
	}
}

func closedURL(t *testing.T) string {
	srv, _ := loopback(t, http.NotFoundHandler())
	// loopback registered Close in Cleanup; close now so that the port
	// refuses connections.
	u := srv
	closeNow(t, srv)
	return u
}

func TestUnknownFieldsIgnored(t *testing.T) {
	p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, `{"id":0,"command":"nop","params":[],"future":{"x":[1,2]},"config":{"checkin_interval":60,"new_knob":true}}`)}}
	srv, hc := loopback(t, p)
	e := setup(t, srv, hc, "tok", nil)
	if wait := e.loop.cycle(t.Context()); wait != time.Minute {
		t.Fatalf("wait %s, want the platform's 60s", wait)
	}
}

func TestReenrollOn401(t *testing.T) {
	p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, nopAnswer)}, tokens: map[string]bool{}}
	srv, hc := loopback(t, p)
	e := setup(t, srv, hc, "tok-old", nil) // the platform no longer knows tok-old
	if wait := e.loop.cycle(t.Context()); wait != time.Hour {
		t.Fatalf("wait %s\n%s", wait, e.log.String())
	}
	if p.enrolls != 1 || e.id.Token() != "tok-new" || len(p.checkins) != 1 {
		t.Fatalf("enrolls=%d token=%q checkins=%d", p.enrolls, e.id.Token(), len(p.checkins))
	}
	if b, _ := e.store.Read(identity.KeyToken); strings.TrimSpace(string(b)) != "tok-new" {
		t.Fatalf("token not kept: %q", b)
	}
	if !strings.Contains(e.log.String(), "platform refused the device token; enrolling again") {
		t.Fatal(e.log.String())
	}
}

func TestWrongAccessKeyBacksOff(t *testing.T) {
	p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, nopAnswer)}, badKey: true}
	srv, hc := loopback(t, p)
	e := setup(t, srv, hc, "", nil)
	var waits []time.Duration
	for range 3 {
		waits = append(waits, e.loop.cycle(t.Context()))
	}
	if waits[0] != time.Minute || waits[1] != 2*time.Minute || waits[2] != 4*time.Minute {
		t.Fatalf("waits %v: not backing off", waits)
	}
	if p.enrolls != 3 || len(p.checkins) != 0 {
		t.Fatalf("enrolls=%d checkins=%d", p.enrolls, len(p.checkins))
	}
	log := e.log.String()
	if !strings.Contains(log, `msg="enrollment refused: wrong access key; check access_key in amagent.toml"`) {
		t.Fatal(log)
	}
	if !errors.Is(identity.ErrAccessDenied, identity.ErrAccessDenied) {
		t.Fatal()
	}
}

func TestCommandResultAndOutbox(t *testing.T) {
	up := false
	p := &fakePlatform{
		answers: []func(http.ResponseWriter){
			answer(200, `{"id":7,"command":"echo","params":["a",1]}`),
			answer(200, `{"id":8,"command":"nosuch","params":[]}`),
			answer(200, nopAnswer),
		},
		resultOK: func() bool { return up },
	}
	srv, hc := loopback(t, p)
	e := setup(t, srv, hc, "tok", nil)
	// Results cannot be delivered: they stay in the outbox.
	if wait := e.loop.cycle(t.Context()); wait != time.Hour {
		t.Fatalf("wait %s", wait)
	}
	if len(p.checkins) != 3 || e.box.Len() != 2 || len(p.results) != 0 {
		t.Fatalf("checkins=%d outbox=%d results=%d", len(p.checkins), e.box.Len(), len(p.results))
	}
	log := e.log.String()
	for _, want := range []string{
		`msg="received command" command=echo process=checkin`,
		`msg="accepted command" command_id=7 command_type=echo command_processor=legacy command_name=echo command=echo`,
		`msg="command end"`,
		`msg=complete next_in=0s process=checkin`,
		`msg="command failed" error="unknown command \"nosuch\""`,
		`msg="outbox not delivered; will retry after the next check-in"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %s", want)
		}
	}
	// The next successful check-in delivers them, in order.
	up = true
	e.loop.cycle(t.Context())
	if e.box.Len() != 0 || len(p.results) != 2 {
		t.Fatalf("outbox=%d results=%v", e.box.Len(), p.results)
	}
	if !strings.HasPrefix(p.results[0], `/commands/7/result {"status":"ok","error":"","started_at":`) || !strings.Contains(p.results[0], `"output":["a","1"]`) {
		t.Fatalf("first result %s", p.results[0])
	}
	if !strings.HasPrefix(p.results[1], `/commands/8/result {"status":"error","error":"unknown command \"nosuch\""`) {
		t.Fatalf("second result %s", p.results[1])
	}
	// Permanent rejections are dropped, not retried for ever.
	if err := e.opts.Client.Post(t.Context(), "/nowhere", []byte(`{}`)); !errors.Is(err, outbox.ErrPermanent) {
		t.Fatalf("404 is not permanent: %v", err)
	}
	// A 4xx that is not the platform's own answer (a proxy's plain 400)
	// is retried, never a reason to drop a report. This failed before:
	// the fault-injection suite lost a report to a garbled request.
	if err := e.opts.Client.Post(t.Context(), "/proxy-400", []byte(`{}`)); err == nil || errors.Is(err, outbox.ErrPermanent) {
		t.Fatalf("a proxy's 400 is taken as the platform's refusal: %v", err)
	}
}

func TestConfigClampedAndKept(t *testing.T) {
	var got []int
	p := &fakePlatform{answers: []func(http.ResponseWriter){answer(200, `{"id":0,"command":"nop","params":[],"config":{"checkin_interval":120,"scan_interval":48}}`)}}
	srv, hc := loopback(t, p)
	e := setup(t, srv, hc, "tok", func(o *LoopOptions) {
		o.OnConfig = func(c protocol.Config) { got = append(got, c.ScanInterval) }
	})
	if wait := e.loop.cycle(t.Context()); wait != 2*time.Minute {
		t.Fatalf("wait %s", wait)
	}
	e.loop.cycle(t.Context()) // same config: no second OnConfig, no second log line
	if len(got) != 1 || got[0] != 24 || e.loop.Config().ScanInterval != 24 {
		t.Fatalf("OnConfig calls %v, config %+v", got, e.loop.Config())
	}
	log := e.log.String()
	if strings.Count(log, `msg="scan interval clamped" requested_hours=48 applied_hours=24`) != 1 {
		t.Fatal(log)
	}
	// A restart keeps the applied config.
	again := NewLoop(e.opts)
	if again.Interval() != 2*time.Minute || again.Config().ScanInterval != 24 {
		t.Fatalf("after restart: %s %+v", again.Interval(), again.Config())
	}
	// Too small is clamped too.
	e.loop.applyConfig(protocol.Config{ScanInterval: 1})
	if e.loop.Config().ScanInterval != 6 || e.loop.Config().CheckinInterval != 120 {
		t.Fatalf("%+v", e.loop.Config())
	}
	// A corrupt kept config is set aside, never a crash.
	e.store.Write(KeyPlatformConfig, []byte("{"))
	if l := NewLoop(e.opts); l.Interval() != time.Hour {
		t.Fatalf("interval %s", l.Interval())
	}
}

func TestCheckinURL(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	est := time.FixedZone("EST", -5*3600)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := CheckinURL("https://p.example.com/", 99*time.Second+900*time.Millisecond, "1.0.0+x", TZOffset(now, ist)); got != "https://p.example.com/checkin?uptime=99&ver=1.0.0%2Bx&tz=%2B0530" {
		t.Fatal(got)
	}
	if got := TZOffset(now, est); got != "-0500" {
		t.Fatal(got)
	}
}
