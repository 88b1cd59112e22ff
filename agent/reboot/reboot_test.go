package reboot

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/sysexec"
)

func TestArgv(t *testing.T) {
	cases := []struct {
		goos  string
		delay time.Duration
		want  string
	}{
		{"linux", 0, "shutdown -r +0"},
		{"linux", 1 * time.Second, "shutdown -r +1"},
		{"linux", 60 * time.Second, "shutdown -r +1"},
		{"linux", 61 * time.Second, "shutdown -r +2"},
		{"darwin", 300 * time.Second, "shutdown -r +5"},
		{"windows", 90 * time.Second, "shutdown /r /t 90"},
	}
	for _, c := range cases {
		if got := strings.Join(Argv(c.goos, c.delay), " "); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.goos, c.delay, got, c.want)
		}
	}
}

func TestRun(t *testing.T) {
	var calls [][]string
	fake := func(_ context.Context, r sysexec.Request) (sysexec.Result, error) {
		calls = append(calls, r.Argv)
		if r.Argv[2] == "+3" {
			return sysexec.Result{ExitCode: 1, Stderr: []byte("not permitted")}, nil
		}
		return sysexec.Result{}, nil
	}
	var log bytes.Buffer
	h := Handler(Options{Log: slog.New(slog.NewTextHandler(&log, nil)), Run: fake, GOOS: "linux"})
	out, err := h.Run(t.Context(), []string{"120"})
	if err != nil || !out.(Output).Scheduled || !slices.Equal(calls[0], []string{"shutdown", "-r", "+2"}) {
		t.Fatalf("%v %v %v", out, err, calls)
	}
	if !strings.Contains(log.String(), `msg="scheduling reboot" delay=2m0s argv="shutdown -r +2"`) {
		t.Fatalf("not logged before: %s", log.String())
	}
	if _, err := h.Run(t.Context(), []string{"180"}); err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Fatalf("failing shutdown: %v", err)
	}
	for _, bad := range [][]string{nil, {"soon"}, {"-5"}, {"1", "2"}, {"99999999"}} {
		if _, err := h.Run(t.Context(), bad); err == nil {
			t.Errorf("params %q accepted", bad)
		}
	}
}

func TestDryRunOnlyLogs(t *testing.T) {
	ran := false
	var log bytes.Buffer
	h := Handler(Options{Log: slog.New(slog.NewTextHandler(&log, nil)), DryRun: true, GOOS: "windows",
		Run: func(context.Context, sysexec.Request) (sysexec.Result, error) {
			ran = true
			return sysexec.Result{}, nil
		}})
	out, err := h.Run(t.Context(), []string{"30"})
	if err != nil || ran || out.(Output).Scheduled || !out.(Output).DryRun {
		t.Fatalf("%v %v ran=%v", out, err, ran)
	}
	if !strings.Contains(log.String(), "dry_run is set") || !strings.Contains(log.String(), `argv="shutdown /r /t 30"`) {
		t.Fatal(log.String())
	}
}
