package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/platform/internal/store"
)

// Tables fit 100 columns (long fields cut with …, UUIDs whole), --wide
// shows every column whole; devices retire, commands cancel and software.
func TestTablesFitAndReportCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	long := "a-very-long-hostname-of-a-machine-in-a-rack-far-away.datacenter.example.com"
	ids := map[string]string{}
	var cmd int64
	for host, bash := range map[string]string{long: "5.2.15-2", "web2": "5.1-2"} {
		id := uuid.NewString()
		dev, err := st.Enroll(ctx, store.Enrollment{UUID: id, Hostname: host, TokenHash: "x"}, now)
		if err != nil {
			t.Fatal(err)
		}
		ids[host] = id
		doc, _ := json.Marshal(scandoc.Document{OS: scandoc.OS{PrettyName: "Debian GNU/Linux 12 (bookworm)"},
			Software: []scandoc.Package{{Name: "bash", Version: bash, Source: "dpkg"}}})
		rep, _ := json.Marshal(protocol.ScanReport{ScanID: "s", StartedAt: now, Scan: doc, Results: []protocol.WorkletResult{
			{Name: "ssh", Phase: "evaluate", Status: "not-applicable"}, {Name: "disk", Phase: "evaluate", Status: "quarantined", Message: strings.Repeat("long message ", 20)}}})
		if _, err := st.SaveScan(ctx, dev, store.NewScan{ID: "s", StartedAt: now, Report: rep}, now); err != nil {
			t.Fatal(err)
		}
		if cmd, err = st.QueueCommand(ctx, dev, protocol.CmdExec, []string{"GetOS"}, now); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	fits := func(out string) {
		t.Helper()
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "device ") || strings.HasPrefix(l, "latest scan ") {
				continue // prose, not a table
			}
			if n := utf8.RuneCountInString(l); n > tableWidth {
				t.Errorf("a line of %d columns:\n%s", n, l)
			}
		}
	}
	out := mustRun(t, "devices", "--data", dir)
	fits(out)
	if !strings.Contains(out, "QUAR  N/A") || !strings.Contains(out, "…") || !strings.Contains(out, ids[long]) || strings.Contains(out, long) {
		t.Fatalf("devices (fit):\n%s", out)
	}
	wide := mustRun(t, "devices", "--wide", "--data", dir)
	if !strings.Contains(wide, long) || !strings.Contains(wide, "NOT APPLICABLE") || !strings.Contains(wide, "Debian GNU/Linux 12 (bookworm)") {
		t.Fatalf("devices --wide:\n%s", wide)
	}
	res := mustRun(t, "results", long, "--data", dir)
	fits(res)
	if !strings.Contains(res, "quarantined") || !strings.Contains(res, "not-applicable") {
		t.Fatalf("results:\n%s", res)
	}
	fits(mustRun(t, "groups", "list", "--data", dir))

	sw := mustRun(t, "software", "bash", "--below", "5.2", "--data", dir)
	if !strings.Contains(sw, "web2") || strings.Contains(sw, ids[long]) {
		t.Fatalf("software bash --below 5.2:\n%s", sw)
	}
	if out := mustRun(t, "software", "bas", "--data", dir); !strings.Contains(out, "similar names: bash (2)") {
		t.Fatalf("software bas:\n%s", out)
	}
	if _, err := run(t, "software", "bash", "--below", "!", "--data", dir); err == nil || !strings.Contains(err.Error(), "--below") {
		t.Fatalf("a malformed --below: %v", err)
	}
	if out := mustRun(t, "commands", "cancel", fmt.Sprint(cmd), "--data", dir); !strings.Contains(out, "canceled") {
		t.Fatalf("commands cancel: %s", out)
	}
	if _, err := run(t, "commands", "cancel", fmt.Sprint(cmd), "--data", dir); err == nil || !strings.Contains(err.Error(), "already has a result") {
		t.Fatalf("cancel twice: %v", err)
	}
	if _, err := run(t, "devices", "retire", "web2", "--data", dir); err == nil || !strings.Contains(err.Error(), "UUID") {
		t.Fatalf("retire by hostname: %v", err)
	}
	mustRun(t, "devices", "retire", ids["web2"], "--data", dir)
	if out := mustRun(t, "devices", "--data", dir); strings.Contains(out, ids["web2"]) {
		t.Fatalf("a retired device is listed:\n%s", out)
	}
}
