package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
)

// TestStoreSQLite runs the store suite against the embedded database.
func TestStoreSQLite(t *testing.T) {
	runSuite(t, func(t *testing.T) []Store { return OpenTestSQLite(t, 2) })
}

// TestStorePostgres runs the same suite against PostgreSQL. It needs
// AMPLATFORM_TEST_DATABASE_URL; under CI=true a missing URL is a failure.
func TestStorePostgres(t *testing.T) {
	runSuite(t, func(t *testing.T) []Store { return OpenTestPostgres(t, 2) })
}

func runSuite(t *testing.T, open func(t *testing.T) []Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, s []Store)
	}{
		{"enroll and auth", testEnroll},
		{"settings", testSettings},
		{"commands", testCommands},
		{"claim once across replicas", testClaimRace},
		{"re-offer after timeout", testReoffer},
		{"check-ins and scans", testCheckinsScans},
		{"groups and worklets", testGroupsWorklets},
		{"bulk register", testRegister},
		{"device key binding", testKeyBinding},
		{"one key wins a concurrent first enrollment", testKeyBindingRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func enroll(t *testing.T, s Store, host string) (int64, string) {
	t.Helper()
	id := uuid.NewString()
	dev, err := s.Enroll(t.Context(), Enrollment{UUID: id, Hostname: host, TokenHash: "hash-" + id}, t0)
	if err != nil {
		t.Fatalf("Enroll: %v", err)
	}
	return dev, id
}

func testEnroll(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	id, u := enroll(t, s, "web1")
	a, err := s.DeviceAuth(ctx, u)
	if err != nil || a.ID != id || a.TokenHash != "hash-"+u {
		t.Fatalf("DeviceAuth = %+v, %v", a, err)
	}
	// Enrolling again keeps the id and replaces the token.
	id2, err := s.Enroll(ctx, Enrollment{UUID: u, Hostname: "web1-renamed", TokenHash: "new"}, t0)
	if err != nil || id2 != id {
		t.Fatalf("re-enroll = %d, %v; want %d", id2, err, id)
	}
	if a, _ := ss[1].DeviceAuth(ctx, u); a.TokenHash != "new" {
		t.Fatalf("token after re-enroll = %q", a.TokenHash)
	}
	if _, err := s.DeviceAuth(ctx, uuid.NewString()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	if _, err := s.CheckinInfo(ctx, uuid.NewString(), "", t0, time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown device: %v", err)
	}
	d, err := s.FindDevice(ctx, "web1-renamed")
	if err != nil || d.UUID != u || d.Group != DefaultGroup || !d.FirstSeen.Equal(t0) {
		t.Fatalf("FindDevice by hostname = %+v, %v", d, err)
	}
	if d, err := s.FindDevice(ctx, u); err != nil || d.ID != id {
		t.Fatalf("FindDevice by uuid = %+v, %v", d, err)
	}
	enroll(t, s, "dup")
	enroll(t, s, "dup")
	if _, err := s.FindDevice(ctx, "dup"); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("ambiguous hostname: %v", err)
	}
	if _, err := s.FindDevice(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown hostname: %v", err)
	}
}

func testSettings(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	if _, ok, err := s.Setting(ctx, "k"); ok || err != nil {
		t.Fatalf("unset setting: %v %v", ok, err)
	}
	if ok, err := s.InitSetting(ctx, "k", "a"); !ok || err != nil {
		t.Fatalf("InitSetting first = %v, %v", ok, err)
	}
	if ok, err := ss[1].InitSetting(ctx, "k", "b"); ok || err != nil {
		t.Fatalf("InitSetting second = %v, %v", ok, err)
	}
	if err := s.SetSetting(ctx, "k", "c"); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := ss[1].Setting(ctx, "k"); !ok || v != "c" {
		t.Fatalf("Setting = %q %v", v, ok)
	}
}

func testCommands(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	dev, devUUID := enroll(t, s, "a")
	other, _ := enroll(t, s, "b")
	info, err := s.CheckinInfo(ctx, devUUID, "", t0, time.Minute)
	if err != nil || info.HasCommand || info.ScanInterval != DefaultScanInterval || info.DeviceID != dev || info.TokenHash != "hash-"+devUUID {
		t.Fatalf("CheckinInfo before queue = %+v, %v", info, err)
	}
	id1, err := s.QueueCommand(ctx, dev, protocol.CmdExec, []string{"GetOS"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	id2, _ := s.QueueCommand(ctx, dev, protocol.CmdScan, nil, t0)
	if info, _ := s.CheckinInfo(ctx, devUUID, "", t0, time.Minute); !info.HasCommand {
		t.Fatal("CheckinInfo does not see the queued command")
	}
	if _, ok, _ := s.ClaimCommand(ctx, other, "", t0, time.Minute); ok {
		t.Fatal("another device claimed the command")
	}
	c, ok, err := s.ClaimCommand(ctx, dev, "", t0, time.Minute)
	if err != nil || !ok || c.ID != id1 || c.Command != protocol.CmdExec || len(c.Params) != 1 || c.Params[0] != "GetOS" {
		t.Fatalf("first claim = %+v %v %v", c, ok, err)
	}
	c, ok, _ = s.ClaimCommand(ctx, dev, "", t0, time.Minute)
	if !ok || c.ID != id2 || len(c.Params) != 0 {
		t.Fatalf("second claim = %+v %v", c, ok)
	}
	if _, ok, _ := s.ClaimCommand(ctx, dev, "", t0, time.Minute); ok {
		t.Fatal("third claim found a command")
	}
	res := protocol.CommandResult{Status: "ok", StartedAt: t0, ElapsedMS: 5, Output: json.RawMessage(`{"os":"linux"}`)}
	if err := s.CompleteCommand(ctx, other, id1, res, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other device completing = %v, want ErrNotFound", err)
	}
	if err := s.CompleteCommand(ctx, dev, id1, res, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteCommand(ctx, dev, id1, res, t0); !errors.Is(err, ErrAlreadyDone) {
		t.Fatalf("second result = %v, want ErrAlreadyDone", err)
	}
	if err := s.CompleteCommand(ctx, dev, 999999, res, t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown command = %v", err)
	}
	cmds, err := s.Commands(ctx, dev, 10)
	if err != nil || len(cmds) != 2 || cmds[1].ID != id1 || cmds[1].Status != "ok" || string(cmds[1].Output) != `{"os":"linux"}` || cmds[1].DoneAt.IsZero() {
		t.Fatalf("Commands = %+v, %v", cmds, err)
	}
}

func testClaimRace(t *testing.T, ss []Store) {
	ctx := t.Context()
	dev, _ := enroll(t, ss[0], "race")
	const cmds, workers = 20, 8
	for i := range cmds {
		if _, err := ss[0].QueueCommand(ctx, dev, protocol.CmdExec, []string{fmt.Sprint(i)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	got := map[int64]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			s := ss[w%len(ss)]
			for {
				c, ok, err := s.ClaimCommand(ctx, dev, "", t0, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				got[c.ID]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != cmds {
		t.Fatalf("claimed %d distinct commands, want %d", len(got), cmds)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("command %d claimed %d times", id, n)
		}
	}
}

func testReoffer(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	dev, devUUID := enroll(t, s, "slow")
	id, _ := s.QueueCommand(ctx, dev, protocol.CmdScan, nil, t0)
	timeout := 10 * time.Minute
	if c, ok, _ := s.ClaimCommand(ctx, dev, "", t0, timeout); !ok || c.ID != id || c.Offers != 1 {
		t.Fatalf("claim = %+v %v", c, ok)
	}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{time.Minute, false}, {timeout - time.Second, false}, {timeout + time.Second, true}} {
		info, _ := s.CheckinInfo(ctx, devUUID, "", t0.Add(tc.at), timeout)
		if info.HasCommand != tc.want {
			t.Errorf("at +%v HasCommand = %v, want %v", tc.at, info.HasCommand, tc.want)
		}
	}
	c, ok, _ := s.ClaimCommand(ctx, dev, "", t0.Add(timeout+time.Second), timeout)
	if !ok || c.ID != id || c.Offers != 2 {
		t.Fatalf("re-offer = %+v %v", c, ok)
	}
	if err := s.CompleteCommand(ctx, dev, id, protocol.CommandResult{Status: "ok"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.ClaimCommand(ctx, dev, "", t0.Add(time.Hour), timeout); ok {
		t.Fatal("a command with a result was offered again")
	}

	// A command whose result never comes back is offered MaxOffers times,
	// then given up as an error.
	id2, _ := s.QueueCommand(ctx, dev, protocol.CmdReboot, []string{"0"}, t0)
	at := t0
	for i := 1; i <= MaxOffers; i++ {
		at = at.Add(timeout + time.Second)
		if c, ok, _ := s.ClaimCommand(ctx, dev, "", at, timeout); !ok || c.ID != id2 || c.Offers != i {
			t.Fatalf("offer %d = %+v %v", i, c, ok)
		}
		if n, _ := s.ExpireCommands(ctx, at, timeout); n != 0 {
			t.Fatalf("expired %d commands after offer %d", n, i)
		}
	}
	at = at.Add(timeout + time.Second)
	if info, _ := s.CheckinInfo(ctx, devUUID, "", at, timeout); info.HasCommand {
		t.Fatal("CheckinInfo reports a command offered MaxOffers times")
	}
	if _, ok, _ := s.ClaimCommand(ctx, dev, "", at, timeout); ok {
		t.Fatal("a command was offered more than MaxOffers times")
	}
	if n, err := s.ExpireCommands(ctx, at, timeout); n != 1 || err != nil {
		t.Fatalf("ExpireCommands = %d, %v", n, err)
	}
	cmds, _ := s.Commands(ctx, dev, 1)
	if c := cmds[0]; c.ID != id2 || c.Status != "error" || c.DoneAt.IsZero() || !strings.Contains(c.Error, "no result after 3 offers") {
		t.Fatalf("expired command = %+v", c)
	}
}

func testCheckinsScans(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	a, _ := enroll(t, s, "a")
	b, _ := enroll(t, s, "b")
	at := t0.Add(time.Minute)
	if err := s.RecordCheckins(ctx, []Checkin{
		{DeviceID: a, Uptime: 100, AgentVersion: "1.0", TZ: "+0530", At: at},
		{DeviceID: b, Uptime: 7, AgentVersion: "1.1", TZ: "-0500", At: at},
	}); err != nil {
		t.Fatal(err)
	}
	sum := Summary{Compliant: 3, NonCompliant: 1, Error: 2}
	if _, err := s.SaveScan(ctx, a, NewScan{ID: "s1", StartedAt: at.Add(-time.Minute), Report: []byte(`{"scan_id":"s1"}`)}, at); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveScan(ctx, a, NewScan{ID: "s2", StartedAt: at.Add(-time.Second), Report: []byte(`{"scan_id":"s2"}`), Summary: sum}, at); err != nil {
		t.Fatal(err)
	}
	devs, err := ss[1].Devices(ctx)
	if err != nil || len(devs) != 2 {
		t.Fatalf("Devices = %+v, %v", devs, err)
	}
	d := devs[0]
	if d.Hostname != "a" || d.Uptime != 100 || d.AgentVersion != "1.0" || d.TZ != "+0530" || !d.LastSeen.Equal(at) || !d.LastScan.Equal(at) || d.Summary != sum {
		t.Fatalf("device a = %+v", d)
	}
	sc, ok, err := s.LatestScan(ctx, a)
	if err != nil || !ok || sc.ScanID != "s2" || sc.Summary != sum || string(sc.Report) != `{"scan_id":"s2"}` {
		t.Fatalf("LatestScan = %+v %v %v", sc, ok, err)
	}
	if _, ok, _ := s.LatestScan(ctx, b); ok {
		t.Fatal("device b has a scan")
	}
}

func testGroupsWorklets(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	dev, devUUID := enroll(t, s, "a")
	if err := s.AddGroup(ctx, "servers", 6); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []int{0, 5, 25} {
		if err := s.AddGroup(ctx, "bad", bad); err == nil {
			t.Errorf("AddGroup interval %d accepted", bad)
		}
	}
	if err := s.AddGroup(ctx, "servers", 8); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate group: %v", err)
	}
	if err := s.SetScanInterval(ctx, "nope", 8); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown group: %v", err)
	}
	w := Worklet{Name: "ssh", Version: "1.0.0", Kind: "worklet", Manifest: "abi = 1", Module: []byte{0, 'a', 's', 'm'}, SHA256: "m1", ManifestSHA256: "x1", Signature: "sig1", CreatedAt: t0}
	if err := s.AddWorklet(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := s.AddWorklet(ctx, w); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate worklet: %v", err)
	}
	w2 := w
	w2.Version, w2.SHA256, w2.CreatedAt = "1.1.0", "m2", t0.Add(time.Second)
	if err := s.AddWorklet(ctx, w2); err != nil {
		t.Fatal(err)
	}
	got, err := s.Worklet(ctx, "ssh", "1.0.0")
	if err != nil || string(got.Module) != string(w.Module) || got.Manifest != w.Manifest || got.Signature != "sig1" {
		t.Fatalf("Worklet = %+v, %v", got, err)
	}
	if list, _ := s.Worklets(ctx); len(list) != 2 {
		t.Fatalf("Worklets = %+v", list)
	}
	if _, err := s.Assign(ctx, "servers", Assignment{Worklet: "nope"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("assign unknown worklet: %v", err)
	}
	a, err := s.Assign(ctx, "servers", Assignment{Worklet: "ssh", Remediate: "02:00", Params: map[string]any{"port": "2222"}})
	if err != nil || a.Version != "1.1.0" {
		t.Fatalf("Assign latest = %+v, %v", a, err)
	}
	if err := s.MoveDevice(ctx, dev, "servers"); err != nil {
		t.Fatal(err)
	}
	info, _ := s.CheckinInfo(ctx, devUUID, "", t0, time.Minute)
	if info.ScanInterval != 6 {
		t.Fatalf("scan interval after move = %d", info.ScanInterval)
	}
	as, err := s.GroupAssignments(ctx, info.GroupID)
	if err != nil || len(as) != 1 || as[0].URL != "/bundles/ssh/1.1.0" || as[0].SHA256 != "m2" || as[0].Remediate != "02:00" || as[0].Params["port"] != "2222" || as[0].Signature != "sig1" {
		t.Fatalf("GroupAssignments = %+v, %v", as, err)
	}
	before := info.GroupVersion
	if err := s.SetScanInterval(ctx, "servers", 24); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.CheckinInfo(ctx, devUUID, "", t0, time.Minute); info.GroupVersion == before || info.ScanInterval != 24 {
		t.Fatalf("after set-interval: %+v (version before %d)", info, before)
	}
	groups, err := s.Groups(ctx)
	if err != nil || len(groups) != 2 || groups[1].Name != "servers" || groups[1].Devices != 1 || len(groups[1].Assignments) != 1 {
		t.Fatalf("Groups = %+v, %v", groups, err)
	}
	if err := s.Unassign(ctx, "servers", "ssh"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unassign(ctx, "servers", "ssh"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second unassign: %v", err)
	}
	if as, _ := s.GroupAssignments(ctx, info.GroupID); len(as) != 0 {
		t.Fatalf("assignments after unassign: %+v", as)
	}
}

func testRegister(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	devs := make([]NewDevice, 1234)
	for i := range devs {
		devs[i] = NewDevice{UUID: uuid.NewString(), Hostname: fmt.Sprintf("h%d", i), TokenHash: fmt.Sprint("t", i)}
	}
	if err := s.RegisterDevices(ctx, devs, t0); err != nil {
		t.Fatal(err)
	}
	a, err := s.DeviceAuth(ctx, devs[1000].UUID)
	if err != nil || a.TokenHash != "t1000" {
		t.Fatalf("DeviceAuth = %+v, %v", a, err)
	}
	list, _ := s.Devices(ctx)
	if len(list) != len(devs) {
		t.Fatalf("%d devices, want %d", len(list), len(devs))
	}
}

func testKeyBinding(t *testing.T, ss []Store) {
	s, ctx := ss[0], t.Context()
	u := uuid.NewString()
	en := func(key, tok, signed string) (int64, error) {
		return s.Enroll(ctx, Enrollment{UUID: u, Hostname: "h", TokenHash: tok, DeviceKey: key, Signature: key + "@" + signed, SignedAt: signed, Expires: t0.Add(10 * time.Minute)}, t0)
	}
	id, err := en("key-a", "tok-1", "2026-11-25T12:00:00Z")
	if err != nil {
		t.Fatalf("first enrollment: %v", err)
	}
	if d, _ := s.FindDevice(ctx, u); d.DeviceKey != "key-a" {
		t.Fatalf("bound key = %q, want key-a", d.DeviceKey)
	}
	// The same key rotates the token.
	if id2, err := en("key-a", "tok-2", "2026-11-25T12:00:01Z"); err != nil || id2 != id {
		t.Fatalf("re-enrollment with the bound key = %d, %v", id2, err)
	}
	// Another key changes nothing.
	if _, err := en("key-b", "tok-evil", "2026-11-25T12:00:02Z"); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("enrollment with another key = %v, want ErrKeyMismatch", err)
	}
	if a, _ := ss[1].DeviceAuth(ctx, u); a.TokenHash != "tok-2" {
		t.Fatalf("token after a refused enrollment = %q, want tok-2", a.TokenHash)
	}
	if d, _ := s.FindDevice(ctx, u); d.DeviceKey != "key-a" || d.Hostname != "h" {
		t.Fatalf("device after a refused enrollment = %+v", d)
	}
	// The same signature is accepted once, and changes nothing the second
	// time.
	if _, err := en("key-a", "tok-3", "2026-11-25T12:00:01Z"); !errors.Is(err, ErrReplay) {
		t.Fatalf("replayed enrollment = %v, want ErrReplay", err)
	}
	if a, _ := ss[1].DeviceAuth(ctx, u); a.TokenHash != "tok-2" {
		t.Fatalf("token after a replay = %q, want tok-2", a.TokenHash)
	}
	// Expired entries are forgotten (the time check refuses them anyway).
	if _, err := s.Enroll(ctx, Enrollment{UUID: u, Hostname: "h", TokenHash: "tok-4", DeviceKey: "key-a", Signature: "key-a@2026-11-25T12:00:01Z", SignedAt: "2026-11-25T12:00:01Z", Expires: t0.Add(time.Hour)}, t0.Add(11*time.Minute)); err != nil {
		t.Fatalf("enrollment after the replay window: %v", err)
	}
	// A reset releases the key and revokes the token.
	if err := s.ResetDevice(ctx, id); err != nil {
		t.Fatal(err)
	}
	if a, _ := ss[1].DeviceAuth(ctx, u); a.TokenHash != "" {
		t.Fatalf("token after reset = %q, want none", a.TokenHash)
	}
	if _, err := en("key-b", "tok-5", "2026-11-25T12:00:05Z"); err != nil {
		t.Fatalf("enrollment with a new key after reset: %v", err)
	}
	if d, _ := s.FindDevice(ctx, u); d.DeviceKey != "key-b" || d.ID != id {
		t.Fatalf("device after reset and enrollment = %+v", d)
	}
	if err := s.ResetDevice(ctx, 999999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reset of an unknown device = %v", err)
	}
}

func testKeyBindingRace(t *testing.T, ss []Store) {
	ctx := t.Context()
	for round := range 10 {
		u := uuid.NewString()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for w := range errs {
			wg.Go(func() {
				_, errs[w] = ss[w%len(ss)].Enroll(ctx, Enrollment{UUID: u, Hostname: "h", TokenHash: fmt.Sprint("tok-", w), DeviceKey: fmt.Sprint("key-", w),
					Signature: fmt.Sprint("sig-", w), SignedAt: "2026-11-25T12:00:00Z", Expires: t0.Add(time.Hour)}, t0)
			})
		}
		wg.Wait()
		won := -1
		for w, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("round %d: keys %d and %d both enrolled %s", round, won, w, u)
			case err == nil:
				won = w
			case !errors.Is(err, ErrKeyMismatch):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		d, err := ss[0].FindDevice(ctx, u)
		if won < 0 || err != nil || d.DeviceKey != fmt.Sprint("key-", won) {
			t.Fatalf("round %d: winner %d, device %+v, %v", round, won, d, err)
		}
	}
}

// TestMigrateBindsExistingDevices opens a database made by the first
// schema, with an enrolled device: it is migrated, the device keeps its
// token and has no key until its next enrollment binds one.
func TestMigrateBindsExistingDevices(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Rebuild the file at schema version 1.
	os.Remove(filepath.Join(dir, SQLiteFile))
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	stmts := append([]string{`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)`}, migrations[1]...)
	stmts = append(stmts, `INSERT INTO schema_migrations (version) VALUES (1)`,
		`INSERT INTO devices (uuid, hostname, token_hash, group_id) VALUES ('6f1c1a50-0000-4000-8000-000000000001', 'old', 'old-hash', 1)`)
	for _, q := range stmts {
		q = strings.NewReplacer("{{ID}}", sqliteDialect.idType, "{{BLOB}}", sqliteDialect.blobType).Replace(q)
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s, err = OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatalf("opening a version 1 database: %v", err)
	}
	defer s.Close()
	const u = "6f1c1a50-0000-4000-8000-000000000001"
	if a, err := s.DeviceAuth(t.Context(), u); err != nil || a.TokenHash != "old-hash" {
		t.Fatalf("device after migration = %+v, %v", a, err)
	}
	if _, err := s.Enroll(t.Context(), Enrollment{UUID: u, Hostname: "old", TokenHash: "new", DeviceKey: "key-a"}, t0); err != nil {
		t.Fatalf("first signed enrollment of a migrated device: %v", err)
	}
	if _, err := s.Enroll(t.Context(), Enrollment{UUID: u, Hostname: "old", TokenHash: "evil", DeviceKey: "key-b"}, t0); !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("second key on a migrated device = %v, want ErrKeyMismatch", err)
	}
}

// PostgreSQL sessions run without parallel workers unless the URL says
// otherwise, and a URL that does not parse is an error that names it
// without its password.
func TestPostgresSessionSettings(t *testing.T) {
	if _, err := OpenPostgres(t.Context(), "postgres://amagent:s3cret-pw@127.0.0.1:notaport/x"); err == nil ||
		strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "postgres URL") {
		t.Fatalf("bad URL: %v", err)
	}
	s := OpenTestPostgres(t, 1)[0].(*sqlStore)
	var v string
	if err := s.r.QueryRowContext(t.Context(), `SHOW max_parallel_workers_per_gather`).Scan(&v); err != nil || v != "0" {
		t.Fatalf("max_parallel_workers_per_gather = %q, %v; want 0", v, err)
	}
	o, err := OpenPostgres(t.Context(), TestPostgresURL(t)+"&max_parallel_workers_per_gather=3")
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if err := o.(*sqlStore).r.QueryRowContext(t.Context(), `SHOW max_parallel_workers_per_gather`).Scan(&v); err != nil || v != "3" {
		t.Fatalf("set in the URL: max_parallel_workers_per_gather = %q, %v; want 3", v, err)
	}
}
