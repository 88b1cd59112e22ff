package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/bundle"
)

func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func runBin(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// Recording a scan on this machine and replaying a worklet against it
// gives the same answer as the live run, with the files it read inside.
func TestRecordThenReplay(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("records the live Linux machine")
	}
	if _, err := os.Stat("/etc/login.defs"); err != nil {
		t.Skip("no /etc/login.defs to record")
	}
	bin := buildAgent(t)
	worklet := repoPath(t, "worklets/password-ageing")
	rec := filepath.Join(t.TempDir(), "rec.json")
	out, code := runBin(t, bin, "scan", "--record", rec, "--no-pending", "--config", filepath.Join(t.TempDir(), "none.toml"), "--worklet", worklet)
	if code != 0 {
		t.Fatalf("scan --record: exit %d\n%s", code, out)
	}
	live := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "password-ageing" {
			live = f[1]
		}
	}
	if live == "" {
		t.Fatalf("no live result printed:\n%s", out)
	}
	fi, err := os.Stat(rec)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("recording: %v mode %v, want 0600", err, fi.Mode().Perm())
	}
	var doc struct {
		ABI   int               `json:"abi"`
		Time  string            `json:"time"`
		Scan  map[string]any    `json:"scan"`
		Files map[string]string `json:"files"`
	}
	b, _ := os.ReadFile(rec)
	if err := json.Unmarshal(b, &doc); err != nil || doc.ABI != 1 || doc.Time == "" || doc.Scan["hostname"] == nil {
		t.Fatalf("recording is not a recorded scan: %v %s", err, b[:min(len(b), 300)])
	}
	want, _ := os.ReadFile("/etc/login.defs")
	if doc.Files["/etc/login.defs"] != string(want) {
		t.Fatal("the file the worklet declares was not recorded")
	}
	out, code = runBin(t, bin, "worklet", "test", worklet, "--scan", rec, "--json")
	var res struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &res); err != nil {
		t.Fatalf("worklet test --json: %v\n%s", err, out)
	}
	if res.Status != live {
		t.Fatalf("replay says %s, the live run said %s", res.Status, live)
	}
	wantCode := map[string]int{"compliant": 0, "non-compliant": 1, "not-applicable": 2}[live]
	if code != wantCode {
		t.Fatalf("exit %d for %s", code, live)
	}
}

func TestWorkletVerify(t *testing.T) {
	bin := buildAgent(t)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	manifest := []byte("abi = 1\nkind = \"worklet\"\nname = \"w\"\nversion = \"1.0.0\"\nmodule = \"worklet.wasm\"\n")
	module := []byte("\x00asm\x01\x00\x00\x00")
	os.WriteFile(filepath.Join(dir, "worklet.toml"), manifest, 0o644)
	os.WriteFile(filepath.Join(dir, "worklet.wasm"), module, 0o644)
	sig := bundle.Sign(priv, "w", "1.0.0", bundle.Digest(manifest), bundle.Digest(module))
	meta, _ := json.Marshal(map[string]string{"signature": sig})
	os.WriteFile(filepath.Join(dir, "bundle.json"), meta, 0o644)

	if out, code := runBin(t, bin, "worklet", "verify", dir, "--key", bundle.FormatPublicKey(pub)); code != 0 || !strings.HasPrefix(out, "OK w@1.0.0") {
		t.Fatalf("trusted key: exit %d\n%s", code, out)
	}
	if out, code := runBin(t, bin, "worklet", "verify", dir, "--key", bundle.FormatPublicKey(otherPub)); code != 1 || !strings.Contains(out, "REFUSED") {
		t.Fatalf("other key: exit %d\n%s", code, out)
	}
	os.WriteFile(filepath.Join(dir, "worklet.wasm"), append(module, 0), 0o644)
	if out, code := runBin(t, bin, "worklet", "verify", dir, "--key", bundle.FormatPublicKey(pub)); code != 1 || !strings.Contains(out, "does not verify") {
		t.Fatalf("altered module: exit %d\n%s", code, out)
	}
	if out, code := runBin(t, bin, "worklet", "verify", dir, "--key", "not-base64!"); code == 0 {
		t.Fatalf("bad key accepted:\n%s", out)
	}
}
