package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
)

func TestCollectorTable(t *testing.T) {
	want := []string{"GetOS", "GetHostname", "GetAWSID", "GetSystemDetail", "GetInstalledSoftware", "GetPatches", "GetRebootRequired",
		"GetResources", "GetNetwork", "GetStorage", "GetVirtualization", "GetSecurity", "GetServices", "GetListeningPorts"}
	var got []string
	seen := map[string]bool{}
	for _, c := range Collectors() {
		if seen[c.Name] {
			t.Errorf("collector %q is in the table twice", c.Name)
		}
		seen[c.Name] = true
		if c.Run == nil {
			t.Errorf("collector %q has no Run", c.Name)
		}
		got = append(got, c.Name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("collectors run in order %v, want %v", got, want)
	}
}

func fixedEnv() *Env {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Env{
		Now:      func() time.Time { return at },
		Hostname: func() (string, error) { return "host-1", nil },
		Timeout:  time.Second,
	}
}

// TestScannerKeepsGoing runs collectors that succeed, fail part-way, hang
// past their timeout (honouring the context or not) and panic: every
// failure is recorded under the collector's name, and the scan still
// carries every part that was collected.
func TestScannerKeepsGoing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stuck := make(chan struct{})
		defer close(stuck)
		var logBuf bytes.Buffer
		s := &Scanner{
			Env: fixedEnv(),
			Log: slog.New(slog.NewTextHandler(&logBuf, nil)),
			Collectors: []Collector{
				{Name: "GetHostname", Run: getHostname},
				{Name: "Partial", Run: func(ctx context.Context, env *Env) (Part, error) {
					return SoftwarePart{Software: []scandoc.Package{{Name: "kept", Source: "dpkg"}}}, errors.New("rpm database unreadable")
				}},
				{Name: "HangsWithContext", Run: func(ctx context.Context, env *Env) (Part, error) {
					<-ctx.Done()
					return nil, ctx.Err()
				}},
				{Name: "IgnoresContext", Run: func(ctx context.Context, env *Env) (Part, error) {
					<-stuck
					return OSPart{OS: scandoc.OS{Name: "late"}}, nil
				}},
				{Name: "Panics", Run: func(ctx context.Context, env *Env) (Part, error) {
					panic("boom")
				}},
				{Name: "GetRebootRequired", Run: func(ctx context.Context, env *Env) (Part, error) {
					return RebootPart{RebootRequired: true, Reboot: scandoc.Reboot{Required: true, Reasons: []string{"test"}}}, nil
				}},
			},
		}
		start := time.Now()
		doc := s.Collect(t.Context())
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("scan took %s of fake time, want 3s (two collectors timing out after 1s each, plus 1s grace for the one ignoring its context)", d)
		}
		if doc.Hostname != "host-1" || len(doc.Software) != 1 || !doc.RebootRequired {
			t.Errorf("parts lost: hostname %q software %v reboot %v", doc.Hostname, doc.Software, doc.RebootRequired)
		}
		if doc.OS.Name == "late" {
			t.Error("a timed-out collector's late answer reached the document")
		}
		for name, want := range map[string]string{
			"Partial":          "rpm database unreadable",
			"HangsWithContext": "timed out after 1s",
			"IgnoresContext":   "timed out after 1s",
			"Panics":           "panicked: boom",
		} {
			if !strings.Contains(doc.Errors[name], want) {
				t.Errorf("Errors[%s] = %q, want it to say %q", name, doc.Errors[name], want)
			}
		}
		if len(doc.Errors) != 4 {
			t.Errorf("errors: %v", doc.Errors)
		}
		if _, ok := doc.Timings["HangsWithContext"]; !ok || len(doc.Timings) != 6 {
			t.Errorf("timings: %v", doc.Timings)
		}
		if !doc.CollectedAt.Equal(s.Env.Now()) || doc.Schema != scandoc.SchemaVersion {
			t.Errorf("header: %v %d", doc.CollectedAt, doc.Schema)
		}
		// The seed's three lines for each collector, as an execCmd.
		for _, c := range s.Collectors {
			for _, msg := range []string{`msg="accepted command"`, `msg="executing command"`, `msg="command end"`} {
				want := msg
				found := false
				for _, line := range strings.Split(logBuf.String(), "\n") {
					if strings.Contains(line, want) && strings.Contains(line, "command_type=execCmd command_processor=legacy command_name="+c.Name+" command=execCmd") {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s line for %s in log:\n%s", msg, c.Name, logBuf.String())
				}
			}
		}
	})
}

func TestScanReportAndEvaluate(t *testing.T) {
	var seen []byte
	s := &Scanner{
		Env:        fixedEnv(),
		Collectors: []Collector{{Name: "GetHostname", Run: getHostname}},
		NewID:      func() string { return "scan-1" },
		Evaluate: func(ctx context.Context, doc []byte) []protocol.WorkletResult {
			seen = doc
			return []protocol.WorkletResult{{Name: "w", Status: "compliant"}}
		},
	}
	rep, err := s.Scan(t.Context(), ReasonManual)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ScanID != "scan-1" || rep.Reason != ReasonManual || len(rep.Results) != 1 || rep.Results[0].Status != "compliant" {
		t.Errorf("report: %+v", rep)
	}
	if !bytes.Equal(seen, rep.Scan) {
		t.Error("Evaluate did not see the reported document")
	}
	var doc map[string]any
	if err := json.Unmarshal(rep.Scan, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"os", "hostname", "hardware", "aws", "last_user", "software", "patches", "pending_updates", "reboot_required"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("scan document lacks the ABI key %q", k)
		}
	}
	if doc["hostname"] != "host-1" {
		t.Errorf("hostname %v", doc["hostname"])
	}
	for _, k := range []string{"software", "patches", "pending_updates"} {
		if _, ok := doc[k].([]any); !ok {
			t.Errorf("%s is %v, want an (empty) array, never null", k, doc[k])
		}
	}
}

func TestExecHandler(t *testing.T) {
	s := &Scanner{Env: fixedEnv()}
	h := s.ExecHandler()
	if h.Type != protocol.CmdExec {
		t.Fatalf("type %q", h.Type)
	}
	out, err := h.Run(t.Context(), []string{"GetHostname"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(out)
	if string(b) != `{"hostname":"host-1"}` {
		t.Errorf("execCmd GetHostname = %s", b)
	}
	for _, params := range [][]string{nil, {""}, {"GetNothing"}} {
		if _, err := h.Run(t.Context(), params); err == nil {
			t.Errorf("execCmd %q: no error", params)
		}
	}
}
