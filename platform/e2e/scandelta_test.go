package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/protocol"
)

// scanUpload is one POST /scan seen by the counting proxy.
type scanUpload struct {
	wire        int  // bytes on the wire
	gzip        bool // Content-Encoding: gzip
	body        int  // bytes once decompressed
	placeholder bool // some section sent as its digest
	status      int
	whole       []string // sections sent whole (of at least MinSectionBytes)
	other       int      // bytes outside the scan document (results, ids)
}

// countingProxy forwards to the platform and records every scan upload.
type countingProxy struct {
	mu      sync.Mutex
	uploads []scanUpload
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

func startCountingProxy(t *testing.T, target string) (*countingProxy, string) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	cp := &countingProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/scan" {
			rp.ServeHTTP(w, r)
			return
		}
		raw, _ := io.ReadAll(r.Body)
		up := scanUpload{wire: len(raw), gzip: r.Header.Get("Content-Encoding") == "gzip"}
		plain := raw
		if up.gzip {
			if zr, err := gzip.NewReader(bytes.NewReader(raw)); err == nil {
				plain, _ = io.ReadAll(zr)
			}
		}
		up.body, up.placeholder = len(plain), bytes.Contains(plain, []byte(`{"$digest":"sha256:`))
		if secs, err := protocol.ScanSections(plain); err == nil {
			up.other = len(plain)
			for _, s := range secs {
				v := s.Value(plain)
				up.other -= len(v)
				if _, ph, _ := protocol.PlaceholderDigest(v); !ph && len(v) >= protocol.MinSectionBytes {
					up.whole = append(up.whole, fmt.Sprintf("%s (%d bytes)", s.Key, len(v)))
				}
			}
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(sw, r)
		up.status = sw.status
		cp.mu.Lock()
		cp.uploads = append(cp.uploads, up)
		cp.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	return cp, srv.URL
}

func (cp *countingProxy) list() []scanUpload {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]scanUpload(nil), cp.uploads...)
}

// testScanDeltas runs a second agent through a counting proxy: its first
// scan travels whole (gzip), a rescan of the same machine as digests and
// far smaller, and the platform shows the whole document.
func testScanDeltas(t *testing.T, p *platform, agentBin, key string) {
	proxy, proxyURL := startCountingProxy(t, p.url())
	b := newAgent(t, agentBin, proxyURL, []string{key})
	b.start()
	defer b.stop()
	waitFor(t, 60*time.Second, "the second agent's first scan through the proxy", func() bool {
		for _, up := range proxy.list() {
			if up.status == http.StatusOK {
				return true
			}
		}
		return false
	}, b.log)
	first := proxy.list()[0]
	if !first.gzip || first.placeholder {
		t.Fatalf("first scan upload = %+v; want the whole scan, gzip-compressed", first)
	}
	dev := b.readState("device_uuid")
	n := len(proxy.list())
	id := p.queue(dev, "scan")
	waitFor(t, 60*time.Second, "the rescan's result", func() bool {
		_, _, _, ok := p.commandDone(dev, id)
		return ok && len(proxy.list()) > n
	}, b.log)
	last := proxy.list()[len(proxy.list())-1]
	t.Logf("first scan: %d bytes on the wire (%d decompressed); rescan: %d bytes on the wire (%d decompressed; sent whole: %s; %d bytes outside the scan document: worklet results, ids)",
		first.wire, first.body, last.wire, last.body, strings.Join(last.whole, ", "), last.other)
	if last.status != http.StatusOK || !last.gzip || !last.placeholder || last.wire*5 > first.wire {
		t.Fatalf("rescan upload = %+v after a first upload of %d bytes; want sections as digests, under a fifth of it", last, first.wire)
	}
	// The platform rebuilt the whole document: the CLI shows the package
	// list (the largest section, sent as its digest).
	out := p.cli("results", dev, "--json")
	var r struct {
		Scan struct {
			Report struct {
				Scan struct {
					Software []json.RawMessage `json:"software"`
				} `json:"scan"`
			} `json:"report"`
		} `json:"scan"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Scan.Report.Scan.Software) == 0 || strings.Contains(out, `"$digest"`) {
		t.Fatalf("results after the rescan do not carry the whole document (%v):\n%.2000s", err, out)
	}
}
