package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
)

// TestHistorySQLite runs the history and fleet-view suite on SQLite.
func TestHistorySQLite(t *testing.T) {
	runHistory(t, func(t *testing.T) []Store { return OpenTestSQLite(t, 2) })
}

// TestHistoryPostgres runs it on PostgreSQL (AMPLATFORM_TEST_DATABASE_URL).
func TestHistoryPostgres(t *testing.T) {
	runHistory(t, func(t *testing.T) []Store { return OpenTestPostgres(t, 2) })
}

func runHistory(t *testing.T, open func(t *testing.T) []Store) {
	for _, tt := range []struct {
		name string
		run  func(t *testing.T, s []Store)
	}{
		{"history kept and latest spread", testHistoryLatest},
		{"an older scan is history only", testHistoryOlderScan},
		{"prune by age and bound", testHistoryPrune},
		{"compliance trend rollup", testComplianceTrend},
		{"device list filters sorts pages", testListDevices},
		{"retire and cancel", testRetireCancel},
		{"sessions", testSessions},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

// report builds a scan report with packages name=version and results
// name=status.
func report(t *testing.T, scanID string, started time.Time, pkgs map[string]string, results map[string]string, updates ...scandoc.Update) []byte {
	t.Helper()
	doc := scandoc.Document{Schema: 1, OS: scandoc.OS{PrettyName: "Debian GNU/Linux 12 (bookworm)", Family: "linux"},
		Reboot: scandoc.Reboot{Required: len(updates) > 0}, PendingUpdates: updates, LastUser: scandoc.LastUser{Name: "alice"}}
	for n, v := range pkgs {
		doc.Software = append(doc.Software, scandoc.Package{Name: n, Version: v, Source: "dpkg"})
	}
	scan, _ := json.Marshal(doc)
	rep := protocol.ScanReport{ScanID: scanID, StartedAt: started, Scan: scan}
	for n, st := range results {
		rep.Results = append(rep.Results, protocol.WorkletResult{Name: n, Version: "1.0", Kind: "worklet", Phase: "evaluate", Status: st, Message: n + " says " + st})
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testHistoryLatest(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, _ := enroll(t, s, "a")
	b, _ := enroll(t, s, "b")
	r1 := report(t, "s1", t0, map[string]string{"bash": "5.1-2", "curl": "7.88"}, map[string]string{"ssh": "compliant", "disk": "non-compliant"})
	r2 := report(t, "s2", t0.Add(time.Hour), map[string]string{"bash": "5.2-1", "zsh": "5.9"}, map[string]string{"ssh": "compliant", "disk": "not-applicable", "q": "quarantined"},
		scandoc.Update{Name: "openssl", Version: "3.0.15", Security: true})
	for _, x := range []struct {
		dev int64
		id  string
		rep []byte
		at  time.Time
	}{{a, "s1", r1, t0}, {a, "s2", r2, t0.Add(time.Hour)}, {a, "s2", r2, t0.Add(2 * time.Hour)}, {b, "s1", r1, t0}} {
		if _, err := s.SaveScan(ctx, x.dev, NewScan{ID: x.id, Report: x.rep}, x.at); err != nil {
			t.Fatalf("SaveScan %s: %v", x.id, err)
		}
	}
	hist, err := ss[1].ScanHistory(ctx, a)
	if err != nil || len(hist) != 2 || hist[0].ScanID != "s2" || hist[1].ScanID != "s1" {
		t.Fatalf("ScanHistory = %+v, %v; want s2, s1 (the repeated s2 kept once)", hist, err)
	}
	if want := (Outcomes{Compliant: 1, NotApplicable: 1, Quarantined: 1}); hist[0].Outcomes != want {
		t.Fatalf("outcomes of s2 = %+v, want %+v", hist[0].Outcomes, want)
	}
	h, err := ss[1].HistoryScan(ctx, a, hist[1].ID)
	if err != nil || len(h.Packages) != 2 || h.Packages[0] != (Package{Name: "bash", Version: "5.1-2", Source: "dpkg"}) || len(h.Results) != 2 {
		t.Fatalf("HistoryScan = %+v, %v", h, err)
	}
	if _, err := ss[1].HistoryScan(ctx, b, hist[1].ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another device's scan: %v, want ErrNotFound", err)
	}
	// The same package list on two devices is stored once.
	hb, _ := s.ScanHistory(ctx, b)
	if len(hb) != 1 || hb[0].SoftwareSHA256 != hist[1].SoftwareSHA256 {
		t.Fatalf("device b history = %+v", hb)
	}
	d, err := s.DeviceRow(ctx, a)
	if err != nil || !d.Scanned || d.OS != "Debian GNU/Linux 12 (bookworm)" || !d.RebootRequired || d.PendingUpdates != 1 || d.SecurityUpdates != 1 || d.LastUser != "alice" || d.Outcomes.Quarantined != 1 {
		t.Fatalf("DeviceRow = %+v, %v", d, err)
	}
	sw, err := s.SoftwareDevices(ctx, "bash")
	if err != nil || len(sw) != 2 {
		t.Fatalf("SoftwareDevices(bash) = %+v, %v", sw, err)
	}
	if sw, _ := s.SoftwareDevices(ctx, "curl"); len(sw) != 1 || sw[0].Hostname != "b" {
		t.Fatalf("curl is on b only now: %+v", sw)
	}
	names, err := s.SoftwareNames(ctx, "as", 10)
	if err != nil || len(names) != 1 || names[0] != (NameCount{"bash", 2}) {
		t.Fatalf("SoftwareNames = %+v, %v", names, err)
	}
	f, err := s.FleetSummary(ctx, t0)
	if err != nil || f.Devices != 2 || f.Scanned != 2 || f.Reboot != 1 || f.Security != 1 || f.Never != 2 {
		t.Fatalf("FleetSummary = %+v, %v", f, err)
	}
	byName := map[string]Outcomes{}
	for _, w := range f.Worklets {
		byName[w.Name] = w.Outcomes
	}
	if byName["ssh"].Compliant != 2 || byName["disk"].NotApplicable != 1 || byName["disk"].NonCompliant != 1 || byName["q"].Quarantined != 1 {
		t.Fatalf("worklet outcomes = %+v", byName)
	}
	wd, n, err := s.WorkletDevices(ctx, "disk", OutcomeNonCompliant, "hostname", false, 0, 10)
	if err != nil || n != 1 || len(wd) != 1 || wd[0].Hostname != "b" || wd[0].Message != "disk says non-compliant" {
		t.Fatalf("WorkletDevices = %+v, %d, %v", wd, n, err)
	}
	if wd, n, _ := s.WorkletDevices(ctx, "disk", "failing", "hostname", true, 0, 1); n != 1 || wd[0].Hostname != "b" {
		t.Fatalf("failing disk = %+v, %d", wd, n)
	}
	if wd, n, _ := s.WorkletDevices(ctx, "ssh", "", "hostname", true, 1, 1); n != 2 || len(wd) != 1 || wd[0].Hostname != "a" {
		t.Fatalf("ssh, page 2 of 1 = %+v, %d", wd, n)
	}
	if wd, n, _ := s.WorkletDevices(ctx, "ssh", "", "group", false, 0, 10); n != 2 || len(wd) != 2 || wd[0].Hostname != "a" || wd[1].Group != DefaultGroup {
		t.Fatalf("ssh by group = %+v, %d", wd, n)
	}
	if v, _ := s.SoftwareVersions(ctx, "bash"); len(v) != 2 {
		t.Fatalf("SoftwareVersions = %+v", v)
	}
	if p, n, err := s.SoftwarePage(ctx, "bash", []string{"5.1-2"}, "version", false, 0, 10); err != nil || n != 1 || p[0].Hostname != "b" {
		t.Fatalf("SoftwarePage = %+v, %d, %v", p, n, err)
	}
	if g, _ := s.GroupNames(ctx); len(g) != 1 || g[0] != DefaultGroup {
		t.Fatalf("GroupNames = %v", g)
	}
	up, err := s.PendingUpdates(ctx, 10)
	if err != nil || len(up) != 1 || up[0] != (UpdateCount{Name: "openssl", Security: true, Devices: 1}) {
		t.Fatalf("PendingUpdates = %+v, %v", up, err)
	}
	if du, err := s.DeviceUpdates(ctx, a); err != nil || len(du) != 1 || du[0].Version != "3.0.15" {
		t.Fatalf("DeviceUpdates = %+v, %v", du, err)
	}
	tr, err := s.ComplianceTrend(ctx, t0.Add(-24*time.Hour))
	if err != nil || len(tr) != 1 || tr[0].Scans != 3 || tr[0].Outcomes.Compliant != 3 || !tr[0].Day.Equal(t0.Truncate(24*time.Hour)) {
		t.Fatalf("ComplianceTrend = %+v, %v", tr, err)
	}
}

func testHistoryOlderScan(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, _ := enroll(t, s, "a")
	newer := report(t, "new", t0.Add(time.Hour), map[string]string{"bash": "5.2"}, nil)
	older := report(t, "old", t0, map[string]string{"bash": "5.1"}, nil)
	if _, err := s.SaveScan(ctx, a, NewScan{ID: "new", StartedAt: t0.Add(time.Hour), Report: newer}, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveScan(ctx, a, NewScan{ID: "old", StartedAt: t0, Report: older}, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.ScanHistory(ctx, a); len(h) != 2 || h[0].ScanID != "new" {
		t.Fatalf("history = %+v, want new then old (by start time)", h)
	}
	if sw, _ := s.SoftwareDevices(ctx, "bash"); len(sw) != 1 || sw[0].Version != "5.2" {
		t.Fatalf("latest packages = %+v, want bash 5.2 from the newer scan", sw)
	}
}

func testHistoryPrune(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, _ := enroll(t, s, "a")
	b, _ := enroll(t, s, "b")
	for i := range 6 {
		at := t0.Add(time.Duration(i) * 24 * time.Hour)
		pk := map[string]string{"bash": fmt.Sprintf("5.%d", i)}
		if _, err := s.SaveScan(ctx, a, NewScan{ID: fmt.Sprint("a", i), Report: report(t, "x", at, pk, nil)}, at); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SaveScan(ctx, b, NewScan{ID: "b0", Report: report(t, "x", t0, map[string]string{"vim": "9"}, nil)}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, Session{IDHash: "old", CSRF: "c", AdminHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(5 * 24 * time.Hour)
	// Keep 3 days: a keeps days 3..5 (3 scans), then the bound of 2
	// leaves days 4 and 5; b's only scan is too old.
	p, err := ss[1].PruneHistory(ctx, now.Add(-2*24*time.Hour-time.Minute), 2, now)
	if err != nil {
		t.Fatal(err)
	}
	if p.Scans != 5 || p.Sessions != 1 {
		t.Fatalf("pruned %+v, want 5 scans and 1 session", p)
	}
	h, _ := s.ScanHistory(ctx, a)
	if len(h) != 2 || h[0].ScanID != "a5" || h[1].ScanID != "a4" {
		t.Fatalf("history of a after prune = %+v", h)
	}
	if h, _ := s.ScanHistory(ctx, b); len(h) != 0 {
		t.Fatalf("history of b after prune = %+v", h)
	}
	if p.SoftwareSets != 5 { // bash 5.0-5.3 and vim
		t.Fatalf("software lists pruned = %d, want 5", p.SoftwareSets)
	}
	if full, err := s.HistoryScan(ctx, a, h[1].ID); err != nil || len(full.Packages) != 1 || full.Packages[0].Version != "5.4" {
		t.Fatalf("a kept scan lost its packages: %+v, %v", full, err)
	}
	// The newest scan's views stay whatever is pruned.
	if sw, _ := s.SoftwareDevices(ctx, "vim"); len(sw) != 1 {
		t.Fatalf("latest packages of b = %+v", sw)
	}
	if _, err := s.Session(ctx, "old", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
}

// testComplianceTrend: the trend is a daily rollup kept as scans arrive;
// a duplicate scan is not counted twice, a late older scan counts on the
// day it was received, pruning drops whole days older than the cut, and
// migrating a database without the rollup fills it from its history.
func testComplianceTrend(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, _ := enroll(t, s, "a")
	b, _ := enroll(t, s, "b")
	res := map[string]string{"ssh": OutcomeCompliant, "disk": OutcomeNonCompliant}
	save := func(dev int64, id string, started, received time.Time) {
		t.Helper()
		if _, err := s.SaveScan(ctx, dev, NewScan{ID: id, StartedAt: started, Report: report(t, id, started, nil, res)}, received); err != nil {
			t.Fatal(err)
		}
	}
	day := func(i int) time.Time { return t0.Add(time.Duration(i) * 24 * time.Hour) }
	save(a, "a0", day(0), day(0))
	save(b, "b0", day(0), day(0).Add(time.Hour))
	save(b, "b0", day(0), day(0).Add(2*time.Hour)) // the same scan again
	save(a, "a1", day(1), day(1))
	save(b, "late", day(0).Add(-time.Hour), day(2)) // started on day 0, received on day 2
	want := func(label string, days map[int]int) {
		t.Helper()
		tr, err := s.ComplianceTrend(ctx, day(-5))
		if err != nil {
			t.Fatal(err)
		}
		got := map[int]int{}
		for _, d := range tr {
			i := int(d.Day.Sub(t0.Truncate(24*time.Hour)) / (24 * time.Hour))
			got[i] = d.Scans
			if d.Outcomes.Compliant != d.Scans || d.Outcomes.NonCompliant != d.Scans || d.Outcomes.Error != 0 {
				t.Fatalf("%s: day %d outcomes %+v for %d scans", label, i, d.Outcomes, d.Scans)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(days) {
			t.Fatalf("%s: scans per day = %v, want %v", label, got, days)
		}
	}
	want("saved", map[int]int{0: 2, 1: 1, 2: 1})
	if tr, _ := s.ComplianceTrend(ctx, day(1).Add(time.Hour)); len(tr) != 2 || !tr[0].Day.Equal(day(1).Truncate(24*time.Hour)) {
		t.Fatalf("trend from within day 1 = %+v, want days 1 and 2", tr)
	}

	// Migrating a database of schema 6 fills the rollup from history.
	sq := s.(*sqlStore)
	for _, q := range []string{`DROP TABLE compliance_days`, `DROP INDEX device_results_outcome`, `DROP INDEX device_results_any`,
		`CREATE INDEX device_results_status ON device_results (worklet, status)`, `DELETE FROM schema_migrations WHERE version = 7`} {
		if _, err := sq.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := sq.migrate(ctx); err != nil {
		t.Fatal(err)
	}
	want("migrated", map[int]int{0: 2, 1: 1, 2: 1})

	if _, err := s.PruneHistory(ctx, day(1).Add(time.Hour), 100, day(3)); err != nil {
		t.Fatal(err)
	}
	want("pruned", map[int]int{1: 1, 2: 1})
}

func testListDevices(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	if err := s.AddGroup(ctx, "servers", 6); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, h := range []string{"web1", "web2", "db1", "mail_x", "laptop"} {
		ids[h], _ = enroll(t, s, h)
	}
	if err := s.MoveDevice(ctx, ids["db1"], "servers"); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordCheckins(ctx, []Checkin{{DeviceID: ids["web1"], At: t0}, {DeviceID: ids["web2"], At: t0.Add(-time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	s.SaveScan(ctx, ids["web1"], NewScan{ID: "1", Report: report(t, "1", t0, nil, map[string]string{"ssh": "non-compliant"})}, t0)
	s.SaveScan(ctx, ids["web2"], NewScan{ID: "1", Report: report(t, "1", t0, nil, map[string]string{"ssh": "compliant", "disk": "non-compliant"})}, t0)
	// An error and a status outside the five outcomes (counted as an error).
	s.SaveScan(ctx, ids["laptop"], NewScan{ID: "1", Report: report(t, "1", t0, nil, map[string]string{"fw": "error", "agent": "failed"})}, t0)
	names := func(q DeviceQuery) []string {
		t.Helper()
		rows, total, err := ss[1].ListDevices(ctx, q)
		if err != nil {
			t.Fatalf("ListDevices(%+v): %v", q, err)
		}
		var out []string
		for _, r := range rows {
			out = append(out, r.Hostname)
		}
		return append(out, fmt.Sprint(total))
	}
	for _, c := range []struct {
		q    DeviceQuery
		want string
	}{
		{DeviceQuery{}, "[db1 laptop mail_x web1 web2 5]"},
		{DeviceQuery{Sort: "hostname", Desc: true, Limit: 2}, "[web2 web1 5]"},
		{DeviceQuery{Sort: "hostname", Desc: true, Limit: 2, Offset: 4}, "[db1 5]"},
		{DeviceQuery{Group: "servers"}, "[db1 1]"},
		{DeviceQuery{Status: StatusOnline, OnlineSince: t0.Add(-time.Minute)}, "[web1 1]"},
		{DeviceQuery{Status: StatusOffline, OnlineSince: t0.Add(-time.Minute)}, "[web2 1]"},
		{DeviceQuery{Status: StatusNever}, "[db1 laptop mail_x 3]"},
		{DeviceQuery{Search: "web"}, "[web1 web2 2]"},
		{DeviceQuery{Search: "_"}, "[mail_x 1]"}, // LIKE wildcards are literal
		{DeviceQuery{Worklet: "ssh", Outcome: OutcomeNonCompliant}, "[web1 1]"},
		{DeviceQuery{Outcome: OutcomeNonCompliant}, "[web1 web2 2]"},
		{DeviceQuery{Outcome: OutcomeCompliant}, "[web2 1]"},
		{DeviceQuery{Outcome: OutcomeError}, "[laptop 1]"},
		{DeviceQuery{Outcome: "failed"}, "[laptop 1]"},
		{DeviceQuery{Outcome: OutcomeQuarantined, Group: "servers"}, "[0]"},
		{DeviceQuery{Worklet: "ssh"}, "[web1 web2 2]"},
		{DeviceQuery{Worklet: "ssh", Sort: "compliant", Desc: true, Limit: 1}, "[web2 2]"},
		{DeviceQuery{Worklet: "ssh", Sort: "group", Offset: 1}, "[web2 2]"},
		{DeviceQuery{Worklet: "ssh", Group: "servers"}, "[0]"},
		{DeviceQuery{Worklet: "ssh", OS: "Debian GNU/Linux 12 (bookworm)", Status: StatusOnline, OnlineSince: t0.Add(-time.Minute)}, "[web1 1]"},
		{DeviceQuery{Worklet: "ssh", Outcome: OutcomeCompliant, Search: "web"}, "[web2 1]"},
		{DeviceQuery{Worklet: "disk", Outcome: OutcomeCompliant}, "[0]"},
		{DeviceQuery{OS: "Debian GNU/Linux 12 (bookworm)", Sort: "non_compliant", Desc: true}, "[web1 web2 laptop 3]"},
		{DeviceQuery{Sort: "no such column; DROP TABLE devices"}, "[db1 laptop mail_x web1 web2 5]"},
	} {
		if got := fmt.Sprint(names(c.q)); got != c.want {
			t.Errorf("ListDevices(%+v) = %s, want %s", c.q, got, c.want)
		}
	}
	if _, _, err := s.ListDevices(ctx, DeviceQuery{Status: "bogus"}); err == nil {
		t.Error("an unknown status is accepted")
	}
	// A retired device is in no list and no count, those read from the
	// results or the inventory alone included.
	if err := s.RetireDevice(ctx, ids["web2"], t0); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		q    DeviceQuery
		want string
	}{
		{DeviceQuery{Worklet: "ssh"}, "[web1 1]"},
		{DeviceQuery{Worklet: "ssh", Outcome: OutcomeCompliant}, "[0]"},
		{DeviceQuery{Outcome: OutcomeCompliant}, "[0]"},
		{DeviceQuery{Outcome: OutcomeNonCompliant}, "[web1 1]"},
	} {
		if got := fmt.Sprint(names(c.q)); got != c.want {
			t.Errorf("after retiring web2: ListDevices(%+v) = %s, want %s", c.q, got, c.want)
		}
	}
}

func testRetireCancel(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, au := enroll(t, s, "a")
	enroll(t, s, "b")
	s.SaveScan(ctx, a, NewScan{ID: "1", Report: report(t, "1", t0, map[string]string{"bash": "5"}, map[string]string{"ssh": "compliant"})}, t0)
	c1, _ := s.QueueCommand(ctx, a, protocol.CmdScan, nil, t0)
	c2, _ := s.QueueCommand(ctx, a, protocol.CmdScan, nil, t0)
	got, err := s.CancelCommand(ctx, c1, t0)
	if err != nil || got.Status != "canceled" || got.Device != au {
		t.Fatalf("CancelCommand = %+v, %v", got, err)
	}
	if _, err := s.CancelCommand(ctx, c1, t0); !errors.Is(err, ErrAlreadyDone) {
		t.Fatalf("cancel twice: %v", err)
	}
	if _, err := s.CancelCommand(ctx, 999999, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancel unknown: %v", err)
	}
	if c, ok, _ := s.ClaimCommand(ctx, a, "", t0, time.Minute); !ok || c.ID != c2 {
		t.Fatalf("claim after cancel = %+v %v, want the second command", c, ok)
	}
	if err := s.CompleteCommand(ctx, a, c1, protocol.CommandResult{Status: "ok"}, t0); !errors.Is(err, ErrAlreadyDone) {
		t.Fatalf("a result for a canceled command: %v, want ErrAlreadyDone", err)
	}
	if err := s.RetireDevice(ctx, a, t0); err != nil {
		t.Fatal(err)
	}
	devs, _ := s.Devices(ctx)
	if len(devs) != 1 || devs[0].Hostname != "b" {
		t.Fatalf("Devices after retire = %+v", devs)
	}
	if rows, total, _ := s.ListDevices(ctx, DeviceQuery{}); total != 1 || rows[0].Hostname != "b" {
		t.Fatalf("ListDevices after retire = %+v", rows)
	}
	if sw, _ := s.SoftwareDevices(ctx, "bash"); len(sw) != 0 {
		t.Fatalf("a retired device's packages are listed: %+v", sw)
	}
	if d, err := s.DeviceRow(ctx, a); err != nil || d.RetiredAt.IsZero() {
		t.Fatalf("DeviceRow of a retired device = %+v, %v", d, err)
	}
	if auth, _ := s.DeviceAuth(ctx, au); auth.TokenHash != "" {
		t.Fatal("a retired device keeps its token")
	}
	if h, _ := s.ScanHistory(ctx, a); len(h) != 1 {
		t.Fatalf("a retired device's history = %+v, want kept", h)
	}
	// Enrolling again brings it back.
	if _, err := s.Enroll(ctx, Enrollment{UUID: au, Hostname: "a", TokenHash: "t", DeviceKey: "k2"}, t0); err != nil {
		t.Fatal(err)
	}
	if devs, _ := s.Devices(ctx); len(devs) != 2 {
		t.Fatalf("Devices after re-enrollment = %d, want 2", len(devs))
	}
}

func testSessions(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	se := Session{IDHash: "abc", CSRF: "csrf", AdminHash: "h", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateSession(ctx, se); err != nil {
		t.Fatal(err)
	}
	got, err := ss[1].Session(ctx, "abc", t0.Add(time.Minute))
	if err != nil || got.CSRF != "csrf" || got.AdminHash != "h" || !got.ExpiresAt.Equal(se.ExpiresAt) {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	if _, err := s.Session(ctx, "abc", t0.Add(time.Hour)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("expired session: %v", err)
	}
	if err := s.DeleteSession(ctx, "abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "abc", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}
