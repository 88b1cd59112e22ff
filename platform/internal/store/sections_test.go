package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/protocol"
)

// TestScanSectionsSQLite and TestScanSectionsPostgres: the sections of a
// device's latest two scans are held, by digest, for that device only.
func TestScanSectionsSQLite(t *testing.T) { testScanSections(t, OpenTestSQLite(t, 2)) }

func TestScanSectionsPostgres(t *testing.T) { testScanSections(t, OpenTestPostgres(t, 2)) }

func testScanSections(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, _ := enroll(t, s, "a")
	b, _ := enroll(t, s, "b")
	long := func(tag string) string {
		return `{"tag":"` + tag + `","pad":"` + strings.Repeat("x", protocol.MinSectionBytes) + `"}`
	}
	rep := func(id, os, sw string) []byte {
		return []byte(`{"scan_id":"` + id + `","scan":{"hostname":"a","os":` + os + `,"software":` + sw + `},"results":[]}`)
	}
	dg := func(v string) string { return protocol.SectionDigest([]byte(v)) }
	holds := func(dev int64, want map[string]bool) {
		t.Helper()
		var ds []string
		for d := range want {
			ds = append(ds, d)
		}
		got, err := ss[1].ScanSections(ctx, dev, ds)
		if err != nil {
			t.Fatal(err)
		}
		for d, w := range want {
			if _, ok := got[d]; ok != w {
				t.Errorf("device %d holds %s: %v, want %v", dev, d, ok, w)
			}
		}
	}
	save := func(dev int64, id string, at time.Time, report []byte) {
		t.Helper()
		if _, err := s.SaveScan(ctx, dev, NewScan{ID: id, StartedAt: at, Report: report}, at); err != nil {
			t.Fatalf("SaveScan %s: %v", id, err)
		}
	}
	os1, sw1, sw2, sw3 := long("os1"), long("sw1"), long("sw2"), long("sw3")
	save(a, "s1", t0, rep("s1", os1, sw1))
	got, err := s.ScanSections(ctx, a, []string{dg(os1), dg(sw1), dg(`"a"`)})
	if err != nil || string(got[dg(os1)]) != os1 || string(got[dg(sw1)]) != sw1 || len(got) != 2 {
		t.Fatalf("sections after s1 = %q, %v; want os and software (hostname is too short to keep)", got, err)
	}
	holds(b, map[string]bool{dg(os1): false, dg(sw1): false}) // another device's

	save(a, "s2", t0.Add(time.Hour), rep("s2", os1, sw2))
	holds(a, map[string]bool{dg(os1): true, dg(sw1): true, dg(sw2): true})
	save(a, "s3", t0.Add(2*time.Hour), rep("s3", os1, sw3))
	holds(a, map[string]bool{dg(os1): true, dg(sw1): false, dg(sw2): true, dg(sw3): true})
	// A scan received again (its acknowledgment was lost) or late (older)
	// is acknowledged: its sections count as the latest.
	save(a, "s3", t0.Add(2*time.Hour), rep("s3", os1, sw3))
	save(a, "s0", t0.Add(-time.Hour), rep("s0", os1, sw1))
	holds(a, map[string]bool{dg(os1): true, dg(sw1): true, dg(sw2): false, dg(sw3): true})
	if sc, _, _ := s.LatestScan(ctx, a); sc.ScanID != "s3" {
		t.Fatalf("latest scan = %s, want s3 (an older scan never replaces it)", sc.ScanID)
	}

	// Many digests are looked up in chunks.
	var many []string
	for i := range 1200 {
		many = append(many, protocol.SectionDigest(fmt.Appendf(nil, "%d", i)))
	}
	many = append(many, dg(os1))
	got, err = s.ScanSections(ctx, a, many)
	if err != nil || len(got) != 1 {
		t.Fatalf("ScanSections of 1201 digests = %d found, %v; want 1", len(got), err)
	}
}
