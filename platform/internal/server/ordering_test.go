package server

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

func scanBody(id string, started time.Time, statuses ...string) string {
	var rs []protocol.WorkletResult
	for i, s := range statuses {
		rs = append(rs, protocol.WorkletResult{Name: fmt.Sprint("w", i), Phase: "evaluate", Status: s})
	}
	b, _ := json.Marshal(protocol.ScanReport{ScanID: id, StartedAt: started, Reason: "interval", Scan: json.RawMessage(`{}`), Results: rs})
	return string(b)
}

// Issue 10 finding 3 (platform side): a scan sent again after a restart
// replaced a newer one as the device's latest. Each scan is kept once and
// an older one never becomes the latest; both are answered 200, so the
// agent's outbox drops them.
func TestScanOnceAndInOrder(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	t0 := e.clock.Now()
	post := func(body, want string) {
		t.Helper()
		code, out := call(t, "POST", e.url[0]+protocol.PathScan, d.hdr(), body)
		var r map[string]string
		if code != 200 || json.Unmarshal(out, &r) != nil || r["status"] != want {
			t.Fatalf("POST /scan = %d %s, want 200 %s", code, out, want)
		}
		e.clock.Advance(time.Minute)
	}
	post(scanBody("old", t0.Add(-time.Hour), "compliant"), "stored")
	post(scanBody("new", t0, "compliant", "quarantined", "error"), "stored")
	received := e.clock.Now().Add(-time.Minute)
	post(scanBody("old", t0.Add(-time.Hour), "compliant"), "older")
	post(scanBody("new", t0, "compliant", "quarantined", "error"), "duplicate")
	if code, _ := call(t, "POST", e.url[0]+protocol.PathScan, d.hdr(), `{"scan_id":"x","started_at":"yesterday"}`); code != 400 {
		t.Fatalf("bad started_at = %d, want 400", code)
	}
	_, body := call(t, "GET", e.url[0]+"/api/devices/h/results", admin(), nil)
	var rs fleet.Results
	json.Unmarshal(body, &rs)
	if rs.Scan == nil || rs.Scan.ScanID != "new" || !rs.Scan.ReceivedAt.Equal(received) || !rs.Device.LastScan.Equal(received) ||
		rs.Scan.Summary != (store.Summary{Compliant: 1, Error: 1, Quarantined: 1}) {
		t.Fatalf("latest scan = %+v, device last scan %v; want new, received at %v, 1/0/1/1", rs.Scan, rs.Device.LastScan, received)
	}
}

func TestSummarizeQuarantinedApart(t *testing.T) {
	got := Summarize([]protocol.WorkletResult{
		{Name: "a", Status: "compliant"}, {Name: "b", Status: "quarantined"}, {Name: "c", Status: "error"}, {Name: "d", Status: "non-compliant"},
	})
	if got != (store.Summary{Compliant: 1, NonCompliant: 1, Error: 1, Quarantined: 1}) {
		t.Fatalf("Summarize = %+v", got)
	}
}

// `amplatform worklet release NAME [--device D]` reaches the agents as a
// growing release counter on the worklet's assignment in the check-in
// config: for every device, or for one.
func TestReleaseReachesCheckin(t *testing.T) {
	e := newEnv(t, store.OpenTestSQLite(t, 2)) // two replicas: the assignment cache must follow
	a, b := e.enroll(t, "a"), e.enroll(t, "b")
	manifest := "abi = 1\nkind = \"worklet\"\nname = \"crashy\"\nversion = \"1.0.0\"\nmodule = \"w.wasm\"\n"
	if code, body := call(t, "POST", e.url[0]+"/api/worklets", admin(), WorkletRequest{Manifest: manifest, Module: []byte("\x00asm\x01\x00\x00\x00")}); code != http.StatusCreated {
		t.Fatalf("add worklet: %d %s", code, body)
	}
	if code, body := call(t, "POST", e.url[0]+"/api/groups/default/assignments", admin(), store.Assignment{Worklet: "crashy"}); code != 200 {
		t.Fatalf("assign: %d %s", code, body)
	}
	releases := func() map[string]int64 {
		out := map[string]int64{}
		for i, d := range []*device{a, b} {
			r := d.checkin(t, e.url[i%2])
			out[d.host] = r.Config.Worklets[0].Release
		}
		return out
	}
	if got := releases(); got["a"] != 0 || got["b"] != 0 {
		t.Fatalf("before any release: %v", got)
	}
	release := func(body any, want int) {
		t.Helper()
		if code, out := call(t, "POST", e.url[1]+"/api/worklets/crashy/release", admin(), body); code != want {
			t.Fatalf("release %v = %d %s, want %d", body, code, out, want)
		}
	}
	release(nil, 200)
	if got := releases(); !maps.Equal(got, map[string]int64{"a": 1, "b": 1}) {
		t.Fatalf("after a release everywhere: %v", got)
	}
	release(ReleaseRequest{Device: "a"}, 200)
	if got := releases(); !maps.Equal(got, map[string]int64{"a": 2, "b": 1}) {
		t.Fatalf("after a release on a: %v", got)
	}
	release(ReleaseRequest{Device: a.uuid}, 200)
	if got := releases(); !maps.Equal(got, map[string]int64{"a": 3, "b": 1}) {
		t.Fatalf("after a release on a by UUID: %v", got)
	}
	release(ReleaseRequest{Device: "nope"}, 404)
	if code, _ := call(t, "POST", e.url[0]+"/api/worklets/nope/release", admin(), nil); code != 404 {
		t.Fatalf("unknown worklet = %d, want 404", code)
	}
	if code, _ := call(t, "POST", e.url[0]+"/api/worklets/crashy/release", a.hdr(), nil); code != 401 {
		t.Fatalf("release with a device token = %d, want 401", code)
	}
}

// A command handed to one run of the agent and never answered (the agent
// was stopped while running it) is offered again at the next check-in of
// another run, not after the command timeout; the run it was handed to
// does not get it twice (a background scan keeps running while the agent
// checks in).
func TestReofferAfterAgentRestart(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	id := e.queue(t, "h", protocol.CmdScan)
	checkin := func(run string) protocol.CheckinResponse {
		t.Helper()
		hdr := d.hdr()
		if run != "" {
			hdr[protocol.HeaderAgentRun] = run
		}
		code, body := call(t, "POST", e.url[0]+"/checkin", hdr, nil)
		var r protocol.CheckinResponse
		if code != 200 || json.Unmarshal(body, &r) != nil {
			t.Fatalf("checkin: %d %s", code, body)
		}
		e.clock.Advance(time.Second)
		return r
	}
	if r := checkin("run-1"); r.ID != id {
		t.Fatalf("first check-in got %+v", r)
	}
	if r := checkin("run-1"); r.ID != 0 {
		t.Fatalf("the same run got the command twice: %+v", r)
	}
	if r := checkin(""); r.ID != 0 {
		t.Fatalf("a check-in without a run got it before the timeout: %+v", r)
	}
	if r := checkin("run-2"); r.ID != id || r.Command != protocol.CmdScan {
		t.Fatalf("after a restart: %+v, want command %d again", r, id)
	}
	code, _ := call(t, "POST", e.url[0]+fmt.Sprintf(protocol.PathResult, id), d.hdr(), protocol.CommandResult{Status: "ok", Output: json.RawMessage(`{}`)})
	if code != 200 {
		t.Fatalf("result = %d", code)
	}
	if r := checkin("run-3"); r.ID != 0 {
		t.Fatalf("an answered command offered again: %+v", r)
	}
}
