package checkin

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/outbox"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

// deltaPlatform is a fake platform that speaks scan deltas as the
// reference platform does: it rebuilds placeholders from the sections of
// the scans it took, and answers 409 for a digest it does not hold.
type deltaPlatform struct {
	mu       sync.Mutex
	noDeltas bool              // behave as a platform that knows nothing of deltas
	held     map[string][]byte // digest -> section
	uploads  []upload
	stored   [][]byte // full reports, rebuilt
}

type upload struct {
	wire        int
	gzip        bool
	body        []byte // decompressed, as sent
	status      int
	placeholder int
}

func (p *deltaPlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.noDeltas {
		w.Header().Set(protocol.HeaderScanDeltas, protocol.ScanDeltasV1)
	}
	raw, _ := io.ReadAll(r.Body)
	switch r.URL.Path {
	case protocol.PathCheckin:
		io.WriteString(w, nopAnswer)
		return
	case protocol.PathScan:
	default:
		w.WriteHeader(http.StatusNoContent)
		return
	}
	up := upload{wire: len(raw), body: raw, gzip: r.Header.Get("Content-Encoding") == "gzip"}
	if up.gzip {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		up.body, _ = io.ReadAll(zr)
	}
	secs, err := protocol.ScanSections(up.body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	missing := ""
	full := protocol.Splice(up.body, secs, func(i int) []byte {
		d, ok, _ := protocol.PlaceholderDigest(secs[i].Value(up.body))
		if !ok {
			return nil
		}
		up.placeholder++
		b, held := p.held[d]
		if !held || p.noDeltas {
			missing = d
		}
		return b
	})
	if missing != "" {
		up.status = http.StatusConflict
		p.uploads = append(p.uploads, up)
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(map[string]any{"error": "unknown section digest " + missing, "full_scan_required": true})
		return
	}
	up.status = http.StatusOK
	p.uploads = append(p.uploads, up)
	p.stored = append(p.stored, full)
	if p.held == nil {
		p.held = map[string][]byte{}
	}
	secs, _ = protocol.ScanSections(full)
	for _, s := range secs {
		if v := s.Value(full); len(v) >= protocol.MinSectionBytes {
			p.held[protocol.SectionDigest(v)] = v
		}
	}
	io.WriteString(w, `{"status":"stored"}`)
}

func (p *deltaPlatform) last() upload {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.uploads[len(p.uploads)-1]
}

func (p *deltaPlatform) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.uploads)
}

// testScanDoc is a scan document shaped like a real one: a long package
// list, services, storage and small sections.
func testScanDoc(t *testing.T, freeBytes int64) json.RawMessage {
	t.Helper()
	var pkgs []map[string]string
	for i := range 800 {
		pkgs = append(pkgs, map[string]string{"name": fmt.Sprintf("package-%04d", i), "version": fmt.Sprintf("1.%d.%d-1", i%7, i%13), "architecture": "amd64", "source": "dpkg"})
	}
	var services []map[string]string
	for i := range 80 {
		services = append(services, map[string]string{"name": fmt.Sprintf("unit-%02d.service", i), "enabled": "enabled", "active": "active"})
	}
	doc := map[string]any{
		"schema":       1,
		"collected_at": time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC).Add(time.Duration(freeBytes)),
		"hostname":     "host-1",
		"os":           map[string]string{"name": "Debian GNU/Linux", "version": "12", "family": "debian", "kernel": "6.1.0-28-amd64", "pretty_name": "Debian GNU/Linux 12 (bookworm)"},
		"software":     pkgs,
		"services":     services,
		"storage": map[string]any{"mounts": []map[string]any{
			{"path": "/", "fs": "ext4", "options": "rw,relatime", "size": 100 << 30, "free": freeBytes},
			{"path": "/boot", "fs": "ext4", "options": "rw,nodev,nosuid,relatime", "size": 1 << 30, "free": 1 << 29},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func scanReport(t *testing.T, id string, free int64) protocol.ScanReport {
	return protocol.ScanReport{ScanID: id, StartedAt: time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC), Reason: "interval", Scan: testScanDoc(t, free), Results: []protocol.WorkletResult{}}
}

func fullBody(t *testing.T, r protocol.ScanReport) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// report delivers a scan through the loop's outbox and fails unless the
// outbox is empty afterwards.
func report(t *testing.T, e *env, r protocol.ScanReport) {
	t.Helper()
	if err := e.loop.Report(t.Context(), outbox.KindScan, protocol.PathScan, r); err != nil {
		t.Fatal(err)
	}
	if n := e.box.Len(); n != 0 {
		t.Fatalf("outbox holds %d items after delivery; log:\n%s", n, e.log.String())
	}
}

func deltaEnv(t *testing.T, p *deltaPlatform) (*env, string) {
	url, hc := loopback(t, p)
	e := setup(t, url, hc, "tok", nil)
	if _, _, err := e.opts.Client.Checkin(t.Context()); err != nil {
		t.Fatal(err)
	}
	return e, url
}

// TestScanDeltas: the first scan travels whole (gzip), an unchanged
// rescan as digests (under 2 KB), a changed section whole; the platform
// rebuilds each byte for byte.
func TestScanDeltas(t *testing.T) {
	p := &deltaPlatform{}
	e, _ := deltaEnv(t, p)

	first := scanReport(t, "s1", 1000)
	report(t, e, first)
	up := p.last()
	if !up.gzip || up.placeholder != 0 || !bytes.Equal(up.body, fullBody(t, first)) {
		t.Fatalf("first scan: gzip=%v placeholders=%d, body equal=%v; want the whole report, gzip", up.gzip, up.placeholder, bytes.Equal(up.body, fullBody(t, first)))
	}
	t.Logf("first scan: %d bytes, %d on the wire", len(up.body), up.wire)

	again := scanReport(t, "s2", 1000)
	report(t, e, again)
	up = p.last()
	if up.placeholder != 4 || !up.gzip {
		t.Fatalf("unchanged rescan: %d placeholders (gzip %v), want 4 (os, software, services, storage); body %s", up.placeholder, up.gzip, up.body)
	}
	if up.wire >= 2048 {
		t.Fatalf("unchanged rescan sent %d bytes, want under 2 KB", up.wire)
	}
	if got := p.stored[len(p.stored)-1]; !bytes.Equal(got, fullBody(t, again)) {
		t.Fatalf("platform rebuilt a report that differs from the full one:\n%s", got)
	}
	t.Logf("unchanged rescan: %d bytes on the wire (%d before gzip)", up.wire, len(up.body))

	changed := scanReport(t, "s3", 2000) // storage's free space changed
	report(t, e, changed)
	up = p.last()
	if up.placeholder != 3 || !bytes.Contains(up.body, []byte(`"free":2000`)) {
		t.Fatalf("rescan with storage changed: %d placeholders, storage sent whole: %v", up.placeholder, bytes.Contains(up.body, []byte(`"free":2000`)))
	}
	if !bytes.Equal(p.stored[len(p.stored)-1], fullBody(t, changed)) {
		t.Fatal("platform rebuilt a report that differs from the full one")
	}
	if !strings.Contains(e.log.String(), `msg="scan uploaded" scan_id=s3`) {
		t.Fatalf("no scan uploaded line in the log:\n%s", e.log.String())
	}
}

// TestScanDeltaUnknownDigest: a platform that does not hold a section
// answers 409; the agent drops what it believed held and sends the full
// scan at once, once, and the scan is not dropped as rejected.
func TestScanDeltaUnknownDigest(t *testing.T) {
	p := &deltaPlatform{}
	e, _ := deltaEnv(t, p)
	report(t, e, scanReport(t, "s1", 1000))
	p.mu.Lock()
	p.held = nil // the platform lost its sections (restored from a backup)
	p.mu.Unlock()

	r := scanReport(t, "s2", 1000)
	report(t, e, r)
	p.mu.Lock()
	ups := p.uploads[1:]
	p.mu.Unlock()
	if len(ups) != 2 || ups[0].status != http.StatusConflict || ups[1].status != http.StatusOK || ups[1].placeholder != 0 || !bytes.Equal(ups[1].body, fullBody(t, r)) {
		t.Fatalf("uploads after the platform lost its sections = %+v; want a 409 then the full scan once", ups)
	}
	if strings.Contains(e.log.String(), "rejected by the platform") {
		t.Fatalf("scan was dropped as rejected:\n%s", e.log.String())
	}
	// The next scan is a delta again, against the full one just sent.
	report(t, e, scanReport(t, "s3", 1000))
	if up := p.last(); up.placeholder != 4 || up.status != http.StatusOK {
		t.Fatalf("scan after the full resend: %d placeholders, status %d", up.placeholder, up.status)
	}
}

// TestScanDeltaOldPlatform: a platform that does not say it speaks scan
// deltas gets every scan whole and uncompressed.
func TestScanDeltaOldPlatform(t *testing.T) {
	p := &deltaPlatform{noDeltas: true}
	e, _ := deltaEnv(t, p)
	for _, id := range []string{"s1", "s2"} {
		r := scanReport(t, id, 1000)
		report(t, e, r)
		if up := p.last(); up.gzip || up.placeholder != 0 || !bytes.Equal(up.body, fullBody(t, r)) {
			t.Fatalf("scan %s to an old platform: gzip=%v placeholders=%d", id, up.gzip, up.placeholder)
		}
	}
	if b, err := e.store.Read(KeyScanSections); err == nil && strings.Contains(string(b), "sha256:") {
		t.Fatalf("agent keeps digests for a platform that keeps none: %s", b)
	}
}

// TestScanDeltaRestart: what the platform holds is kept in the state
// directory (0600), so the first scan after a restart is a delta; a
// corrupt state file is set aside and the next scan is sent whole.
func TestScanDeltaRestart(t *testing.T) {
	p := &deltaPlatform{}
	url, hc := loopback(t, p)
	dir := t.TempDir()
	start := func() *env {
		t.Helper()
		fs, err := state.NewFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		e := setup(t, url, hc, "tok", func(o *LoopOptions) { o.Store = fs })
		if _, _, err := e.opts.Client.Checkin(t.Context()); err != nil {
			t.Fatal(err)
		}
		return e
	}
	report(t, start(), scanReport(t, "s1", 1000))
	path := filepath.Join(dir, KeyScanSections)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file %s: %v, %v; want mode 0600", path, fi, err)
	}

	report(t, start(), scanReport(t, "s2", 1000))
	if up := p.last(); up.placeholder != 4 {
		t.Fatalf("first scan after a restart: %d placeholders, want 4", up.placeholder)
	}

	if err := os.WriteFile(path, []byte(`{"digests": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := start()
	r := scanReport(t, "s3", 1000)
	report(t, e, r)
	if up := p.last(); up.placeholder != 0 || !bytes.Equal(up.body, fullBody(t, r)) {
		t.Fatalf("scan after a corrupt state file: %d placeholders, want the full scan", up.placeholder)
	}
	if !strings.Contains(e.log.String(), "state file is corrupt") {
		t.Fatalf("corrupt state file not reported:\n%s", e.log.String())
	}
	if b, err := os.ReadFile(path + ".corrupt"); err != nil || string(b) != `{"digests": [` {
		t.Fatalf("corrupt state file not set aside as %s.corrupt: %q, %v", path, b, err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `"scan_id":"s3"`) {
		t.Fatalf("state after the full scan = %s, %v; want the digests of s3", b, err)
	}
}
