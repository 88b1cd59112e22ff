package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

const adminToken = "test-admin-token-0123456789abcdef"

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Hostile strings a device may send.
const (
	hostileHost = `<script>alert(1)</script>`
	hostileMsg  = "ok\x1b]0;pwned\x07 \u202eexe.txt \u009b31m"
	hostilePkg  = `"><img src=x onerror=alert(2)>`
)

type env struct {
	t     *testing.T
	st    store.Store
	con   *Console
	srv   *httptest.Server
	c     *http.Client
	log   *syncBuffer
	clock *clock
	devs  map[string]store.Device
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// scanReport is a scan report with packages, results and updates.
func scanReport(scanID string, at time.Time, pkgs []scandoc.Package, results []protocol.WorkletResult, updates []scandoc.Update) []byte {
	doc := scandoc.Document{Schema: 1, CollectedAt: at, OS: scandoc.OS{Family: "linux", PrettyName: "Debian GNU/Linux 12 (bookworm)", Kernel: "6.1.0-18-amd64", Architecture: "amd64"},
		Hardware: scandoc.Hardware{Vendor: "QEMU", Model: "Standard PC", CPU: scandoc.CPU{Model: "Xeon", Cores: 2, Threads: 2}, MemoryBytes: 8 << 30,
			Disks: []scandoc.Disk{{Mountpoint: "/", Device: "/dev/vda1", FSType: "ext4", TotalBytes: 100 << 30, UsedBytes: 50 << 30, UsedPct: 50}}},
		LastUser: scandoc.LastUser{Name: "alice"}, Software: pkgs, PendingUpdates: updates, Reboot: scandoc.Reboot{Required: len(updates) > 0, Reasons: []string{"/var/run/reboot-required exists"}}}
	scan, _ := json.Marshal(doc)
	b, _ := json.Marshal(protocol.ScanReport{ScanID: scanID, StartedAt: at, Reason: "interval", Scan: scan, Results: results})
	return b
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{t: t, st: store.OpenTestSQLite(t, 1)[0], log: &syncBuffer{}, clock: &clock{now: t0}, devs: map[string]store.Device{}}
	ctx := t.Context()
	if err := e.st.SetSetting(ctx, fleet.SettingAdminTokenHash, fleet.HashToken(adminToken)); err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Now = e.st, e.clock.Now
	if cfg.AggregateTTL == 0 {
		cfg.AggregateTTL = -1 // every request sees the store as it is
	}
	cfg.Logger = slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	con, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.con = con
	e.srv = httptest.NewServer(con.Handler())
	t.Cleanup(e.srv.Close)
	jar, _ := cookiejar.New(nil)
	e.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// seed adds devices: web1 (online, scanned twice, an update), the hostile
// one (scanned, hostile results and package) and n plain ones.
func (e *env) seed(n int) {
	t, ctx := e.t, e.t.Context()
	enroll := func(host string) store.Device {
		id, err := e.st.Enroll(ctx, store.Enrollment{UUID: uuid.NewString(), Hostname: host, TokenHash: "x"}, t0.Add(-48*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.st.FindDevice(ctx, host)
		if err != nil || d.ID != id {
			t.Fatal(err)
		}
		e.devs[host] = d
		return d
	}
	web1 := enroll("web1")
	if err := e.st.RecordCheckins(ctx, []store.Checkin{{DeviceID: web1.ID, At: t0.Add(-time.Minute), AgentVersion: "1.2.0"}}); err != nil {
		t.Fatal(err)
	}
	res := func(name, status, msg string) protocol.WorkletResult {
		return protocol.WorkletResult{Name: name, Version: "1.0.0", Kind: "worklet", Phase: "evaluate", Status: status, Message: msg, Details: json.RawMessage(`{"port":22}`)}
	}
	first := scanReport("w1-a", t0.Add(-26*time.Hour), []scandoc.Package{{Name: "bash", Version: "5.1-2", Source: "dpkg"}, {Name: "curl", Version: "7.88.1-10", Source: "dpkg"}},
		[]protocol.WorkletResult{res("ssh-no-root-login", "non-compliant", "PermitRootLogin yes")}, nil)
	second := scanReport("w1-b", t0.Add(-time.Hour), []scandoc.Package{{Name: "bash", Version: "5.2.15-2+b8", Source: "dpkg"}, {Name: "zsh", Version: "5.9-4", Source: "dpkg"}},
		[]protocol.WorkletResult{res("ssh-no-root-login", "compliant", "PermitRootLogin no"), res("disk-usage", "not-applicable", "")},
		[]scandoc.Update{{Name: "openssl", CurrentVersion: "3.0.11", Version: "3.0.15", Security: true, Severity: "important"}})
	if _, err := e.st.SaveScan(ctx, web1.ID, store.NewScan{ID: "w1-a", StartedAt: t0.Add(-26 * time.Hour), Report: first}, t0.Add(-26*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SaveScan(ctx, web1.ID, store.NewScan{ID: "w1-b", StartedAt: t0.Add(-time.Hour), Report: second}, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	evil := enroll(hostileHost)
	bad := scanReport("evil", t0.Add(-2*time.Hour), []scandoc.Package{{Name: "bash", Version: "4.4", Source: "dpkg"}, {Name: hostilePkg, Version: "=cmd|' /C calc'!A0", Source: "dpkg"}},
		[]protocol.WorkletResult{res("ssh-no-root-login", "non-compliant", hostileMsg), res("quarantined-one", "quarantined", "crashed 3 times")}, nil)
	if _, err := e.st.SaveScan(ctx, evil.ID, store.NewScan{ID: "evil", StartedAt: t0.Add(-2 * time.Hour), Report: bad}, t0.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		enroll(fmt.Sprintf("node%03d", i))
	}
}

func (e *env) url(p string) string { return e.srv.URL + p }

func (e *env) get(p string) (*http.Response, string) {
	e.t.Helper()
	resp, err := e.c.Get(e.url(p))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (e *env) post(p string, form url.Values, hdr ...string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url(p), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", body)
	}
	return m[1]
}

// signIn signs in and returns the session's CSRF token.
func (e *env) signIn() string {
	e.t.Helper()
	_, body := e.get("/signin")
	resp, body := e.post("/signin", url.Values{"csrf": {csrfOf(e.t, body)}, "token": {adminToken}, "next": {"/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		e.t.Fatalf("sign-in = %s %q:\n%s", resp.Status, resp.Header.Get("Location"), body)
	}
	_, body = e.get("/")
	return csrfOf(e.t, body)
}

func TestSignInSessionCookieAndSignOut(t *testing.T) {
	e := newEnv(t, Config{})
	resp, _ := e.get("/devices?q=web")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Fdevices%3Fq%3Dweb" {
		t.Fatalf("signed-out visit = %s to %q, want 303 to sign-in", resp.Status, resp.Header.Get("Location"))
	}
	resp, body := e.get("/signin")
	tok := csrfOf(t, body)
	if !strings.Contains(body, `type="password"`) || !strings.Contains(body, `method="post"`) {
		t.Fatal("the sign-in form does not post a password field")
	}
	// No CSRF token: refused; a wrong admin token: refused.
	if resp, _ := e.post("/signin", url.Values{"token": {adminToken}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without the form's CSRF token = %s, want 403", resp.Status)
	}
	_, body = e.get("/signin")
	tok = csrfOf(t, body)
	if resp, _ := e.post("/signin", url.Values{"csrf": {tok}, "token": {"wrong"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong admin token = %s, want 401", resp.Status)
	}
	_, body = e.get("/signin")
	tok = csrfOf(t, body)
	resp, _ = e.post("/signin", url.Values{"csrf": {tok}, "token": {adminToken}, "next": {"https://evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign-in = %s to %q, want 303 to / (an off-site next is ignored)", resp.Status, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieSession && c.Value != "" {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode || sess.Secure || sess.MaxAge != int(DefaultSessionTTL/time.Second) || sess.Path != "/" {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, Max-Age 12h, not Secure over plain HTTP", sess)
	}
	if strings.Contains(e.log.String(), adminToken) || strings.Contains(resp.Header.Get("Location"), adminToken) {
		t.Fatal("the admin token is in the log or a URL")
	}
	if resp, body := e.get("/"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Sign out") {
		t.Fatalf("fleet after sign-in = %s", resp.Status)
	}
	// Sign out: the session ends on the server too (the old cookie value
	// no longer works).
	_, body = e.get("/")
	if resp, _ := e.post("/signout", url.Values{"csrf": {csrfOf(t, body)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out = %s", resp.Status)
	}
	u, _ := url.Parse(e.srv.URL)
	e.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieSession, Value: sess.Value, Path: "/"}})
	if resp, _ := e.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the signed-out cookie still works: %s", resp.Status)
	}
}

func TestSessionExpiresAndEndsWithANewAdminToken(t *testing.T) {
	e := newEnv(t, Config{SessionTTL: time.Hour})
	e.signIn()
	e.clock.add(59 * time.Minute)
	if resp, _ := e.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("within the session = %s", resp.Status)
	}
	e.clock.add(2 * time.Minute)
	if resp, _ := e.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after expiry = %s, want 303 to sign-in", resp.Status)
	}
	e.signIn()
	if err := e.st.SetSetting(t.Context(), fleet.SettingAdminTokenHash, fleet.HashToken("a-new-token-0123456789")); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after a new admin token = %s, want 303 to sign-in", resp.Status)
	}
}

func TestSecureCookieUnderTLS(t *testing.T) {
	e := newEnv(t, Config{Secure: true})
	ts := httptest.NewTLSServer(e.con.Handler())
	defer ts.Close()
	jar, _ := cookiejar.New(nil)
	c := ts.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(ts.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp, err = c.PostForm(ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, string(b))}, "token": {adminToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sess *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieSessionSecure {
			sess = ck
		}
	}
	if sess == nil || !sess.Secure || !sess.HttpOnly || sess.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie under TLS = %+v, want __Host-amp_session, Secure, HttpOnly, SameSite=Strict", sess)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS under TLS")
	}
}

func TestFormsNeedTheCSRFToken(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed(0)
	csrf := e.signIn()
	d := e.devs["web1"]
	path := "/devices/" + d.UUID + "/commands"
	count := func() int {
		cmds, err := e.st.Commands(t.Context(), d.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(cmds)
	}
	for _, c := range []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{"command": {"scan"}}, nil},
		{"wrong token", url.Values{"command": {"scan"}, "csrf": {"x" + csrf}}, nil},
		{"another site", url.Values{"command": {"scan"}, "csrf": {csrf}}, []string{"Sec-Fetch-Site", "cross-site"}},
		{"another origin", url.Values{"command": {"scan"}, "csrf": {csrf}}, []string{"Origin", "https://evil.example"}},
	} {
		resp, body := e.post(path, c.form, c.hdr...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
			t.Errorf("%s: %s, want 403 naming the CSRF token", c.name, resp.Status)
		}
	}
	if n := count(); n != 0 {
		t.Fatalf("%d commands queued by refused forms", n)
	}
	resp, _ := e.post(path, url.Values{"command": {"scan"}, "csrf": {csrf}}, "Sec-Fetch-Site", "same-origin")
	if resp.StatusCode != http.StatusSeeOther || count() != 1 {
		t.Fatalf("scan with the token = %s, %d commands", resp.Status, count())
	}
	// Every form on every page carries the token.
	for _, p := range []string{"/", "/devices", "/devices/" + d.UUID, "/groups", "/worklets", "/software?name=bash", "/devices/" + d.UUID + "/retire"} {
		_, body := e.get(p)
		forms := strings.Count(body, `method="post"`)
		if got := strings.Count(body, `name="csrf" value="`+csrf+`"`); got < forms {
			t.Errorf("%s: %d POST forms, %d carry the CSRF token", p, forms, got)
		}
	}
}

func TestHeadersAndNoScript(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed(3)
	for _, p := range []string{"/signin", "/static/console.css", "/nope"} {
		resp, _ := e.get(p)
		if resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy || resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
	}
	if !strings.Contains(ContentSecurityPolicy, "script-src 'none'") || strings.Contains(ContentSecurityPolicy, "unsafe-inline") {
		t.Fatalf("CSP %q must forbid every script", ContentSecurityPolicy)
	}
	e.signIn()
	for _, p := range pages(e) {
		resp, body := e.get(p)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s = %s:\n%s", p, resp.Status, body)
			continue
		}
		if resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
		for _, bad := range []string{"<script", " style=", " onclick=", "javascript:", "template error"} {
			if strings.Contains(strings.ToLower(body), bad) {
				t.Errorf("%s contains %q", p, bad)
			}
		}
	}
}

// pages lists one URL of every page, with the seeded devices.
func pages(e *env) []string {
	web1 := e.devs["web1"]
	hist, _ := e.st.ScanHistory(e.t.Context(), web1.ID)
	diff := ""
	if len(hist) == 2 {
		diff = fmt.Sprintf("/devices/%s?from=%d&to=%d", web1.UUID, hist[1].ID, hist[0].ID)
	}
	return []string{"/", "/devices", "/devices?status=online&outcome=non-compliant", "/devices/" + web1.UUID, diff,
		"/devices/" + e.devs[hostileHost].UUID, "/devices/" + web1.UUID + "/retire", "/worklets", "/worklets/ssh-no-root-login",
		"/worklets/ssh-no-root-login?status=failing", "/groups", "/software", "/software?name=bash&below=5", "/software?name=as"}
}

func TestDeviceStringsAreEscaped(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed(0)
	e.signIn()
	evil := e.devs[hostileHost]
	for _, p := range []string{"/", "/devices", "/devices/" + evil.UUID, "/worklets/ssh-no-root-login", "/software?name=" + url.QueryEscape(hostilePkg), "/software?name=bash"} {
		_, body := e.get(p)
		for _, raw := range []string{"<script>alert", "<img src=x", "\x1b", "\x07", "\u202e", "\u009b"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: the page holds %q raw", p, raw)
			}
		}
	}
	_, body := e.get("/devices/" + evil.UUID)
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", `ok\x1b]0;pwned\x07 \u202eexe.txt \u009b31m`} {
		if !strings.Contains(body, want) {
			t.Errorf("device page does not show %q as text", want)
		}
	}
	if _, body := e.get("/software?name=" + url.QueryEscape(hostilePkg)); !strings.Contains(body, "&#34;&gt;&lt;img src=x") {
		t.Errorf("software page does not show the hostile package name as text")
	}
}

func TestDevicesPageSortsPagesAndFilters(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed(60)
	e.signIn()
	rows := regexp.MustCompile(`<a href="/devices/[0-9a-f-]{36}"[^>]*>([^<]+)</a>`)
	names := func(p string) []string {
		t.Helper()
		resp, body := e.get(p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s = %s", p, resp.Status)
		}
		var out []string
		for _, m := range rows.FindAllStringSubmatch(body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	got := names("/devices")
	if len(got) != perPage || got[0] != "&lt;script&gt;alert(1)&lt;/script&gt;" || got[1] != "node000" {
		t.Fatalf("page 1 = %d rows starting %v", len(got), got[:2])
	}
	if got := names("/devices?d.page=2"); len(got) != 12 || got[len(got)-1] != "web1" {
		t.Fatalf("page 2 = %v", got)
	}
	if got := names("/devices?d.sort=hostname&d.dir=desc"); got[0] != "web1" || got[1] != "node059" {
		t.Fatalf("descending = %v", got[:2])
	}
	if got := names("/devices?d.sort=non_compliant&d.dir=desc"); got[0] != "&lt;script&gt;alert(1)&lt;/script&gt;" {
		t.Fatalf("by non-compliant = %v", got[:2])
	}
	if got := names("/devices?q=node05&d.sort=hostname"); len(got) != 10 {
		t.Fatalf("search = %v", got)
	}
	if got := names("/devices?status=online"); len(got) != 1 || got[0] != "web1" {
		t.Fatalf("online = %v", got)
	}
	if got := names("/devices?worklet=ssh-no-root-login&outcome=compliant"); len(got) != 1 || got[0] != "web1" {
		t.Fatalf("worklet filter = %v", got)
	}
	_, body := e.get("/devices?d.sort=hostname&d.dir=desc")
	if !strings.Contains(body, `aria-sort="descending"`) || !strings.Contains(body, `href="/devices?d.dir=desc&amp;d.page=2&amp;d.sort=hostname#d"`) {
		t.Fatalf("sort state or next-page link missing")
	}
}

func TestExports(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed(2)
	e.signIn()
	resp, body := e.get("/devices.csv?d.sort=hostname")
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("devices.csv headers %v", resp.Header)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 5 || recs[0][0] != "hostname" || recs[1][0] != hostileHost || recs[4][0] != "web1" {
		t.Fatalf("devices.csv = %v, %v", recs, err)
	}
	if recs[4][8] != "1" || recs[4][13] != "1" || recs[4][14] != "1" {
		t.Fatalf("web1 row = %v", recs[4])
	}
	_, body = e.get("/devices.json?status=online")
	var devs []map[string]any
	if err := json.Unmarshal([]byte(body), &devs); err != nil || len(devs) != 1 || devs[0]["hostname"] != "web1" || devs[0]["status"] != "online" {
		t.Fatalf("devices.json = %s, %v", body, err)
	}
	_, body = e.get("/compliance.csv")
	if recs, _ := csv.NewReader(strings.NewReader(body)).ReadAll(); len(recs) != 4 || recs[3][0] != "ssh-no-root-login" || recs[3][2] != "1" || recs[3][3] != "1" {
		t.Fatalf("compliance.csv = %q", body)
	}
	_, body = e.get("/software.json?name=bash&below=5")
	var sw []store.SoftwareRow
	if err := json.Unmarshal([]byte(body), &sw); err != nil || len(sw) != 1 || sw[0].Version != "4.4" {
		t.Fatalf("software.json below 5 = %s, %v", body, err)
	}
	_, body = e.get("/software.csv?name=" + url.QueryEscape(hostilePkg))
	recs, _ = csv.NewReader(strings.NewReader(body)).ReadAll()
	if len(recs) != 2 || recs[1][4] != "'=cmd|' /C calc'!A0" {
		t.Fatalf("a formula is not neutralized in CSV: %v", recs)
	}
	if resp, _ := e.get("/software?name=bash&below=%21"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a malformed version = %s, want 400", resp.Status)
	}
}

func TestActionsChangeTheStore(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed(1)
	csrf := e.signIn()
	ctx := t.Context()
	web1 := e.devs["web1"]
	form := func(kv ...string) url.Values {
		v := url.Values{"csrf": {csrf}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	expect := func(p string, v url.Values, code int) string {
		t.Helper()
		resp, body := e.post(p, v)
		if resp.StatusCode != code {
			t.Fatalf("POST %s = %s, want %d:\n%s", p, resp.Status, code, body)
		}
		return resp.Header.Get("Location")
	}
	expect("/devices/"+web1.UUID+"/commands", form("command", "reboot", "delay", "30"), http.StatusSeeOther)
	expect("/devices/"+web1.UUID+"/commands", form("command", "runWorklet", "worklet", "ssh", "phase", "evaluate"), http.StatusSeeOther)
	expect("/devices/"+web1.UUID+"/commands", form("command", "execCmd"), http.StatusBadRequest)
	expect("/devices/"+web1.UUID+"/commands", form("command", "reboot", "delay", "-1"), http.StatusBadRequest)
	cmds, _ := e.st.Commands(ctx, web1.ID, 10)
	if len(cmds) != 2 || cmds[0].Command != protocol.CmdRunWorklet || cmds[1].Params[0] != "30" {
		t.Fatalf("commands = %+v", cmds)
	}
	if loc := expect(fmt.Sprintf("/commands/%d/cancel", cmds[0].ID), form(), http.StatusSeeOther); loc != "/devices/"+web1.UUID+"?done=canceled#c" {
		t.Fatalf("cancel went to %q", loc)
	}
	expect(fmt.Sprintf("/commands/%d/cancel", cmds[0].ID), form(), http.StatusConflict)
	expect("/groups", form("name", "servers", "interval", "8"), http.StatusSeeOther)
	expect("/groups", form("name", "Bad Name", "interval", "8"), http.StatusBadRequest)
	expect("/groups/servers/interval", form("interval", "30"), http.StatusBadRequest)
	expect("/groups/servers/interval", form("interval", "6"), http.StatusSeeOther)
	expect("/devices/"+web1.UUID+"/group", form("group", "servers"), http.StatusSeeOther)
	expect("/groups/move", form("device", "node000", "group", "servers"), http.StatusSeeOther)
	gs, _ := e.st.Groups(ctx)
	for _, g := range gs {
		if g.Name == "servers" && (g.ScanInterval != 6 || g.Devices != 2) {
			t.Fatalf("group servers = %+v", g)
		}
	}
	expect("/groups/servers/assign", form("worklet", "nope"), http.StatusNotFound)

	// Quarantine release, on one device (from its page) and everywhere.
	evil := e.devs[hostileHost]
	if _, body := e.get("/devices/" + evil.UUID); !strings.Contains(body, `action="/worklets/quarantined-one/release"`) {
		t.Fatal("the device page offers no release for its quarantined worklet")
	}
	expect("/worklets/quarantined-one/release", form("device", evil.UUID, "back", "device"), http.StatusNotFound) // not stored yet
	if err := e.st.AddWorklet(ctx, store.Worklet{Name: "quarantined-one", Version: "1.0.0", Kind: "worklet", Manifest: "x", Module: []byte{0}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if loc := expect("/worklets/quarantined-one/release", form("device", evil.UUID, "back", "device"), http.StatusSeeOther); loc != "/devices/"+evil.UUID+"?done=released" {
		t.Fatalf("release went to %q", loc)
	}
	if info, err := e.st.CheckinInfo(ctx, evil.UUID, "", t0, time.Minute); err != nil || !strings.Contains(info.Releases, "quarantined-one") {
		t.Fatalf("device release counters = %q, %v", info.Releases, err)
	}
	if _, body := e.get("/worklets/quarantined-one"); !strings.Contains(body, "Release the quarantine on every device") {
		t.Fatal("the worklet page offers no fleet-wide release")
	}
	expect("/worklets/quarantined-one/release", form(), http.StatusSeeOther)
	expect("/devices/"+web1.UUID+"/retire", form(), http.StatusSeeOther)
	if rows, _, _ := e.st.ListDevices(ctx, store.DeviceQuery{Search: "web1"}); len(rows) != 0 {
		t.Fatal("a retired device is listed")
	}
	_, body := e.get("/devices/" + web1.UUID)
	if !strings.Contains(body, "was retired") || strings.Contains(body, "Scan now") {
		t.Fatal("a retired device's page offers actions")
	}
}

func TestTablesOnTheDevicePageSortAndDiff(t *testing.T) {
	e := newEnv(t, Config{})
	e.seed(0)
	e.signIn()
	web1 := e.devs["web1"]
	hist, _ := e.st.ScanHistory(t.Context(), web1.ID)
	_, body := e.get(fmt.Sprintf("/devices/%s?from=%d&to=%d", web1.UUID, hist[1].ID, hist[0].ID))
	for _, want := range []string{"bash", "upgraded", "5.1-2", "5.2.15-2&#43;b8", "curl", "removed", "zsh", "added", "non-compliant", "PermitRootLogin no"} {
		if !strings.Contains(body, want) {
			t.Errorf("diff does not show %q", want)
		}
	}
	_, body = e.get("/devices/" + web1.UUID + "?p.sort=name&p.dir=desc&sw=")
	if i, j := strings.Index(body, ">zsh<"), strings.Index(body, ">bash<"); i < 0 || j < 0 || i > j {
		t.Fatalf("software not sorted descending (zsh at %d, bash at %d)", i, j)
	}
	_, body = e.get("/devices/" + web1.UUID + "?sw=zs")
	if strings.Contains(body, ">bash<") || !strings.Contains(body, ">zsh<") {
		t.Fatal("software search does not filter")
	}
}

// Fleet-wide figures are computed once per TTL. A stale figure is
// computed again: a request waits for it when it comes quickly, and is
// served the stale one (with its time) when it does not.
func TestAggregateServesStaleWhileRefreshing(t *testing.T) {
	calls := 0
	var mu sync.Mutex
	gate := make(chan struct{}, 1)
	gate <- struct{}{}
	compute := func(context.Context) (int, error) {
		<-gate
		mu.Lock()
		defer mu.Unlock()
		calls++
		return calls, nil
	}
	a := newAggregate("", nil, time.Hour, compute)
	ctx := t.Context()
	v, at1, _ := a.get(ctx)
	if v != 1 {
		t.Fatalf("first = %d", v)
	}
	if v, _, _ := a.get(ctx); v != 1 || calls != 1 {
		t.Fatalf("within the TTL = %d after %d computations", v, calls)
	}
	a.ttl, a.took = time.Nanosecond, 0 // stale at once (took spaces refreshes too)
	gate <- struct{}{}
	if v, _, _ := a.get(ctx); v != 2 {
		t.Fatalf("stale, computed again quickly = %d, want the new 2", v)
	}
	// The next computation does not end within refreshWait: the stale
	// value is served, then the new one once it lands.
	waitIdle(t, a)
	a.took = 0
	t0 := time.Now()
	v, at, _ := a.get(ctx)
	if v != 2 || at.Before(at1) || time.Since(t0) < refreshWait {
		t.Fatalf("stale, slow computation = %d at %v after %v; want 2 after waiting %v", v, at, time.Since(t0), refreshWait)
	}
	gate <- struct{}{}
	waitIdle(t, a)
	if a.val != 3 {
		t.Fatalf("after the background refresh = %d, want 3", a.val)
	}
	// A figure whose last computation took longer than refreshWait is not
	// waited for at all.
	a.took = time.Second
	a.at = time.Now().Add(-time.Hour)
	t0 = time.Now()
	if v, _, _ := a.get(ctx); v != 3 || time.Since(t0) >= refreshWait {
		t.Fatalf("slow figure = %d after %v, want the stale 3 at once", v, time.Since(t0))
	}
	gate <- struct{}{}
	waitIdle(t, a)
	a.ttl = -1
	gate <- struct{}{}
	if v, _, _ := a.get(ctx); v != 5 {
		t.Fatalf("negative TTL = %d, want a fresh computation", v)
	}
}

// waitIdle waits until an aggregate has no computation in flight.
func waitIdle[T any](t *testing.T, a *aggregate[T]) {
	t.Helper()
	a.mu.Lock()
	done := a.running
	a.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the computation did not end")
	}
}

// memSettings is a settings store in memory.
type memSettings struct {
	mu sync.Mutex
	m  map[string]string
}

func (m *memSettings) Setting(_ context.Context, k string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[k]
	return v, ok, nil
}

func (m *memSettings) SetSetting(_ context.Context, k, v string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[k] = v
	return nil
}

// A console that starts serves the figure its predecessor kept (with the
// time it was computed) without waiting for the pass over the fleet it
// starts; with nothing kept, concurrent first requests wait for the one
// computation Warm started; a failed computation is an error for the
// requests that waited for it and keeps nothing.
func TestAggregateKeptAcrossRestarts(t *testing.T) {
	ctx := t.Context()
	st := &memSettings{m: map[string]string{}}
	release := make(chan struct{})
	var calls sync.WaitGroup
	var n atomic.Int32
	slow := func(context.Context) (int, error) {
		n.Add(1)
		<-release
		return 42, nil
	}
	first := newAggregate("fleet", st, time.Hour, slow)
	first.prefetch(ctx)
	got := make([]int, 8)
	for i := range got {
		calls.Add(1)
		go func() {
			defer calls.Done()
			got[i], _, _ = first.get(ctx)
		}()
	}
	close(release)
	calls.Wait()
	if n.Load() != 1 || slices.ContainsFunc(got, func(v int) bool { return v != 42 }) {
		t.Fatalf("first start: %d computations, values %v; want 1 and 42 everywhere", n.Load(), got)
	}
	waitIdle(t, first)
	if _, ok := st.m[aggregateKeyPrefix+"fleet"]; !ok {
		t.Fatalf("the value was not kept: %v", st.m)
	}

	block := make(chan struct{})
	defer close(block)
	second := newAggregate("fleet", st, time.Hour, func(ctx context.Context) (int, error) {
		<-block // the pass over the fleet of the restarted console
		return 43, nil
	})
	second.prefetch(ctx)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, at, err := second.get(cctx)
	if err != nil || v != 42 || at.IsZero() || !at.Equal(first.at) {
		t.Fatalf("restarted: %d computed at %v, %v; want the kept 42 of %v without waiting", v, at, err, first.at)
	}

	failing := newAggregate("other", st, time.Hour, func(context.Context) (int, error) { return 0, errors.New("database down") })
	if _, _, err := failing.get(ctx); err == nil || err.Error() != "database down" {
		t.Fatalf("failed computation: %v", err)
	}
	waitIdle(t, failing)
	if _, ok := st.m[aggregateKeyPrefix+"other"]; ok {
		t.Fatal("a failed computation kept a value")
	}
}
