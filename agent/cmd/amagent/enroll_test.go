package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/protocol"
)

const testAccessKey = "enroll-test-key-0123456789"

// fakePlatform answers /enroll: a token for the right access key, 401
// otherwise.
type fakePlatform struct {
	mu    sync.Mutex
	calls []protocol.EnrollRequest
}

func (f *fakePlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req protocol.EnrollRequest
	if r.URL.Path != "/enroll" || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, "bad request", 400)
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, req)
	f.mu.Unlock()
	if req.AccessKey != testAccessKey || req.Signature == "" || req.DeviceKey == "" {
		w.WriteHeader(401)
		w.Write([]byte(`{"error":"wrong access key"}`))
		return
	}
	w.Write([]byte(`{"device_token":"tok-enroll"}`))
}

// fakeService records restarts.
type fakeService struct {
	installed bool
	restarts  int
}

func (s *fakeService) Installed(context.Context) (string, bool) {
	return "amagent.service", s.installed
}
func (s *fakeService) Restart(context.Context) error { s.restarts++; return nil }

type enrollRun struct {
	stdout, stderr bytes.Buffer
	svc            fakeService
}

func runEnroll(t *testing.T, stdin string, args ...string) (*enrollRun, error) {
	t.Helper()
	r := &enrollRun{svc: fakeService{installed: true}}
	err := enroll(t.Context(), args, enrollOptions{
		stdin: strings.NewReader(stdin), stdout: &r.stdout, stderr: &r.stderr,
		service:  &r.svc,
		hostname: func() (string, error) { return "test-host", nil },
	})
	if strings.Contains(r.stdout.String()+r.stderr.String(), testAccessKey) {
		t.Errorf("the access key was printed:\n%s\n%s", r.stdout.String(), r.stderr.String())
	}
	if err != nil && strings.Contains(err.Error(), testAccessKey) {
		t.Errorf("the access key is in the error: %v", err)
	}
	return r, err
}

// A configuration with comments, a table and other keys: enroll changes
// server and access_key only.
const existingConfig = `# my fleet's amagent.toml
# (managed by hand)

server = "https://old.example.com" # the old platform
access_key = ""
state_dir = "STATE"
log_file = "LOG"

[checkin]
# every 30 minutes
interval = "30m"
`

func TestEnrollUpdatesConfigInPlace(t *testing.T) {
	plat := httptest.NewServer(&fakePlatform{})
	defer plat.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "amagent.toml")
	text := strings.NewReplacer("STATE", filepath.Join(dir, "state"), "LOG", filepath.Join(dir, "amagent.log")).Replace(existingConfig)
	if err := os.WriteFile(path, []byte(text), 0o604); err != nil {
		t.Fatal(err)
	}
	r, err := runEnroll(t, "", "--server", plat.URL, "--access-key", testAccessKey, "--config", path)
	if err != nil {
		t.Fatalf("enroll: %v\n%s", err, r.stderr.String())
	}
	got, _ := os.ReadFile(path)
	want := strings.Replace(text, `server = "https://old.example.com" # the old platform`, `server = "`+plat.URL+`" # the old platform`, 1)
	want = strings.Replace(want, `access_key = ""`, `access_key = "`+testAccessKey+`"`, 1)
	if string(got) != want {
		t.Errorf("config after enroll:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o604 {
		t.Errorf("mode %v, want the file's own 0604 kept", st.Mode().Perm())
	}
	tok, err := os.ReadFile(filepath.Join(dir, "state", "device_token"))
	if err != nil || strings.TrimSpace(string(tok)) != "tok-enroll" {
		t.Errorf("device_token = %q, %v; want the enrollment's token kept", tok, err)
	}
	if r.svc.restarts != 1 {
		t.Errorf("service restarted %d times, want 1", r.svc.restarts)
	}
	if !strings.Contains(r.stdout.String(), "enrolled device ") || !strings.Contains(r.stdout.String(), "started the service amagent.service") {
		t.Errorf("stdout:\n%s", r.stdout.String())
	}
}

func TestEnrollCreatesConfig(t *testing.T) {
	plat := httptest.NewServer(&fakePlatform{})
	defer plat.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "amagent.toml")
	// --skip-check: written without enrolling (the default state_dir is
	// not touched), the key read from standard input.
	r, err := runEnroll(t, testAccessKey+"\n", "--server", plat.URL, "--access-key", "-", "--config", path, "--skip-check", "--no-start")
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o640 {
		t.Fatalf("new config: %v, mode %v; want 0640", err, st.Mode().Perm())
	}
	cfg, err := config.Load(path)
	if err != nil || cfg.Server != plat.URL || cfg.AccessKey != testAccessKey {
		t.Fatalf("new config: %+v, %v", cfg, err)
	}
	if r.svc.restarts != 0 {
		t.Errorf("--no-start restarted the service")
	}
}

func TestEnrollKeyFromFile(t *testing.T) {
	plat := httptest.NewServer(&fakePlatform{})
	defer plat.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "amagent.toml")
	os.WriteFile(path, []byte("state_dir = \""+filepath.Join(dir, "state")+"\"\n"), 0o640)
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte(testAccessKey+"\n"), 0o600)
	if _, err := runEnroll(t, "", "--server", plat.URL, "--access-key-file", keyFile, "--config", path); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	// Missing keys are added after the last top-level assignment.
	want := "state_dir = \"" + filepath.Join(dir, "state") + "\"\nserver = \"" + plat.URL + "\"\naccess_key = \"" + testAccessKey + "\"\n"
	if string(got) != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
}

func TestEnrollRefusedKeyChangesNothing(t *testing.T) {
	fp := &fakePlatform{}
	plat := httptest.NewServer(fp)
	defer plat.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "amagent.toml")
	text := "state_dir = \"" + filepath.Join(dir, "state") + "\"\n"
	os.WriteFile(path, []byte(text), 0o640)
	r, err := runEnroll(t, "", "--server", plat.URL, "--access-key", "wrong-key-wrong-key", "--config", path)
	if err == nil || !strings.Contains(err.Error(), "refused the access key") || !strings.Contains(err.Error(), "not changed") {
		t.Fatalf("err = %v; want the refusal and that the file is unchanged", err)
	}
	if strings.Contains(err.Error(), "wrong-key-wrong-key") {
		t.Errorf("the key is in the error: %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != text {
		t.Errorf("config changed after a refusal:\n%s", got)
	}
	if r.svc.restarts != 0 {
		t.Errorf("service restarted after a refusal")
	}
	// Unreachable: said so, nothing written.
	plat.Close()
	_, err = runEnroll(t, "", "--server", plat.URL, "--access-key", testAccessKey, "--config", path)
	if err == nil || !strings.Contains(err.Error(), "enrolling with "+plat.URL) {
		t.Fatalf("unreachable platform: err = %v", err)
	}
}

func TestEnrollArguments(t *testing.T) {
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"no server", "", []string{"--access-key", "k"}, "--server is required"},
		{"no key", "", []string{"--server", "https://p.example.com"}, "is required"},
		{"both keys", "", []string{"--server", "https://p.example.com", "--access-key", "k", "--access-key-file", "f"}, "not both"},
		{"empty stdin", " \n", []string{"--server", "https://p.example.com", "--access-key", "-"}, "access key is empty"},
		{"two lines", "a\nb\n", []string{"--server", "https://p.example.com", "--access-key", "-"}, "more than one line"},
		{"plain http", "", []string{"--server", "http://p.example.com", "--access-key", testAccessKey, "--config", "CFG"}, "plain http is only allowed to a loopback"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for i, a := range c.args {
				if a == "CFG" {
					c.args[i] = filepath.Join(t.TempDir(), "amagent.toml")
				}
			}
			_, err := runEnroll(t, c.stdin, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestSetTopLevelKeys(t *testing.T) {
	kv := []keyValue{{"server", `https://a"b`}, {"access_key", "k\\1"}}
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", "server = \"https://a\\\"b\"\naccess_key = \"k\\\\1\"\n"},
		{"header comment only", "# top\n# more\n\n[scan]\ntimeout = \"1m\"\n",
			"# top\n# more\nserver = \"https://a\\\"b\"\naccess_key = \"k\\\\1\"\n\n[scan]\ntimeout = \"1m\"\n"},
		{"literal and indented", "  server = 'x' # c\naccess_key='y'\n[worklets]\nserver = \"not top\"\n",
			"  server = \"https://a\\\"b\" # c\naccess_key = \"k\\\\1\"\n[worklets]\nserver = \"not top\"\n"},
		{"no final newline", "dry_run = true", "dry_run = true\nserver = \"https://a\\\"b\"\naccess_key = \"k\\\\1\"\n"},
		{"hash inside the string", "server = \"https://x/#y\"\n", "server = \"https://a\\\"b\"\naccess_key = \"k\\\\1\"\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := setTopLevelKeys([]byte(c.in), kv)
			if err != nil || string(got) != c.want {
				t.Errorf("got %q, %v\nwant %q", got, err, c.want)
			}
		})
	}
	if _, err := setTopLevelKeys([]byte("server = \"\"\"\nx\"\"\"\n"), kv); err == nil {
		t.Error("a multi-line string was rewritten")
	}
}
