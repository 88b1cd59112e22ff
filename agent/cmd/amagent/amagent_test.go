package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// buildAgent builds the amagent binary once for all tests of the run.
func buildAgent(t testing.TB) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the binary test signals the process with SIGTERM")
	}
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "amagent-test-")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "amagent")
		gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(gobin); err != nil {
			gobin = "go"
		}
		build.out, build.err = exec.Command(gobin, "build", "-o", build.bin, ".").CombinedOutput()
	})
	if build.err != nil {
		t.Fatalf("go build: %v\n%s", build.err, build.out)
	}
	return build.bin
}

// scripted is a platform on loopback whose check-in answers follow a
// script; the last answer repeats.
type scripted struct {
	mu       sync.Mutex
	script   []func(http.ResponseWriter)
	checkins []time.Time
	enrolled time.Time
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r.URL.Path {
	case "/enroll":
		s.enrolled = time.Now()
		io.WriteString(w, `{"device_token":"tok-bin"}`)
	case "/checkin":
		if r.Header.Get("Authorization") != "Bearer tok-bin" {
			w.WriteHeader(401)
			return
		}
		s.checkins = append(s.checkins, time.Now())
		s.script[min(len(s.checkins), len(s.script))-1](w)
	default:
		w.WriteHeader(204)
	}
}

func (s *scripted) times() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.checkins...)
}

func status(code int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) { w.WriteHeader(code); io.WriteString(w, body) }
}

func writeConfig(t testing.TB, dir, server, extra string) string {
	p := filepath.Join(dir, "amagent.toml")
	cfg := fmt.Sprintf(`server = %q
access_key = "org-key"
state_dir = %q
log_file = %q
dry_run = true
[checkin]
interval = "1h"
variance = "0s"
retry_initial = "200ms"
retry_max = "800ms"
%s`, server, filepath.Join(dir, "state"), filepath.Join(dir, "log", "amagent.log"), extra)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBinaryAgainstScriptedPlatform(t *testing.T) {
	bin := buildAgent(t)
	p := &scripted{script: []func(http.ResponseWriter){
		status(500, "database down"),
		status(500, "database down"),
		status(200, `{"id":0,"command":"nop"`), // malformed: a failure
		status(503, "busy"),
		status(200, `{"id":0,"command":"nop","params":[],"config":{"checkin_interval":3600,"scan_interval":12,"worklets":[]}}`),
	}}
	srv := httptest.NewServer(p)
	defer srv.Close()
	dir := t.TempDir()
	cfg := writeConfig(t, dir, srv.URL, "")

	cmd := exec.Command(bin, "run", "--config", cfg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	waitFor(t, 6*time.Second, func() bool { return len(p.times()) >= 5 })
	ts := p.times()
	if first := ts[0].Sub(start); first > 2*time.Second {
		t.Errorf("first check-in %s after start, want within 2s", first)
	}
	// Retries at about 0.2, 0.4, 0.8, 0.8 s (jitter ±20%, capped at 0.8).
	nominal := []time.Duration{200, 400, 800, 800}
	for i, n := range nominal {
		n *= time.Millisecond
		got := ts[i+1].Sub(ts[i])
		lo, hi := time.Duration(float64(n)*0.75), time.Duration(float64(n)*1.25)+250*time.Millisecond
		if got < lo || got > hi {
			t.Errorf("retry %d after %s, want about %s (in [%s, %s])", i+1, got, n, lo, hi)
		}
	}
	// Let the last answer be logged, then stop it with SIGTERM.
	waitFor(t, 2*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "log", "amagent.log"))
		return bytes.Contains(b, []byte("msg=complete next_in="))
	})
	stopAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit within 5s of SIGTERM")
	}
	if took := time.Since(stopAt); took > 3*time.Second {
		t.Errorf("shutdown took %s", took)
	}

	fi, err := os.Stat(filepath.Join(dir, "state", "device_token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	logb, err := os.ReadFile(filepath.Join(dir, "log", "amagent.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(logb)
	if !regexp.MustCompile(`msg="checkin failed" error="malformed answer: unexpected end of JSON input" next_in=\S+ process=checkin`).MatchString(log) {
		t.Errorf("malformed answer not logged as a failure:\n%s", log)
	}
	if strings.Count(log, `msg="checkin failed"`) != 4 {
		t.Errorf("want 4 failed check-ins:\n%s", log)
	}
	// The seed's six lines, in order, for the successful check-in.
	seed := []string{
		`^time=\S+ level=INFO msg=attempting process=checkin$`,
		`^time=\S+ level=INFO msg="performing checkin with device UUID" device_uuid=[0-9a-f-]{36} process=checkin$`,
		`^time=\S+ level=INFO msg="performing request" request_type=POST url="` + regexp.QuoteMeta(srv.URL) + `/checkin\?uptime=\d+&ver=[^&"]+&tz=(%2B|-)\d{4}" process=checkin$`,
		`^time=\S+ level=INFO msg="response received" response="\{\\"id\\":0,\\"command\\":\\"nop\\",\\"params\\":\[\],\\"config\\":\{.*\}\}" process=checkin$`,
		`^time=\S+ level=INFO msg="received command" command=nop process=checkin$`,
		`^time=\S+ level=INFO msg=complete next_in=\S+ process=checkin$`,
	}
	lines := strings.Split(log, "\n")
	// The last check-in's lines: from its "attempting".
	last := 0
	for i, l := range lines {
		if strings.Contains(l, "msg=attempting") {
			last = i
		}
	}
	k := 0
	for _, l := range lines[last:] {
		if k < len(seed) && regexp.MustCompile(seed[k]).MatchString(l) {
			k++
		}
	}
	if k != len(seed) {
		t.Fatalf("seed line %d not found in order:\n%s\nlog:\n%s", k+1, seed[min(k, len(seed)-1)], strings.Join(lines[last:], "\n"))
	}
	if !strings.Contains(log, "agent stopped") {
		t.Error("no clean stop logged")
	}
}

func waitFor(t testing.TB, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, dir, "http://127.0.0.1:1", "")
	var out, errb bytes.Buffer
	if err := run(t.Context(), []string{"config", "check", "--config", good}, &out, &errb); err != nil || !strings.Contains(out.String(), ": ok") {
		t.Fatalf("%v %q", err, out.String())
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("server = \"https://p\"\n[checkin]\nretry_max = \"forever\"\n"), 0o600)
	err := run(t.Context(), []string{"config", "check", "--config", bad}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "checkin.retry_max") {
		t.Fatalf("bad config: %v", err)
	}
	for _, args := range [][]string{nil, {"nope"}, {"config"}, {"config", "check", "extra"}, {"run", "--bogus"}} {
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("%q accepted", args)
		} else if _, ok := err.(usageError); !ok {
			t.Errorf("%q: %v is not a usage error", args, err)
		}
	}
	out.Reset()
	if err := run(t.Context(), []string{"version"}, &out, &errb); err != nil || !strings.HasPrefix(out.String(), "amagent ") {
		t.Fatalf("%v %q", err, out.String())
	}
}

func TestBinaryExitCodes(t *testing.T) {
	bin := buildAgent(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("server = \"http://example.com\"\n"), 0o600)
	out, err := exec.Command(bin, "config", "check", "--config", bad).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "key server") {
		t.Fatalf("config check of a bad file: %v %s", err, out)
	}
	if err := exec.Command(bin).Run(); err == nil {
		t.Fatal("no command accepted")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("usage exit %v", err)
	}
}
