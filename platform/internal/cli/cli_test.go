package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// run runs one command and returns its stdout.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(t.Context(), args, &out, &errb)
	return out.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("amplatform %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// serve starts `amplatform serve` on a free loopback port and returns its URL.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-level", "error"}, args...), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	sc := bufio.NewScanner(pr)
	re := regexp.MustCompile(`listening on (https?://\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, pr)
			return m[1]
		}
	}
	t.Fatal("serve did not print its address")
	return ""
}

func TestServeAndCommands(t *testing.T) {
	dir := t.TempDir()
	url := serve(t, "--data", dir, "--checkin-interval", "30s", "--flush-interval", "10ms")
	for _, f := range []string{fleet.AccessKeyFile, fleet.AdminTokenFile, fleet.KeyFile, store.SQLiteFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", f, err, fi.Mode().Perm())
		}
	}
	key, _ := os.ReadFile(filepath.Join(dir, fleet.AccessKeyFile))

	out := mustRun(t, "loadgen", "--url", url, "--access-key", strings.TrimSpace(string(key)), "--devices", "3", "--duration", "200ms", "--concurrency", "2")
	if !regexp.MustCompile(`check-ins: [1-9]\d* ok, 0 failed`).MatchString(out) {
		t.Fatalf("loadgen output:\n%s", out)
	}
	if _, err := run(t, "loadgen", "--url", url, "--access-key", "wrong-key-wrong-key", "--devices", "1", "--duration", "10ms"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("loadgen with a wrong key: %v", err)
	}
	// The check-in state is written in batches: wait for one.
	var devs []fleet.DeviceView
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := json.Unmarshal([]byte(mustRun(t, "devices", "--json", "--data", dir)), &devs); err != nil || len(devs) != 3 {
			t.Fatalf("devices --json: %v %+v", err, devs)
		}
		if devs[0].Online || time.Now().After(deadline) {
			break
		}
	}
	if d := devs[0]; d.Hostname != "load-000000" || !d.Online || d.AgentVersion != "loadgen" || d.TZ != "+0000" {
		t.Fatalf("device = %+v", d)
	}
	if out := mustRun(t, "devices", "--data", dir); !strings.Contains(out, "load-000001") || !strings.Contains(out, "online") {
		t.Fatalf("devices:\n%s", out)
	}

	id := strings.TrimSpace(mustRun(t, "queue", "load-000000", "execCmd", "GetOS", "--data", dir))
	if id != "1" {
		t.Fatalf("queue printed %q", id)
	}
	for _, bad := range [][]string{
		{"queue", "load-000000", "rm", "-rf", "--data", dir},
		{"queue", "nope", "scan", "--data", dir},
		{"queue", "load-000000", "reboot", "--data", dir},
		{"groups", "add", "x", "--scan-interval", "30", "--data", dir},
		{"groups", "assign", "default", "missing", "--data", dir},
		{"groups", "assign", "default", "missing", "--remediate", "later", "--data", dir},
		{"worklet", "add", t.TempDir(), "--data", dir},
		{"devices"},
		{"frobnicate"},
	} {
		if _, err := run(t, bad...); err == nil {
			t.Errorf("amplatform %s succeeded", strings.Join(bad, " "))
		}
	}
	var res fleet.Results
	if err := json.Unmarshal([]byte(mustRun(t, "results", "load-000000", "--json", "--data", dir)), &res); err != nil || len(res.Commands) != 1 || res.Commands[0].Command != "execCmd" {
		t.Fatalf("results: %v %+v", err, res)
	}
	if out := mustRun(t, "results", "load-000000", "--data", dir); !strings.Contains(out, "execCmd GetOS") || !strings.Contains(out, "no scan yet") {
		t.Fatalf("results:\n%s", out)
	}

	// A worklet: add (signed), list, assign to a new group, move a device.
	wdir := t.TempDir()
	manifest := "abi = 1\nkind = \"policy\"\nname = \"patch-policy\"\nversion = \"2.0.0\"\nmodule = \"policy.wasm\"\n"
	os.WriteFile(filepath.Join(wdir, "worklet.toml"), []byte(manifest), 0o644)
	os.WriteFile(filepath.Join(wdir, "policy.wasm"), []byte("\x00asm\x01\x00\x00\x00"), 0o644)
	if out := mustRun(t, "worklet", "add", wdir, "--data", dir); !strings.Contains(out, "patch-policy@2.0.0") {
		t.Fatalf("worklet add: %s", out)
	}
	var ws []store.Worklet
	json.Unmarshal([]byte(mustRun(t, "worklet", "list", "--json", "--data", dir)), &ws)
	pub, err := bundle.ParsePublicKey(mustRun(t, "key", "--data", dir))
	if err != nil || len(ws) != 1 {
		t.Fatalf("key %v, worklets %+v", err, ws)
	}
	if err := bundle.Verify(pub, ws[0].Signature, "patch-policy", "2.0.0", bundle.Digest([]byte(manifest)), ws[0].SHA256); err != nil {
		t.Fatalf("signature of the added worklet: %v", err)
	}
	mustRun(t, "groups", "add", "servers", "--scan-interval", "6", "--data", dir)
	mustRun(t, "groups", "set-interval", "servers", "8", "--data", dir)
	mustRun(t, "groups", "assign", "servers", "patch-policy", "--remediate", "03:30", "--param", "severity=critical", "--param", "max=3", "--data", dir)
	mustRun(t, "groups", "move", "load-000002", "servers", "--data", dir)
	var gs []store.Group
	json.Unmarshal([]byte(mustRun(t, "groups", "list", "--json", "--data", dir)), &gs)
	if len(gs) != 2 || gs[1].Name != "servers" || gs[1].ScanInterval != 8 || gs[1].Devices != 1 || len(gs[1].Assignments) != 1 {
		t.Fatalf("groups = %+v", gs)
	}
	if a := gs[1].Assignments[0]; a.Version != "2.0.0" || a.Remediate != "03:30" || a.Params["severity"] != "critical" || a.Params["max"] != float64(3) {
		t.Fatalf("assignment = %+v", a)
	}
	mustRun(t, "groups", "unassign", "servers", "patch-policy", "--data", dir)
	if out := mustRun(t, "groups", "list", "--data", dir); !strings.Contains(out, "servers") {
		t.Fatalf("groups list:\n%s", out)
	}
}

func TestAdminToken(t *testing.T) {
	dir := t.TempDir()
	url := serve(t, "--data", dir)
	old, _ := os.ReadFile(filepath.Join(dir, fleet.AdminTokenFile))
	tok := strings.TrimSpace(mustRun(t, "admin-token", "--data", dir))
	if stored, _ := os.ReadFile(filepath.Join(dir, fleet.AdminTokenFile)); strings.TrimSpace(string(stored)) != tok || tok == strings.TrimSpace(string(old)) {
		t.Fatalf("admin-token printed %q, file has %q (old %q)", tok, stored, old)
	}
	st, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if h, _, _ := st.Setting(t.Context(), fleet.SettingAdminTokenHash); h != fleet.HashToken(tok) {
		t.Fatal("the new token's hash is not stored")
	}
	// The running server accepts the new token at once and refuses the old.
	for _, tc := range []struct {
		tok  string
		want int
	}{{tok, 200}, {strings.TrimSpace(string(old)), 401}} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", url+"/api/devices", nil)
		req.Header.Set("Authorization", "Bearer "+tc.tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /api/devices = %d, want %d", resp.StatusCode, tc.want)
		}
	}
}

func TestServeRefusesPlainHTTPOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "[::]:0"} {
		_, err := run(t, "serve", "--listen", addr, "--data", t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "refusing plain HTTP") {
			t.Errorf("serve --listen %s: %v", addr, err)
		}
	}
	if !isLoopback("127.0.0.1:8080") || !isLoopback("[::1]:1") || !isLoopback("localhost:80") {
		t.Error("loopback addresses refused")
	}
}

func TestGivenAccessKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := run(t, "serve", "--data", dir, "--access-key", "short"); err == nil {
		t.Fatal("a short access key was accepted")
	}
	url := serve(t, "--data", dir, "--access-key", "demo-access-key-0123456789")
	if _, err := os.Stat(filepath.Join(dir, fleet.AccessKeyFile)); err == nil {
		t.Fatal("a given access key was written to a file")
	}
	mustRun(t, "loadgen", "--url", url, "--access-key", "demo-access-key-0123456789", "--devices", "1", "--duration", "50ms", "--concurrency", "1")
}
