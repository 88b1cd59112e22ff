package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
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

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

const (
	testAccessKey  = "test-access-key"
	testAdminToken = "test-admin-token"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	clock *clock
	srv   []*Server
	url   []string
	key   ed25519.PrivateKey
}

func hashHex(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }

// newEnv starts one server per store handle (replicas sharing a database).
func newEnv(t *testing.T, stores []store.Store) *env {
	t.Helper()
	ctx := t.Context()
	if err := stores[0].SetSetting(ctx, fleet.SettingAccessKeyHash, hashHex(testAccessKey)); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].SetSetting(ctx, fleet.SettingAdminTokenHash, hashHex(testAdminToken)); err != nil {
		t.Fatal(err)
	}
	e := &env{clock: &clock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}, key: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))}
	for _, st := range stores {
		s, err := New(ctx, Config{Store: st, Now: e.clock.Now, SigningKey: e.key})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(s.Handler())
		t.Cleanup(hs.Close)
		e.srv = append(e.srv, s)
		e.url = append(e.url, hs.URL)
	}
	return e
}

func newSQLiteEnv(t *testing.T) *env { return newEnv(t, store.OpenTestSQLite(t, 1)) }

// call does one request and returns the status and body.
func call(t *testing.T, method, u string, hdr map[string]string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, u, ct)
	}
	return resp.StatusCode, out
}

// device is a minimal protocol client.
type device struct {
	uuid, token, host string
	key               ed25519.PrivateKey
}

// newKey returns a fresh device key.
func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signedEnroll is an enrollment of id signed by key at the given time.
func signedEnroll(key ed25519.PrivateKey, id, host string, at time.Time) protocol.EnrollRequest {
	ts := at.UTC().Format(time.RFC3339)
	return protocol.EnrollRequest{
		AccessKey: testAccessKey, DeviceUUID: id, Hostname: host,
		DeviceKey: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey)),
		Time:      ts, Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, protocol.EnrollMessage(id, ts))),
	}
}

func (e *env) enroll(t *testing.T, host string) *device {
	t.Helper()
	d := &device{uuid: uuid.NewString(), host: host, key: newKey(t)}
	code, body := call(t, "POST", e.url[0]+protocol.PathEnroll, nil, signedEnroll(d.key, d.uuid, host, e.clock.Now()))
	if code != 200 {
		t.Fatalf("enroll: %d %s", code, body)
	}
	var r protocol.EnrollResponse
	if err := json.Unmarshal(body, &r); err != nil || len(r.DeviceToken) < 40 {
		t.Fatalf("enroll answer %s: %v", body, err)
	}
	d.token = r.DeviceToken
	return d
}

func (d *device) hdr() map[string]string {
	return map[string]string{"Authorization": "Bearer " + d.token, protocol.HeaderDeviceUUID: d.uuid}
}

func (d *device) checkin(t *testing.T, base string) protocol.CheckinResponse {
	t.Helper()
	code, body := call(t, "POST", base+"/checkin?uptime=42&ver=1.2.3&tz=%2B0530", d.hdr(), nil)
	if code != 200 {
		t.Fatalf("checkin: %d %s", code, body)
	}
	var r protocol.CheckinResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("checkin answer %s: %v", body, err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("checkin answer %s: %v", body, err)
	}
	return r
}

func admin() map[string]string { return map[string]string{"Authorization": "Bearer " + testAdminToken} }

func (e *env) queue(t *testing.T, dev, command string, params ...string) int64 {
	t.Helper()
	code, body := call(t, "POST", e.url[0]+"/api/devices/"+dev+"/commands", admin(), QueueRequest{Command: command, Params: params})
	if code != http.StatusCreated {
		t.Fatalf("queue: %d %s", code, body)
	}
	var r QueueResponse
	json.Unmarshal(body, &r)
	return r.ID
}

func TestEnroll(t *testing.T) {
	e := newSQLiteEnv(t)
	good := uuid.NewString()
	key := newKey(t)
	now := e.clock.Now()
	ok := signedEnroll(key, good, "h", now)
	with := func(f func(r *protocol.EnrollRequest)) protocol.EnrollRequest {
		r := signedEnroll(key, good, "h", now)
		f(&r)
		return r
	}
	tests := []struct {
		name string
		body any
		want int
	}{
		{"ok", ok, 200},
		{"again, signed later: token rotation", signedEnroll(key, good, "h", now.Add(time.Second)), 200},
		{"wrong key", with(func(r *protocol.EnrollRequest) { r.AccessKey = "nope" }), 401},
		{"empty key", with(func(r *protocol.EnrollRequest) { r.AccessKey = "" }), 401},
		{"bad uuid", with(func(r *protocol.EnrollRequest) { r.DeviceUUID = "x" }), 400},
		{"no hostname", with(func(r *protocol.EnrollRequest) { r.Hostname = "" }), 400},
		{"hostname with space", with(func(r *protocol.EnrollRequest) { r.Hostname = "a b" }), 400},
		{"hostname with escape", with(func(r *protocol.EnrollRequest) { r.Hostname = "a\x1b[2Jb" }), 400},
		{"hostname with bidi override", with(func(r *protocol.EnrollRequest) { r.Hostname = "evil\u202egnp" }), 400},
		{"hostname with C1 control", with(func(r *protocol.EnrollRequest) { r.Hostname = "a\u009bb" }), 400},
		{"no device key", protocol.EnrollRequest{AccessKey: testAccessKey, DeviceUUID: good, Hostname: "h"}, 400},
		{"device key not base64", with(func(r *protocol.EnrollRequest) { r.DeviceKey = "!!" }), 400},
		{"device key too short", with(func(r *protocol.EnrollRequest) { r.DeviceKey = "AAAA" }), 400},
		{"no time", with(func(r *protocol.EnrollRequest) { r.Time = "" }), 400},
		{"time not RFC 3339", with(func(r *protocol.EnrollRequest) { r.Time = "yesterday" }), 400},
		{"no signature", with(func(r *protocol.EnrollRequest) { r.Signature = "" }), 400},
		{"signature not base64", with(func(r *protocol.EnrollRequest) { r.Signature = "%%" }), 400},
		{"signature by another key", signedEnroll(newKey(t), good, "h", now.Add(2*time.Second)), 409},
		{"signature over another uuid", with(func(r *protocol.EnrollRequest) { r.DeviceUUID = uuid.NewString() }), 401},
		{"signature does not cover the time", with(func(r *protocol.EnrollRequest) { r.Time = now.Add(3 * time.Second).Format(time.RFC3339) }), 401},
		{"malformed json", `{"access_key": `, 400},
		{"not an object", `[1,2]`, 400},
		{"trailing data", `{} {}`, 400},
		{"oversized", `{"hostname":"` + strings.Repeat("a", 10000) + `"}`, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, "POST", e.url[0]+"/enroll", nil, tt.body)
			if code != tt.want {
				t.Fatalf("status %d (%s), want %d", code, body, tt.want)
			}
			if code != 200 {
				var eb errorBody
				if json.Unmarshal(body, &eb) != nil || eb.Error == "" {
					t.Fatalf("error body %s has no error", body)
				}
			}
		})
	}
}

func TestCheckinNopAndState(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "web1")
	r := d.checkin(t, e.url[0])
	if r.ID != 0 || r.Command != protocol.CmdNop || r.Params == nil || r.Config == nil {
		t.Fatalf("answer = %+v", r)
	}
	if r.Config.CheckinInterval != 3600 || r.Config.ScanInterval != 12 || r.Config.Worklets == nil {
		t.Fatalf("config = %+v", r.Config)
	}
	// The raw answer has the fields the protocol names.
	_, raw := call(t, "POST", e.url[0]+"/checkin", d.hdr(), nil)
	for _, k := range []string{`"id":0`, `"command":"nop"`, `"params":[]`, `"checkin_interval":3600`, `"scan_interval":12`, `"worklets":[]`} {
		if !bytes.Contains(raw, []byte(k)) {
			t.Errorf("answer %s lacks %s", raw, k)
		}
	}
	d.checkin(t, e.url[0])
	if err := e.srv[0].Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	code, body := call(t, "GET", e.url[0]+"/api/devices", admin(), nil)
	var devs []fleet.DeviceView
	if code != 200 || json.Unmarshal(body, &devs) != nil || len(devs) != 1 {
		t.Fatalf("devices: %d %s", code, body)
	}
	got := devs[0]
	if got.Hostname != "web1" || got.Uptime != 42 || got.AgentVersion != "1.2.3" || got.TZ != "+0530" || !got.Online || !got.LastSeen.Equal(e.clock.Now()) {
		t.Fatalf("device = %+v", got)
	}
}

func TestCheckinBadRequests(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	other := e.enroll(t, "o")
	tests := []struct {
		name  string
		query string
		hdr   map[string]string
		body  string
		want  int
	}{
		{"no credentials", "", nil, "", 401},
		{"wrong token", "", map[string]string{"Authorization": "Bearer nope", protocol.HeaderDeviceUUID: d.uuid}, "", 401},
		{"token of another device", "", map[string]string{"Authorization": "Bearer " + other.token, protocol.HeaderDeviceUUID: d.uuid}, "", 401},
		{"unknown device", "", map[string]string{"Authorization": "Bearer " + d.token, protocol.HeaderDeviceUUID: uuid.NewString()}, "", 401},
		{"bad uptime", "?uptime=-1", d.hdr(), "", 400},
		{"uptime not a number", "?uptime=abc", d.hdr(), "", 400},
		{"bad tz", "?tz=0530", d.hdr(), "", 400},
		{"unencoded plus", "?tz=+0530", d.hdr(), "", 400},
		{"oversized body", "", d.hdr(), strings.Repeat("x", 10000), 413},
		{"ok", "?uptime=1&tz=-0500&ver=2", d.hdr(), "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := call(t, "POST", e.url[0]+"/checkin"+tt.query, tt.hdr, tt.body); code != tt.want {
				t.Fatalf("status %d (%s), want %d", code, body, tt.want)
			}
		})
	}
	if code, _ := call(t, "GET", e.url[0]+"/checkin", d.hdr(), nil); code != 405 {
		t.Errorf("GET /checkin = %d, want 405", code)
	}
	if code, _ := call(t, "GET", e.url[0]+"/nope", nil, nil); code != 404 {
		t.Errorf("unknown path = %d, want 404", code)
	}
}

func TestCommandFlowAndIsolation(t *testing.T) {
	e := newSQLiteEnv(t)
	a := e.enroll(t, "a")
	b := e.enroll(t, "b")
	id := e.queue(t, "a", protocol.CmdExec, "GetOS")
	if r := b.checkin(t, e.url[0]); r.Command != protocol.CmdNop {
		t.Fatalf("device b got %+v", r)
	}
	r := a.checkin(t, e.url[0])
	if r.ID != id || r.Command != protocol.CmdExec || len(r.Params) != 1 || r.Params[0] != "GetOS" {
		t.Fatalf("device a got %+v", r)
	}
	if r := a.checkin(t, e.url[0]); r.Command != protocol.CmdNop {
		t.Fatalf("command offered twice: %+v", r)
	}
	path := e.url[0] + fmt.Sprintf(protocol.PathResult, id)
	res := protocol.CommandResult{Status: "ok", StartedAt: e.clock.Now(), ElapsedMS: 3, Output: json.RawMessage(`{"name":"Debian"}`)}
	results := []struct {
		name string
		dev  *device
		path string
		body any
		want int
	}{
		{"other device", b, path, res, 404},
		{"malformed json", a, path, `{"status":`, 400},
		{"bad status", a, path, `{"status":"maybe"}`, 400},
		{"bad started_at", a, path, `{"status":"ok","started_at":"yesterday"}`, 400},
		{"oversized", a, path, `{"status":"ok","output":"` + strings.Repeat("a", 5<<20) + `"}`, 413},
		{"bad id", a, e.url[0] + "/commands/x/result", res, 404},
		{"unknown id", a, e.url[0] + "/commands/99999/result", res, 404},
		{"ok", a, path, res, 200},
		{"duplicate", a, path, res, 200},
		{"empty started_at", a, path, `{"status":"ok","started_at":""}`, 200},
	}
	for _, tt := range results {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := call(t, "POST", tt.path, tt.dev.hdr(), tt.body); code != tt.want {
				t.Fatalf("status %d (%s), want %d", code, body, tt.want)
			}
		})
	}
	code, body := call(t, "GET", e.url[0]+"/api/devices/a/results", admin(), nil)
	var rs fleet.Results
	if code != 200 || json.Unmarshal(body, &rs) != nil || len(rs.Commands) != 1 {
		t.Fatalf("results: %d %s", code, body)
	}
	if c := rs.Commands[0]; c.Status != "ok" || string(c.Output) != `{"name":"Debian"}` || c.ElapsedMS != 3 {
		t.Fatalf("stored result = %+v", c)
	}
	if _, body := call(t, "GET", e.url[0]+"/api/devices/b/results", admin(), nil); bytes.Contains(body, []byte("Debian")) {
		t.Fatalf("device b's results show a's output: %s", body)
	}
}

func TestReofferAfterTimeout(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	id := e.queue(t, d.uuid, protocol.CmdScan)
	if r := d.checkin(t, e.url[0]); r.ID != id {
		t.Fatalf("first offer = %+v", r)
	}
	e.clock.Advance(DefaultCommandTimeout - time.Second)
	if r := d.checkin(t, e.url[0]); r.ID != 0 {
		t.Fatalf("offered again before the timeout: %+v", r)
	}
	e.clock.Advance(2 * time.Second)
	if r := d.checkin(t, e.url[0]); r.ID != id {
		t.Fatalf("not re-offered after the timeout: %+v", r)
	}
	call(t, "POST", e.url[0]+fmt.Sprintf(protocol.PathResult, id), d.hdr(), protocol.CommandResult{Status: "ok"})
	e.clock.Advance(time.Hour)
	if r := d.checkin(t, e.url[0]); r.ID != 0 {
		t.Fatalf("offered after its result: %+v", r)
	}
}

func TestReplicasHandOutOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(testing.TB, int) []store.Store
	}{{"sqlite", store.OpenTestSQLite}, {"postgres", store.OpenTestPostgres}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.open(t, 2))
			d := e.enroll(t, "h")
			const rounds, workers = 5, 16
			for round := range rounds {
				id := e.queue(t, d.uuid, protocol.CmdExec, fmt.Sprint("GetOS", round))
				var got atomic.Int32
				var wg sync.WaitGroup
				for w := range workers {
					wg.Go(func() {
						if r := d.checkin(t, e.url[w%2]); r.ID != 0 {
							if r.ID != id {
								t.Errorf("got command %d, want %d", r.ID, id)
							}
							got.Add(1)
						}
					})
				}
				wg.Wait()
				if n := got.Load(); n != 1 {
					t.Fatalf("round %d: command handed out %d times, want 1", round, n)
				}
			}
		})
	}
}

func TestWorkletsScansBundles(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	manifest := "abi = 1\nkind = \"worklet\"\nname = \"ssh-no-root\"\nversion = \"1.0.0\"\nmodule = \"w.wasm\"\n"
	module := []byte("\x00asm\x01\x00\x00\x00")
	code, body := call(t, "POST", e.url[0]+"/api/worklets", admin(), WorkletRequest{Manifest: manifest, Module: module})
	if code != http.StatusCreated {
		t.Fatalf("add worklet: %d %s", code, body)
	}
	if code, _ := call(t, "POST", e.url[0]+"/api/worklets", admin(), WorkletRequest{Manifest: manifest, Module: module}); code != http.StatusConflict {
		t.Fatalf("adding the same version again = %d, want 409", code)
	}
	if code, _ := call(t, "POST", e.url[0]+"/api/worklets", admin(), WorkletRequest{Manifest: "abi = 2", Module: module}); code != 400 {
		t.Fatalf("bad manifest = %d, want 400", code)
	}
	if code, body := call(t, "POST", e.url[0]+"/api/groups/default/assignments", admin(), store.Assignment{Worklet: "ssh-no-root", Remediate: "02:00"}); code != 200 {
		t.Fatalf("assign: %d %s", code, body)
	}
	if code, _ := call(t, "POST", e.url[0]+"/api/groups/default/assignments", admin(), store.Assignment{Worklet: "ssh-no-root", Remediate: "soon"}); code != 400 {
		t.Fatalf("bad remediate = %d, want 400", code)
	}
	r := d.checkin(t, e.url[0])
	if len(r.Config.Worklets) != 1 {
		t.Fatalf("config worklets = %+v", r.Config.Worklets)
	}
	a := r.Config.Worklets[0]
	if a.URL != "/bundles/ssh-no-root/1.0.0" || a.SHA256 != bundle.Digest(module) || a.ManifestSHA256 != bundle.Digest([]byte(manifest)) || a.Remediate != "02:00" || a.Kind != "worklet" {
		t.Fatalf("assignment = %+v", a)
	}
	if err := bundle.Verify(e.key.Public().(ed25519.PublicKey), a.Signature, a.Name, a.Version, a.ManifestSHA256, a.SHA256); err != nil {
		t.Fatalf("assignment signature: %v", err)
	}
	code, body = call(t, "GET", e.url[0]+a.URL, d.hdr(), nil)
	var b BundleResponse
	if code != 200 || json.Unmarshal(body, &b) != nil {
		t.Fatalf("bundle: %d %s", code, body)
	}
	if b.Manifest != manifest || !bytes.Equal(b.Module, module) || b.Signature != a.Signature {
		t.Fatalf("bundle = %+v", b)
	}
	if !bytes.Contains(body, []byte(`"module":"AGFzbQEAAAA="`)) {
		t.Fatalf("module is not base64 in %s", body)
	}
	if code, _ := call(t, "GET", e.url[0]+a.URL, nil, nil); code != 401 {
		t.Fatalf("bundle without device auth = %d", code)
	}
	if code, _ := call(t, "GET", e.url[0]+"/bundles/ssh-no-root/9.9.9", d.hdr(), nil); code != 404 {
		t.Fatalf("unknown bundle = %d", code)
	}
	// A bundle that exists but is not assigned to the device's group.
	other := strings.Replace(manifest, `"ssh-no-root"`, `"not-assigned"`, 1)
	if code, body := call(t, "POST", e.url[0]+"/api/worklets", admin(), WorkletRequest{Manifest: other, Module: module}); code != http.StatusCreated {
		t.Fatalf("add second worklet: %d %s", code, body)
	}
	if code, body := call(t, "GET", e.url[0]+"/bundles/not-assigned/1.0.0", d.hdr(), nil); code != 404 || !bytes.Contains(body, []byte("not assigned")) && !bytes.Contains(body, []byte("assigned to this device")) {
		t.Fatalf("unassigned bundle = %d %s, want 404", code, body)
	}

	scan := `{"scan_id":"s1","started_at":"2026-11-25T12:00:00Z","reason":"command","scan":{"hostname":"h"},"results":[
		{"name":"a","phase":"evaluate","status":"compliant"},
		{"name":"b","phase":"evaluate","status":"non-compliant"},
		{"name":"b","phase":"remediate","status":"succeeded"},
		{"name":"b","phase":"evaluate","status":"compliant"},
		{"name":"c","phase":"evaluate","status":"error"}]}`
	for _, tt := range []struct {
		name, body string
		want       int
	}{
		{"malformed", `{"scan_id":`, 400},
		{"no scan id", `{"results":[]}`, 400},
		{"oversized", `{"scan_id":"x","scan":"` + strings.Repeat("a", 17<<20) + `"}`, 413},
		{"ok", scan, 200},
	} {
		t.Run("scan "+tt.name, func(t *testing.T) {
			if code, body := call(t, "POST", e.url[0]+"/scan", d.hdr(), tt.body); code != tt.want {
				t.Fatalf("status %d (%s), want %d", code, body, tt.want)
			}
		})
	}
	_, body = call(t, "GET", e.url[0]+"/api/devices/h/results", admin(), nil)
	var rs fleet.Results
	json.Unmarshal(body, &rs)
	if rs.Scan == nil || rs.Scan.ScanID != "s1" || rs.Scan.Summary != (store.Summary{Compliant: 2, Error: 1}) || rs.Device.LastScan.IsZero() {
		t.Fatalf("results scan = %+v", rs.Scan)
	}
}

func TestAdminAPI(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		body               any
		want               int
	}{
		{"no token", "GET", "/api/devices", nil, nil, 401},
		{"device token", "GET", "/api/devices", d.hdr(), nil, 401},
		{"unknown endpoint", "GET", "/api/nope", admin(), nil, 404},
		{"wrong method", "DELETE", "/api/devices", admin(), nil, 405},
		{"unknown device", "GET", "/api/devices/nope", admin(), nil, 404},
		{"queue unknown command", "POST", "/api/devices/h/commands", admin(), QueueRequest{Command: "rm"}, 400},
		{"queue nop", "POST", "/api/devices/h/commands", admin(), QueueRequest{Command: "nop"}, 400},
		{"queue reboot bad delay", "POST", "/api/devices/h/commands", admin(), QueueRequest{Command: "reboot", Params: []string{"soon"}}, 400},
		{"queue runWorklet", "POST", "/api/devices/h/commands", admin(), QueueRequest{Command: "runWorklet", Params: []string{"x", "evaluate"}}, 201},
		{"add group", "POST", "/api/groups", admin(), GroupRequest{Name: "servers", ScanInterval: 6}, 201},
		{"add group bad interval", "POST", "/api/groups", admin(), GroupRequest{Name: "x", ScanInterval: 48}, 400},
		{"add group twice", "POST", "/api/groups", admin(), GroupRequest{Name: "servers", ScanInterval: 6}, 409},
		{"set interval", "PUT", "/api/groups/servers", admin(), GroupRequest{ScanInterval: 8}, 200},
		{"set interval unknown", "PUT", "/api/groups/nope", admin(), GroupRequest{ScanInterval: 8}, 404},
		{"move", "PUT", "/api/devices/h/group", admin(), MoveRequest{Group: "servers"}, 200},
		{"move unknown group", "PUT", "/api/devices/h/group", admin(), MoveRequest{Group: "nope"}, 404},
		{"unassign missing", "DELETE", "/api/groups/servers/assignments/x", admin(), nil, 404},
		{"key", "GET", "/api/key", admin(), nil, 200},
		{"worklets", "GET", "/api/worklets", admin(), nil, 200},
		{"groups", "GET", "/api/groups", admin(), nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := call(t, tt.method, e.url[0]+tt.path, tt.hdr, tt.body); code != tt.want {
				t.Fatalf("status %d (%s), want %d", code, body, tt.want)
			}
		})
	}
	if r := d.checkin(t, e.url[0]); r.Config.ScanInterval != 8 || r.Command != protocol.CmdRunWorklet {
		t.Fatalf("after move: %+v %+v", r, r.Config)
	}
}
