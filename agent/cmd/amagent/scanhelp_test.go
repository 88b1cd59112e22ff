package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `amagent scan --help` shows --record too (it showed --once only).
func TestScanHelpMentionsRecord(t *testing.T) {
	for _, flag := range []string{"--help", "-h"} {
		var out, errb bytes.Buffer
		if err := run(t.Context(), []string{"scan", flag}, &out, &errb); err != nil {
			t.Fatalf("%s: %v", flag, err)
		}
		for _, want := range []string{"amagent scan --once", "amagent scan --record FILE", "--worklet DIR", "amagent worklet test DIR --scan FILE"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s: no %q in\n%s", flag, want, out.String())
			}
		}
	}
}

// `amagent config check` reports every problem of the file, each with the
// file and line.
func TestConfigCheckEveryError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "amagent.toml")
	if err := os.WriteFile(p, []byte("server = \"https://p.example.com\"\n[sandbox]\nmax_memory = \"64MB\"\nmax_timout = \"5s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"config", "check", "--config", p}, &out, &errb)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{p + `:3: key sandbox.max_memory: size "64MB"`, p + ":4: unknown key sandbox.max_timout; did you mean sandbox.max_timeout?"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("no %q in\n%v", want, err)
		}
	}
}
