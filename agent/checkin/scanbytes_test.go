package checkin

import (
	"os"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scan"
)

// TestScanUploadBytes (AMAGENT_BENCH=1; make bench) measures the bytes a
// first scan and an unchanged rescan of this machine upload (issue 15:
// the rescan under 2 KB), beside the whole uncompressed report every scan
// uploaded before scan deltas.
func TestScanUploadBytes(t *testing.T) {
	if os.Getenv("AMAGENT_BENCH") == "" {
		t.Skip("scans this machine; set AMAGENT_BENCH=1 (make bench)")
	}
	env := scan.LiveEnv()
	env.SkipPending = true
	s := &scan.Scanner{Env: env}
	r1, err := s.Scan(t.Context(), "boot")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Scan(t.Context(), "interval")
	if err != nil {
		t.Fatal(err)
	}
	p := &deltaPlatform{}
	e, _ := deltaEnv(t, p)
	report(t, e, r1)
	first := p.last()
	report(t, e, r2)
	again := p.last()

	// Which sections changed between the two scans of the same machine.
	full := fullBody(t, r2)
	secs, _ := protocol.ScanSections(full)
	held, _ := protocol.ScanSections(again.body)
	var changed []string
	kept := 0
	for i, sec := range secs {
		if len(sec.Value(full)) < protocol.MinSectionBytes {
			continue
		}
		if _, ok, _ := protocol.PlaceholderDigest(held[i].Value(again.body)); ok {
			kept++
		} else {
			changed = append(changed, sec.Key)
		}
	}
	verdict := "goal met"
	if again.wire >= 2048 {
		verdict = "goal MISSED"
	}
	t.Logf("scan upload, first scan:      %7d bytes (whole report %d bytes, gzip; %.1fx smaller)", first.wire, len(first.body), float64(len(first.body))/float64(first.wire))
	t.Logf("scan upload, unchanged rescan: %7d bytes (%d of %d sections as digests; sent whole: %s) goal < 2048 bytes: %s",
		again.wire, kept, kept+len(changed), strings.Join(changed, ", "), verdict)
	t.Logf("scan upload before deltas:     %7d bytes every scan (whole, uncompressed); rescan now %.4f of it", len(full), float64(again.wire)/float64(len(full)))
}
