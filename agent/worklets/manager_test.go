package worklets

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
	"github.com/amagent/amagent/host"
)

const testManifest = "abi = 1\nkind = \"worklet\"\nname = \"%s\"\nversion = \"%s\"\nmodule = \"worklet.wasm\"\n"

type platformFake struct {
	priv  ed25519.PrivateKey
	docs  map[string][]byte // url -> document
	calls int
}

func newPlatform(t *testing.T) (*platformFake, ed25519.PublicKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &platformFake{priv: priv, docs: map[string][]byte{}}, pub
}

// add signs a bundle and returns its assignment.
func (p *platformFake) add(name, version, kind, remediate string, module []byte) protocol.Assignment {
	manifest := []byte(strings.Replace(
		strings.Replace(testManifest, "%s", name, 1), "%s", version, 1))
	if kind == "policy" {
		manifest = bytes.Replace(manifest, []byte(`"worklet"`), []byte(`"policy"`), 1)
	}
	manSHA, modSHA := bundle.Digest(manifest), bundle.Digest(module)
	sig := bundle.Sign(p.priv, name, version, manSHA, modSHA)
	url := "/bundles/" + name + "/" + version
	doc, _ := json.Marshal(Document{Name: name, Version: version, Kind: kind, Manifest: string(manifest),
		Module: base64.StdEncoding.EncodeToString(module), SHA256: modSHA, ManifestSHA256: manSHA, Signature: sig})
	p.docs[url] = doc
	return protocol.Assignment{Name: name, Version: version, Kind: kind, SHA256: modSHA, ManifestSHA256: manSHA,
		URL: url, Signature: sig, Remediate: remediate}
}

func (p *platformFake) fetch(ctx context.Context, url string) ([]byte, error) {
	p.calls++
	d, ok := p.docs[url]
	if !ok {
		return nil, errors.New("404")
	}
	return d, nil
}

// fakeSandbox answers by the module's bytes: the module "is" its status.
type fakeSandbox struct {
	mu    sync.Mutex
	runs  []string // name:phase
	after map[string]string
	// special, when set, answers modules it knows (quarantine_test.go).
	special func(ctx context.Context, module string) (protocol.WorkletResult, bool)
}

func (f *fakeSandbox) Run(ctx context.Context, b *Bundle, phase string, scan []byte) protocol.WorkletResult {
	f.mu.Lock()
	f.runs = append(f.runs, b.Assignment.Name+":"+phase)
	remediated := f.after[b.Assignment.Name]
	f.mu.Unlock()
	mod, _ := readModule(b)
	status := string(mod)
	r := protocol.WorkletResult{Status: status}
	switch {
	case phase == PhaseRemediate:
		r.Status = StatusSucceeded
		f.mu.Lock()
		if f.after == nil {
			f.after = map[string]string{}
		}
		f.after[b.Assignment.Name] = StatusCompliant
		f.mu.Unlock()
	case remediated != "":
		r.Status = remediated
	case strings.HasPrefix(status, "install:"):
		r.Status = StatusNonCompliant
		r.Details = json.RawMessage(`{"install":["` + strings.TrimPrefix(status, "install:") + `"],"pending":1}`)
	}
	if r.Status == StatusError {
		r.Error, r.ErrorKind = "trap: unreachable", host.KindTrap
	}
	if f.special != nil {
		if sr, ok := f.special(ctx, status); ok {
			return sr
		}
	}
	return r
}

func readModule(b *Bundle) ([]byte, error) {
	return osReadFile(b.Dir + "/worklet.wasm")
}

func newManager(t *testing.T, p *platformFake, keys ...ed25519.PublicKey) (*Manager, *fakeSandbox, *bytes.Buffer) {
	var logs bytes.Buffer
	sb := &fakeSandbox{}
	m := &Manager{
		Log:         slog.New(slog.NewTextHandler(&logs, nil)),
		Cache:       &Cache{Dir: t.TempDir()},
		Fetch:       p.fetch,
		TrustedKeys: keys,
		Sandbox:     sb,
		Store:       state.NewMemStore(),
	}
	return m, sb, &logs
}

func statuses(rs []protocol.WorkletResult) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Name+"="+r.Status)
	}
	return strings.Join(s, " ")
}

func TestEvaluateVerifiesCachesAndOrders(t *testing.T) {
	p, pub := newPlatform(t)
	m, sb, logs := newManager(t, p, pub)
	m.SetAssignments([]protocol.Assignment{
		p.add("zeta", "1.0.0", "worklet", "", []byte(StatusNonCompliant)),
		p.add("alpha", "1.0.0", "worklet", "", []byte(StatusCompliant)),
		p.add("mid", "2.0.0", "worklet", "", []byte(StatusNotApplicable)),
	})
	got := statuses(m.Evaluate(t.Context(), []byte(`{}`)))
	if want := "alpha=compliant mid=not-applicable zeta=non-compliant"; got != want {
		t.Fatalf("results %q, want %q", got, want)
	}
	if p.calls != 3 {
		t.Fatalf("downloads = %d, want 3", p.calls)
	}
	m.Evaluate(t.Context(), []byte(`{}`))
	if p.calls != 3 {
		t.Fatalf("second scan downloaded again: %d calls", p.calls)
	}
	if len(sb.runs) != 6 {
		t.Fatalf("runs = %v", sb.runs)
	}
	if !strings.Contains(logs.String(), "command_processor=wasm command_name=alpha command=runWorklet") {
		t.Fatalf("evaluation not logged as a wasm command:\n%s", logs)
	}
}

func TestRefusesUnsignedForeignAndTampered(t *testing.T) {
	p, pub := newPlatform(t)
	other, otherPub := newPlatform(t)
	cases := []struct {
		name   string
		setup  func() protocol.Assignment
		keys   []ed25519.PublicKey
		reason string
	}{
		{"signed by another key", func() protocol.Assignment { return other.add("w", "1", "worklet", "", []byte("compliant")) }, []ed25519.PublicKey{pub}, "does not verify"},
		{"no trusted keys", func() protocol.Assignment { return p.add("w", "1", "worklet", "", []byte("compliant")) }, nil, "no trusted platform keys"},
		{"unsigned", func() protocol.Assignment {
			a := p.add("w", "1", "worklet", "", []byte("compliant"))
			var d Document
			json.Unmarshal(p.docs[a.URL], &d)
			d.Signature = ""
			p.docs[a.URL], _ = json.Marshal(d)
			a.Signature = ""
			return a
		}, []ed25519.PublicKey{pub}, "unsigned"},
		{"module tampered", func() protocol.Assignment {
			a := p.add("w", "1", "worklet", "", []byte("compliant"))
			var d Document
			json.Unmarshal(p.docs[a.URL], &d)
			d.Module = base64.StdEncoding.EncodeToString([]byte("evil"))
			p.docs[a.URL], _ = json.Marshal(d)
			return a
		}, []ed25519.PublicKey{pub, otherPub}, "module sha256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.setup()
			m, sb, logs := newManager(t, p, tc.keys...)
			m.Fetch = func(ctx context.Context, url string) ([]byte, error) {
				if d, ok := p.docs[url]; ok {
					return d, nil
				}
				return other.docs[url], nil
			}
			m.SetAssignments([]protocol.Assignment{a})
			rs := m.Evaluate(t.Context(), nil)
			if len(rs) != 1 || rs[0].Status != StatusError || !strings.Contains(rs[0].Error, tc.reason) {
				t.Fatalf("result %+v, want error containing %q", rs, tc.reason)
			}
			if len(sb.runs) != 0 {
				t.Fatalf("a refused bundle ran: %v", sb.runs)
			}
			if !strings.Contains(logs.String(), "worklet bundle refused") {
				t.Fatalf("refusal not logged:\n%s", logs)
			}
		})
	}
}

func TestTamperedCacheIsDownloadedAgain(t *testing.T) {
	p, pub := newPlatform(t)
	m, _, _ := newManager(t, p, pub)
	a := p.add("w", "1", "worklet", "", []byte(StatusCompliant))
	m.SetAssignments([]protocol.Assignment{a})
	m.Evaluate(t.Context(), nil)
	dir, _ := m.Cache.dir(a)
	if err := osWriteFile(dir+"/worklet.wasm", []byte("tampered")); err != nil {
		t.Fatal(err)
	}
	rs := m.Evaluate(t.Context(), nil)
	if rs[0].Status != StatusCompliant || p.calls != 2 {
		t.Fatalf("status %s after %d downloads; want compliant after a fresh download", rs[0].Status, p.calls)
	}
}

func TestQuarantineAfterThreeErrorsUntilVersionChanges(t *testing.T) {
	p, pub := newPlatform(t)
	m, sb, logs := newManager(t, p, pub)
	m.SetAssignments([]protocol.Assignment{p.add("crashy", "1", "worklet", "", []byte(StatusError))})
	var got []string
	for range 5 {
		got = append(got, m.Evaluate(t.Context(), nil)[0].Status)
	}
	want := "error error error quarantined quarantined"
	if strings.Join(got, " ") != want {
		t.Fatalf("statuses %v, want %s", got, want)
	}
	if len(sb.runs) != 3 {
		t.Fatalf("quarantined module still ran: %v", sb.runs)
	}
	if !strings.Contains(logs.String(), "worklet quarantined") {
		t.Fatal("quarantine not logged")
	}
	// The health survives a restart (same store), and a new version clears it.
	m2 := &Manager{Log: m.Log, Cache: m.Cache, Fetch: p.fetch, TrustedKeys: m.TrustedKeys, Sandbox: sb, Store: m.Store}
	m2.SetAssignments([]protocol.Assignment{p.add("crashy", "1", "worklet", "", []byte(StatusError))})
	if s := m2.Evaluate(t.Context(), nil)[0].Status; s != StatusQuarantined {
		t.Fatalf("after restart status %s, want quarantined", s)
	}
	m2.SetAssignments([]protocol.Assignment{p.add("crashy", "2", "worklet", "", []byte(StatusCompliant))})
	if s := m2.Evaluate(t.Context(), nil)[0].Status; s != StatusCompliant {
		t.Fatalf("new version status %s, want compliant", s)
	}
}

func TestRemediateImmediatelyThenEvaluateAgain(t *testing.T) {
	p, pub := newPlatform(t)
	m, sb, _ := newManager(t, p, pub)
	m.SetAssignments([]protocol.Assignment{
		p.add("fixme", "1", "worklet", "immediately", []byte(StatusNonCompliant)),
		p.add("leave", "1", "worklet", "never", []byte(StatusNonCompliant)),
	})
	rs := m.Evaluate(t.Context(), nil)
	if got := statuses(rs); got != "fixme=compliant leave=non-compliant" {
		t.Fatalf("got %s", got)
	}
	if got := strings.Join(sb.runs, ","); !strings.Contains(got, "fixme:evaluate") || !strings.Contains(got, "fixme:remediate") || strings.Contains(got, "leave:remediate") {
		t.Fatalf("runs %s", got)
	}
}

func TestRemediationAtDailyTime(t *testing.T) {
	p, pub := newPlatform(t)
	m, sb, _ := newManager(t, p, pub)
	now := time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC)
	m.Now = func() time.Time { return now }
	m.SetAssignments([]protocol.Assignment{p.add("nightly", "1", "worklet", "02:00", []byte(StatusNonCompliant))})
	m.Evaluate(t.Context(), nil) // yesterday's 02:00 has passed and it was never remediated: due
	count := func() int { return strings.Count(strings.Join(sb.runs, ","), "nightly:remediate") }
	if count() != 1 {
		t.Fatalf("first scan: %d remediations, want 1", count())
	}
	delete(sb.after, "nightly")
	now = now.Add(15 * time.Minute) // 01:45, before today's 02:00
	m.Evaluate(t.Context(), nil)
	if count() != 1 {
		t.Fatalf("remediated again before its time: %d", count())
	}
	now = now.Add(30 * time.Minute) // 02:15
	m.Evaluate(t.Context(), nil)
	if count() != 2 {
		t.Fatalf("not remediated at its time: %d", count())
	}
}

func TestPatchPolicyInstallsAndRescans(t *testing.T) {
	p, pub := newPlatform(t)
	m, _, _ := newManager(t, p, pub)
	var installed []string
	rescans, dry := 0, false
	m.Install = func(ctx context.Context, names []string) (bool, error) {
		installed = append(installed, names...)
		return !dry, nil
	}
	m.Rescan = func() { rescans++ }
	m.SetAssignments([]protocol.Assignment{p.add("patch-policy", "1", "policy", "immediately", []byte("install:openssl"))})
	rs := m.Evaluate(t.Context(), nil)
	if rs[0].Status != StatusNonCompliant || rs[0].Kind != "policy" {
		t.Fatalf("policy result %+v", rs[0])
	}
	if strings.Join(installed, ",") != "openssl" || rescans != 1 {
		t.Fatalf("installed %v rescans %d", installed, rescans)
	}
	// A dry run changes nothing: no rescan, or it would loop for ever.
	dry = true
	m.Evaluate(t.Context(), nil)
	if len(installed) != 2 || rescans != 1 {
		t.Fatalf("dry run: installed %v rescans %d, want 2 installs and still 1 rescan", installed, rescans)
	}
	// A policy whose assignment does not ask for remediation only reports.
	m.SetAssignments([]protocol.Assignment{p.add("patch-policy", "2", "policy", "never", []byte("install:openssl"))})
	m.Evaluate(t.Context(), nil)
	if len(installed) != 2 {
		t.Fatalf("a report-only policy installed updates: %v", installed)
	}
}

func TestFind(t *testing.T) {
	p, pub := newPlatform(t)
	m, _, _ := newManager(t, p, pub)
	a := p.add("w", "1", "worklet", "", []byte(StatusCompliant))
	a.Params = map[string]any{"port": 22}
	m.SetAssignments([]protocol.Assignment{a})
	collected := 0
	m.Collect = func(ctx context.Context) ([]byte, error) { collected++; return []byte(`{"hostname":"fresh"}`), nil }

	dir, params, scan, err := m.Find(t.Context(), "w")
	if err != nil || params["port"] != 22 || string(scan) != `{"hostname":"fresh"}` || collected != 1 {
		t.Fatalf("Find before any scan: %q %v %q %v (collected %d)", dir, params, scan, err, collected)
	}
	if _, err := osReadFile(dir + "/worklet.toml"); err != nil {
		t.Fatalf("bundle dir has no manifest: %v", err)
	}
	m.Evaluate(t.Context(), []byte(`{"hostname":"scanned"}`))
	if _, _, scan, _ := m.Find(t.Context(), "w"); string(scan) != `{"hostname":"scanned"}` || collected != 1 {
		t.Fatalf("Find after a scan used %q (collected %d), want the scan's document", scan, collected)
	}
	if _, _, _, err := m.Find(t.Context(), "nope"); err == nil || !strings.Contains(err.Error(), `no worklet named "nope"`) {
		t.Fatalf("unknown worklet: %v", err)
	}
}

func TestVerifyDir(t *testing.T) {
	p, pub := newPlatform(t)
	_, otherPub := newPlatform(t)
	m, _, _ := newManager(t, p, pub)
	a := p.add("w", "1", "worklet", "", []byte(StatusCompliant))
	m.SetAssignments([]protocol.Assignment{a})
	m.Evaluate(t.Context(), nil)
	dir, _ := m.Cache.dir(a)
	if b, err := VerifyDir(dir, "", []ed25519.PublicKey{pub}); err != nil || b.Assignment.Name != "w" {
		t.Fatalf("VerifyDir of a cached bundle: %v", err)
	}
	if _, err := VerifyDir(dir, "", []ed25519.PublicKey{otherPub}); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("another key: %v", err)
	}
	if _, err := VerifyDir(dir, a.Signature, []ed25519.PublicKey{pub}); err != nil {
		t.Fatalf("explicit signature: %v", err)
	}
	if err := osWriteFile(dir+"/worklet.wasm", []byte("changed")); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyDir(dir, "", []ed25519.PublicKey{pub}); err == nil {
		t.Fatal("a changed module verified")
	}
	bs, errs := m.Cache.Cached([]protocol.Assignment{a}, []ed25519.PublicKey{pub})
	if len(bs) != 0 || len(errs) != 1 {
		t.Fatalf("Cached after tampering: %d bundles, %v", len(bs), errs)
	}
}

// The host-backed sandbox runs the verified bytes on a real engine.
func TestHostSandboxRunsVerifiedBytes(t *testing.T) {
	wasm, err := osReadFile("../../testdata/abi/wat-minimal/worklet.wasm")
	if err != nil {
		t.Fatal(err)
	}
	engine, err := host.NewEngine(t.Context(), host.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer engine.Close(t.Context())
	p, pub := newPlatform(t)
	m, _, _ := newManager(t, p, pub)
	m.Sandbox = &HostSandbox{Engine: engine}
	a := p.add("minimal", "1", "worklet", "", wasm)
	m.SetAssignments([]protocol.Assignment{a})
	if rs := m.Evaluate(t.Context(), []byte(`{"os":{"family":"linux"}}`)); rs[0].Status != StatusCompliant {
		t.Fatalf("result %+v", rs[0])
	}
	// A bundle whose manifest names another worklet is refused at load.
	b, err := m.bundleFor(t.Context(), a)
	if err != nil {
		t.Fatal(err)
	}
	b.Assignment.Name = "other"
	if r := m.Sandbox.Run(t.Context(), b, PhaseEvaluate, []byte(`{}`)); r.Status != StatusError || !strings.Contains(r.Error, `named "minimal"`) {
		t.Fatalf("mismatched name: %+v", r)
	}
}
