package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/platform/internal/store"
)

// Quarantined is its own status in the CLI, and `worklet release` lifts a
// quarantine on every device or on one.
func TestWorkletReleaseAndQuarantinedStatus(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	dev, err := st.Enroll(ctx, store.Enrollment{UUID: uuid.NewString(), Hostname: "web1", TokenHash: "x"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddWorklet(ctx, store.Worklet{Name: "crashy", Version: "1", Kind: "worklet", Manifest: "m", Module: []byte{0}, SHA256: "s", ManifestSHA256: "m", Signature: "g", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	report := `{"scan_id":"s1","results":[{"name":"crashy","phase":"evaluate","status":"quarantined","error":"quarantined after 3 failed scans in a row"},{"name":"ok","phase":"evaluate","status":"compliant"}]}`
	if _, err := st.SaveScan(ctx, dev, store.NewScan{ID: "s1", StartedAt: now, Report: []byte(report), Summary: store.Summary{Compliant: 1, Quarantined: 1}}, now); err != nil {
		t.Fatal(err)
	}
	st.Close()

	out := mustRun(t, "devices", "--data", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	// OK NC ERR QUAR N/A UPD (the table that fits 100 columns).
	if f := strings.Fields(lines[1]); !strings.Contains(lines[0], "OK  NC  ERR  QUAR  N/A") || strings.Join(f[len(f)-6:len(f)-2], " ") != "1 0 0 1" {
		t.Fatalf("devices:\n%s", out)
	}
	out = mustRun(t, "results", "web1", "--data", dir)
	if !strings.Contains(out, "1 compliant, 0 non-compliant, 0 error, 1 quarantined") || !strings.Contains(out, "quarantined  ") {
		t.Fatalf("results:\n%s", out)
	}
	if out := mustRun(t, "worklet", "release", "crashy", "--data", dir); !strings.Contains(out, "released crashy on every device (release 1)") {
		t.Fatalf("release everywhere: %s", out)
	}
	if out := mustRun(t, "worklet", "release", "crashy", "--device", "web1", "--data", dir); !strings.Contains(out, "released crashy on web1 (") {
		t.Fatalf("release on web1: %s", out)
	}
	if _, err := run(t, "worklet", "release", "nope", "--data", dir); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown worklet: %v", err)
	}
	if _, err := run(t, "worklet", "release", "crashy", "--device", "nope", "--data", dir); err == nil {
		t.Fatal("unknown device released")
	}
}
