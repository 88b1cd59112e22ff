package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
)

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// postScan posts a scan body with the given Content-Encoding and returns
// the status, the answer and the scan-deltas header.
func postScan(t *testing.T, base string, d *device, body []byte, enc string) (int, []byte, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "POST", base+protocol.PathScan, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range d.hdr() {
		req.Header.Set(k, v)
	}
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out, resp.Header.Get(protocol.HeaderScanDeltas)
}

// deltaReport is a scan report with a package list of n packages and the
// given hostname.
func deltaReport(id string, n int, host string) []byte {
	var pk []string
	for i := range n {
		pk = append(pk, fmt.Sprintf(`{"name":"pkg%d","version":"1.%d","architecture":"amd64","source":"dpkg"}`, i, i))
	}
	return []byte(`{"scan_id":"` + id + `","started_at":"2026-11-25T12:00:00Z","reason":"interval","scan":{"hostname":"` + host +
		`","os":{"name":"Debian GNU/Linux","version":"12","family":"debian","pretty_name":"Debian GNU/Linux 12 (bookworm)","kernel":"6.1.0"},"software":[` +
		strings.Join(pk, ",") + `]},"results":[{"name":"ssh","version":"1.0.0","kind":"policy","phase":"evaluate","status":"compliant"}]}`)
}

// withPlaceholders replaces the named sections by their placeholders.
func withPlaceholders(t *testing.T, report []byte, keys ...string) []byte {
	t.Helper()
	secs, err := protocol.ScanSections(report)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.Splice(report, secs, func(i int) []byte {
		for _, k := range keys {
			if secs[i].Key == k {
				return protocol.Placeholder(protocol.SectionDigest(secs[i].Value(report)))
			}
		}
		return nil
	})
}

// TestScanDeltaRebuild: a gzip-compressed scan whose unchanged sections
// are sent as digests is stored as the full report, and every reader (the
// admin API's results, which the CLI prints, the latest scan the console
// shows, history's package list) sees the whole document.
func TestScanDeltaRebuild(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.url[0]+"/checkin", nil)
	for k, v := range d.hdr() {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get(protocol.HeaderScanDeltas); got != protocol.ScanDeltasV1 {
		t.Fatalf("check-in answer's %s = %q, want %q", protocol.HeaderScanDeltas, got, protocol.ScanDeltasV1)
	}

	first := deltaReport("s1", 500, "h")
	if code, body, hdr := postScan(t, e.url[0], d, gz(t, first), "gzip"); code != 200 || hdr != protocol.ScanDeltasV1 {
		t.Fatalf("first scan: %d %s (%s %q)", code, body, protocol.HeaderScanDeltas, hdr)
	}
	second := deltaReport("s2", 500, "h")
	wire := gz(t, withPlaceholders(t, second, "software"))
	if code, body, _ := postScan(t, e.url[0], d, wire, "gzip"); code != 200 {
		t.Fatalf("delta scan: %d %s", code, body)
	}
	t.Logf("full report %d bytes; sent as digests, gzip: %d bytes", len(second), len(wire))

	_, body := call(t, "GET", e.url[0]+"/api/devices/h/results", admin(), nil)
	var rs fleet.Results
	if err := json.Unmarshal(body, &rs); err != nil || rs.Scan == nil {
		t.Fatalf("results: %s", body)
	}
	if rs.Scan.ScanID != "s2" || !bytes.Equal(rs.Scan.Report, second) {
		t.Fatalf("results report (%s) differs from the full scan:\n%s", rs.Scan.ScanID, rs.Scan.Report)
	}
	st := e.srv[0].st
	sc, ok, err := st.LatestScan(t.Context(), rs.Device.ID)
	if err != nil || !ok || !bytes.Equal(sc.Report, second) {
		t.Fatalf("latest scan (read by the console) differs from the full scan: %v %v", ok, err)
	}
	hist, err := st.ScanHistory(t.Context(), rs.Device.ID)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	for _, h := range hist {
		hs, err := st.HistoryScan(t.Context(), rs.Device.ID, h.ID)
		if err != nil || len(hs.Packages) != 500 {
			t.Fatalf("history scan %s: %d packages, %v; want 500", h.ScanID, len(hs.Packages), err)
		}
	}
}

// TestScanDeltaUnknownDigest: a digest the platform does not hold, or
// holds only for another device, is answered 409 naming it, with
// full_scan_required; nothing is stored.
func TestScanDeltaUnknownDigest(t *testing.T) {
	e := newSQLiteEnv(t)
	a, b := e.enroll(t, "a"), e.enroll(t, "b")
	if code, body, _ := postScan(t, e.url[0], a, deltaReport("s1", 50, "a"), ""); code != 200 {
		t.Fatalf("device a's scan: %d %s", code, body)
	}
	for _, tc := range []struct {
		name string
		dev  *device
		rep  []byte
	}{
		{"never sent", a, deltaReport("s2", 51, "a")},
		{"another device's", b, deltaReport("s1", 50, "a")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wire := withPlaceholders(t, tc.rep, "software")
			code, body, _ := postScan(t, e.url[0], tc.dev, wire, "")
			var ans struct {
				Error            string `json:"error"`
				FullScanRequired bool   `json:"full_scan_required"`
			}
			json.Unmarshal(body, &ans)
			secs, _ := protocol.ScanSections(tc.rep)
			var dg string
			for _, s := range secs {
				if s.Key == "software" {
					dg = protocol.SectionDigest(s.Value(tc.rep))
				}
			}
			if code != http.StatusConflict || !ans.FullScanRequired || !strings.Contains(ans.Error, dg) || !strings.Contains(ans.Error, `"software"`) {
				t.Fatalf("answer %d %s; want 409 naming %s with full_scan_required", code, body, dg)
			}
		})
	}
	_, body := call(t, "GET", e.url[0]+"/api/devices/b/results", admin(), nil)
	var rs fleet.Results
	json.Unmarshal(body, &rs)
	if rs.Scan != nil {
		t.Fatalf("device b has a scan after a refused delta: %+v", rs.Scan)
	}
}

// TestScanDeltaCaps: a gzip bomb, a section named many times and unknown
// encodings are refused before they cost memory.
func TestScanDeltaCaps(t *testing.T) {
	e := newSQLiteEnv(t)
	d := e.enroll(t, "h")
	limit := e.srv[0].cfg.MaxScanBytes

	// 17 MiB of zeros inside a ~17 KB gzip stream.
	bomb := gz(t, append([]byte(`{"scan_id":"x","scan":"`), make([]byte, limit+(1<<20))...))
	if code, body, _ := postScan(t, e.url[0], d, bomb, "gzip"); code != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "once decompressed") {
		t.Fatalf("gzip bomb (%d bytes compressed): %d %s; want 413", len(bomb), code, body)
	}

	// A 20 KB section named 1,000 times would rebuild 20 MB.
	big := `{"scan_id":"b1","scan":{"blob":"` + strings.Repeat("y", 20<<10) + `"}}`
	if code, body, _ := postScan(t, e.url[0], d, []byte(big), ""); code != 200 {
		t.Fatalf("scan with a big section: %d %s", code, body)
	}
	ph := string(protocol.Placeholder(protocol.SectionDigest([]byte(`"` + strings.Repeat("y", 20<<10) + `"`))))
	var members []string
	for i := range 1000 {
		members = append(members, fmt.Sprintf(`"k%d":%s`, i, ph))
	}
	amp := `{"scan_id":"b2","scan":{` + strings.Join(members, ",") + `}}`
	if code, body, _ := postScan(t, e.url[0], d, gz(t, []byte(amp)), "gzip"); code != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "once rebuilt") {
		t.Fatalf("one section named 1000 times: %d %s; want 413", code, body)
	}

	for _, tc := range []struct {
		name, enc string
		body      []byte
		want      int
	}{
		{"unknown encoding", "br", []byte(`{}`), http.StatusUnsupportedMediaType},
		{"not gzip", "gzip", []byte(`{"scan_id":"x"}`), http.StatusBadRequest},
		{"truncated gzip", "gzip", gz(t, deltaReport("t", 10, "h"))[:40], http.StatusBadRequest},
		{"malformed digest", "", []byte(`{"scan_id":"m","scan":{"os":{"$digest":"sha256:xyz"}}}`), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, body, _ := postScan(t, e.url[0], d, tc.body, tc.enc); code != tc.want {
				t.Fatalf("%d %s; want %d", code, body, tc.want)
			}
		})
	}
}
