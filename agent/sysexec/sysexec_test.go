//go:build linux

package sysexec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLookPathUsesTheFixedSystemPath(t *testing.T) {
	// A program of the same name earlier on $PATH must not be picked.
	dir := t.TempDir()
	fake := filepath.Join(dir, "true")
	os.WriteFile(fake, []byte("#!/bin/sh\necho hijacked\n"), 0o755)
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))
	p, err := LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(p, dir) || !strings.HasPrefix(p, "/") {
		t.Fatalf("LookPath(true) = %s: resolved on $PATH", p)
	}
	for _, bad := range []string{"", "./true", "bin/true", "no-such-program-amagent"} {
		if _, err := LookPath(bad); err == nil {
			t.Errorf("LookPath(%q) accepted", bad)
		}
	}
	if p, err := LookPath("/bin/sh"); err != nil || p != "/bin/sh" {
		t.Fatalf("absolute path: %q %v", p, err)
	}
}

func TestRun(t *testing.T) {
	ctx := t.Context()
	res, err := Run(ctx, Request{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	if err != nil || res.ExitCode != 3 || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" {
		t.Fatalf("Run = %+v, %v; a non-zero exit is a result, not an error", res, err)
	}
	// No shell: metacharacters are plain arguments.
	res, err = Run(ctx, Request{Argv: []string{"echo", "a;", "rm", "-rf", "/", "$(id)"}})
	if err != nil || string(res.Stdout) != "a; rm -rf / $(id)\n" {
		t.Fatalf("argv was interpreted: %q %v", res.Stdout, err)
	}
	// A minimal environment, not the agent's.
	t.Setenv("AMAGENT_SECRET", "leak")
	res, _ = Run(ctx, Request{Argv: []string{"env"}})
	if strings.Contains(string(res.Stdout), "AMAGENT_SECRET") || !strings.Contains(string(res.Stdout), "LANG=C") {
		t.Fatalf("environment: %s", res.Stdout)
	}
	res, _ = Run(ctx, Request{Argv: []string{"cat"}, Stdin: []byte("in")})
	if string(res.Stdout) != "in" {
		t.Fatalf("stdin not passed: %q", res.Stdout)
	}
	if _, err := Run(ctx, Request{}); err == nil {
		t.Fatal("empty argv accepted")
	}
	if _, err := Run(ctx, Request{Argv: []string{"no-such-program-amagent"}}); err == nil {
		t.Fatal("missing program accepted")
	}
}

func TestRunCapsOutput(t *testing.T) {
	res, err := Run(t.Context(), Request{Argv: []string{"head", "-c", "100000", "/dev/zero"}, MaxOutput: 1000})
	if err != nil || len(res.Stdout) != 1000 || !res.Truncated {
		t.Fatalf("len %d truncated %v err %v", len(res.Stdout), res.Truncated, err)
	}
}

func TestRunTimeoutKillsTheProcessGroup(t *testing.T) {
	// The child of the shell must die too, or it would hold the pipes open.
	start := time.Now()
	_, err := Run(t.Context(), Request{Argv: []string{"sh", "-c", "sleep 30 & sleep 30"}, Timeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("timeout took %s: the process group was not killed", took)
	}
}
