package store

import (
	"errors"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/protocol"
)

// Issue 10: scans kept once and in order, quarantine releases, and the
// re-offer of a command handed to an agent run that ended. Run on SQLite
// and (with AMPLATFORM_TEST_DATABASE_URL) PostgreSQL.
func TestOrderingSQLite(t *testing.T) {
	runOrdering(t, func(t *testing.T) []Store { return OpenTestSQLite(t, 2) })
}

func TestOrderingPostgres(t *testing.T) {
	runOrdering(t, func(t *testing.T) []Store { return OpenTestPostgres(t, 2) })
}

func runOrdering(t *testing.T, open func(t *testing.T) []Store) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, s []Store)
	}{
		{"scan kept once, older never latest", testScanOrder},
		{"quarantine release counters", testRelease},
		{"re-offer to a new agent run", testReofferNewRun},
		{"re-offers to the same run counted apart", testReofferSameRun},
		{"a command cut short goes after fresh ones", testCutShortGoesLast},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

// Issue 10 finding 3 (platform side): an old scan sent again after a
// restart became the device's latest with a fresh received_at. This test
// failed on the code before the fix (SaveScan replaced the latest with
// whatever came last).
func testScanOrder(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	dev, _ := enroll(t, s, "a")
	save := func(id string, started time.Time, q int, at time.Time) ScanOutcome {
		t.Helper()
		o, err := ss[len(id)%2].SaveScan(ctx, dev, NewScan{ID: id, StartedAt: started, Report: []byte(`{"scan_id":"` + id + `"}`),
			Summary: Summary{Compliant: 1, Quarantined: q}}, at)
		if err != nil {
			t.Fatalf("SaveScan %s: %v", id, err)
		}
		return o
	}
	latest := func() (Scan, Device) {
		t.Helper()
		sc, ok, err := s.LatestScan(ctx, dev)
		if err != nil || !ok {
			t.Fatalf("LatestScan: %v %v", ok, err)
		}
		devs, _ := s.Devices(ctx)
		return sc, devs[0]
	}
	if o := save("s1", t0, 0, t0.Add(time.Minute)); o != ScanStored {
		t.Fatalf("first scan: %s", o)
	}
	if o := save("s2", t0.Add(6*time.Hour), 2, t0.Add(6*time.Hour+time.Minute)); o != ScanStored {
		t.Fatalf("newer scan: %s", o)
	}
	// s1 again, a day later (the outbox's removal was not kept).
	if o := save("s1", t0, 0, t0.Add(24*time.Hour)); o != ScanOlder {
		t.Fatalf("old scan again: %s, want older", o)
	}
	sc, d := latest()
	if sc.ScanID != "s2" || !sc.ReceivedAt.Equal(t0.Add(6*time.Hour+time.Minute)) || !sc.StartedAt.Equal(t0.Add(6*time.Hour)) ||
		!d.LastScan.Equal(t0.Add(6*time.Hour+time.Minute)) || d.Summary.Quarantined != 2 || sc.Summary.Quarantined != 2 {
		t.Fatalf("latest after an older scan = %+v / device %+v", sc, d)
	}
	// The latest again: acknowledged, not stored again.
	if o := save("s2", t0.Add(6*time.Hour), 2, t0.Add(25*time.Hour)); o != ScanDuplicate {
		t.Fatalf("repeated scan: %s, want duplicate", o)
	}
	if sc, d := latest(); !sc.ReceivedAt.Equal(t0.Add(6*time.Hour+time.Minute)) || !d.LastScan.Equal(sc.ReceivedAt) {
		t.Fatalf("a repeated scan moved received_at: %+v", sc)
	}
	// A scan whose agent does not say when it started is the newest.
	if o := save("s3", time.Time{}, 0, t0.Add(26*time.Hour)); o != ScanStored {
		t.Fatalf("scan without a start time: %s", o)
	}
	if o := save("s4", t0.Add(26*time.Hour), 0, t0.Add(27*time.Hour)); o != ScanStored {
		t.Fatalf("s4: %s", o)
	}
	// Same start, other id (two scans in one millisecond): the later wins.
	if o := save("s5", t0.Add(26*time.Hour), 0, t0.Add(28*time.Hour)); o != ScanStored {
		t.Fatalf("s5: %s", o)
	}
	if sc, _ := latest(); sc.ScanID != "s5" {
		t.Fatalf("latest = %s, want s5", sc.ScanID)
	}
}

func testRelease(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, aUUID := enroll(t, s, "a")
	_, bUUID := enroll(t, s, "b")
	if err := s.AddWorklet(ctx, Worklet{Name: "ssh", Version: "1", Kind: "worklet", Manifest: "m", Module: []byte{0}, SHA256: "x", ManifestSHA256: "y", Signature: "z", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Assign(ctx, DefaultGroup, Assignment{Worklet: "ssh"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReleaseWorklet(ctx, "nope", 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown worklet: %v", err)
	}
	if _, err := s.ReleaseWorklet(ctx, "ssh", 99999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	release := func(uuid string) int64 {
		t.Helper()
		info, err := ss[1].CheckinInfo(ctx, uuid, "", t0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		as, err := ss[1].GroupAssignments(ctx, info.GroupID)
		if err != nil || len(as) != 1 {
			t.Fatalf("GroupAssignments = %+v, %v", as, err)
		}
		dev, err := ParseReleases(info.Releases)
		if err != nil {
			t.Fatal(err)
		}
		return as[0].Release + dev["ssh"]
	}
	before, _ := s.CheckinInfo(ctx, aUUID, "", t0, time.Minute)
	if n, err := s.ReleaseWorklet(ctx, "ssh", 0); err != nil || n != 1 {
		t.Fatalf("release everywhere = %d, %v", n, err)
	}
	if after, _ := s.CheckinInfo(ctx, aUUID, "", t0, time.Minute); after.GroupVersion == before.GroupVersion {
		t.Fatal("a release did not bump the group's version (cached assignments would hide it)")
	}
	if n, err := s.ReleaseWorklet(ctx, "ssh", a); err != nil || n != 1 {
		t.Fatalf("release on a = %d, %v", n, err)
	}
	if ra, rb := release(aUUID), release(bUUID); ra != 2 || rb != 1 {
		t.Fatalf("release counters a=%d b=%d, want 2 and 1", ra, rb)
	}
	s.ReleaseWorklet(ctx, "ssh", a)
	if ra, rb := release(aUUID), release(bUUID); ra != 3 || rb != 1 {
		t.Fatalf("release counters a=%d b=%d, want 3 and 1", ra, rb)
	}
}

// A command handed to one agent run and not answered is waiting again as
// soon as another run of the agent checks in, not after the timeout; the
// run it was handed to keeps seeing nothing (a scan it runs in the
// background is not handed out twice).
func testReofferNewRun(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	dev, devUUID := enroll(t, s, "restarts")
	id, _ := s.QueueCommand(ctx, dev, protocol.CmdScan, nil, t0)
	timeout := 10 * time.Minute
	if c, ok, _ := s.ClaimCommand(ctx, dev, "run-1", t0, timeout); !ok || c.ID != id {
		t.Fatalf("claim = %+v %v", c, ok)
	}
	at := t0.Add(time.Second)
	for _, tc := range []struct {
		run  string
		want bool
	}{{"run-1", false}, {"", false}, {"run-2", true}} {
		if info, _ := ss[1].CheckinInfo(ctx, devUUID, tc.run, at, timeout); info.HasCommand != tc.want {
			t.Errorf("run %q: HasCommand = %v, want %v", tc.run, info.HasCommand, tc.want)
		}
	}
	if _, ok, _ := s.ClaimCommand(ctx, dev, "run-1", at, timeout); ok {
		t.Fatal("offered again to the run it was handed to")
	}
	c, ok, _ := ss[1].ClaimCommand(ctx, dev, "run-2", at, timeout)
	if !ok || c.ID != id || c.Offers != 2 {
		t.Fatalf("re-offer to run-2 = %+v %v", c, ok)
	}
	if _, ok, _ := s.ClaimCommand(ctx, dev, "run-2", at, timeout); ok {
		t.Fatal("offered twice to run-2")
	}
	// An old agent (no run) is served by the timeout alone, as before.
	if info, _ := s.CheckinInfo(ctx, devUUID, "", at.Add(time.Minute), timeout); info.HasCommand {
		t.Fatal("an agent without a run id got a command before the timeout")
	}
	// Three offers in all, restarts included; then it expires.
	if c, ok, _ := s.ClaimCommand(ctx, dev, "run-3", at, timeout); !ok || c.Offers != 3 {
		t.Fatalf("third offer = %+v %v", c, ok)
	}
	if _, ok, _ := s.ClaimCommand(ctx, dev, "run-4", at, timeout); ok {
		t.Fatal("a fourth offer")
	}
	if n, _ := s.ExpireCommands(ctx, at.Add(timeout+time.Second), timeout); n != 1 {
		t.Fatalf("expired %d, want 1", n)
	}
}

// Fault-injection finding: on a lossy network a check-in answer carrying a
// command was lost three times and the command ended "no result after 3
// offers" although the agent never saw it. Offers to the same run count
// apart (at most MaxReoffers). This test failed on the code before the fix.
func testReofferSameRun(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	dev, _ := enroll(t, s, "lossy")
	id, _ := s.QueueCommand(ctx, dev, protocol.CmdExec, []string{"GetOS"}, t0)
	const timeout = time.Minute
	at := t0
	for i := 0; i < MaxReoffers+1; i++ {
		c, ok, err := s.ClaimCommand(ctx, dev, "run-1", at, timeout)
		if err != nil || !ok || c.ID != id || c.Offers != 1 {
			t.Fatalf("offer %d to the same run: %+v %v %v", i+1, c, ok, err)
		}
		at = at.Add(timeout + time.Second)
		if i < MaxReoffers {
			if n, _ := s.ExpireCommands(ctx, at, timeout); n != 0 {
				t.Fatalf("expired after %d lost answers", i+1)
			}
		}
	}
	if _, ok, _ := s.ClaimCommand(ctx, dev, "run-1", at, timeout); ok {
		t.Fatal("offered to the same run more than MaxReoffers times")
	}
	if n, _ := s.ExpireCommands(ctx, at, timeout); n != 1 {
		t.Fatalf("expired %d after MaxReoffers lost answers, want 1", n)
	}
}

// Fault-injection finding: with the agent killed soon after each start,
// the oldest command was first in line at every new run and used up its
// three offers while the ones behind it waited. A command already offered
// now goes after those offered less. This test failed before the fix.
func testCutShortGoesLast(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	dev, _ := enroll(t, s, "killed")
	first, _ := s.QueueCommand(ctx, dev, protocol.CmdScan, nil, t0)
	second, _ := s.QueueCommand(ctx, dev, protocol.CmdExec, []string{"GetOS"}, t0)
	const timeout = time.Minute
	if c, ok, _ := s.ClaimCommand(ctx, dev, "run-1", t0, timeout); !ok || c.ID != first {
		t.Fatalf("first claim = %+v %v, want the oldest", c, ok)
	}
	// run-1 was killed; run-2 starts.
	if c, ok, _ := s.ClaimCommand(ctx, dev, "run-2", t0, timeout); !ok || c.ID != second {
		t.Fatalf("after a cut-short run = %+v %v, want the command not yet offered", c, ok)
	}
	if c, ok, _ := s.ClaimCommand(ctx, dev, "run-2", t0, timeout); !ok || c.ID != first {
		t.Fatalf("then = %+v %v, want the cut-short one again", c, ok)
	}
}
