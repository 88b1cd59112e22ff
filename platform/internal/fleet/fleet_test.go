package fleet

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/platform/internal/store"
)

func TestValidateCommand(t *testing.T) {
	tests := []struct {
		name    string
		params  []string
		wantErr string
	}{
		{"scan", nil, ""},
		{"scan", []string{"x"}, "takes 0"},
		{"execCmd", []string{"GetOS"}, ""},
		{"execCmd", nil, "takes 1"},
		{"execCmd", []string{""}, "empty"},
		{"runWorklet", []string{"ssh", "evaluate"}, ""},
		{"runWorklet", []string{"ssh", "remediate"}, ""},
		{"runWorklet", []string{"ssh", "fix"}, "evaluate or remediate"},
		{"reboot", []string{"60"}, ""},
		{"reboot", []string{"-1"}, "seconds"},
		{"reboot", []string{"soon"}, "seconds"},
		{"InstallUpdate", []string{"openssl"}, ""},
		{"nop", nil, "cannot be queued"},
		{"sh", []string{"-c", "id"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+strings.Join(tt.params, " "), func(t *testing.T) {
			err := ValidateCommand(tt.name, tt.params)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("ValidateCommand = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateRemediate(t *testing.T) {
	for s, ok := range map[string]bool{"": true, "never": true, "immediately": true, "00:00": true, "23:59": true, "24:00": false, "9:30": false, "soon": false} {
		if err := ValidateRemediate(s); (err == nil) != ok {
			t.Errorf("ValidateRemediate(%q) = %v", s, err)
		}
	}
}

func TestOnline(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		last time.Time
		want bool
	}{{time.Time{}, false}, {now.Add(-time.Hour), true}, {now.Add(-2 * time.Hour), true}, {now.Add(-2*time.Hour - time.Second), false}} {
		if got := Online(store.Device{LastSeen: tc.last}, now, time.Hour); got != tc.want {
			t.Errorf("Online(last seen %v) = %v, want %v", tc.last, got, tc.want)
		}
	}
}

const goodManifest = "abi = 1\nkind = \"worklet\"\nname = \"ssh\"\nversion = \"1.0.0\"\nmodule = \"w.wasm\"\n[evaluate]\nexec = [[\"sshd\", \"-T\"]]\n"

var wasm = []byte("\x00asm\x01\x00\x00\x00")

func TestBuildWorklet(t *testing.T) {
	key, err := LoadOrCreateKey(filepath.Join(t.TempDir(), KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	w, err := BuildWorklet([]byte(goodManifest), wasm, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "ssh" || w.Kind != "worklet" || w.SHA256 != bundle.Digest(wasm) || w.ManifestSHA256 != bundle.Digest([]byte(goodManifest)) {
		t.Fatalf("worklet = %+v", w)
	}
	if err := bundle.Verify(key.Public().(ed25519.PublicKey), w.Signature, w.Name, w.Version, w.ManifestSHA256, w.SHA256); err != nil {
		t.Fatal(err)
	}
	bad := []struct{ manifest, want string }{
		{"abi = 2\nkind = \"worklet\"\nname = \"a\"\nversion = \"1\"\nmodule = \"w\"", "abi"},
		{"abi = 1\nkind = \"script\"\nname = \"a\"\nversion = \"1\"\nmodule = \"w\"", "kind"},
		{"abi = 1\nkind = \"worklet\"\nname = \"A B\"\nversion = \"1\"\nmodule = \"w\"", "name"},
		{"abi = 1\nkind = \"worklet\"\nname = \"a\"\nversion = \"../1\"\nmodule = \"w\"", "version"},
		{"abi = 1\nkind = \"worklet\"\nname = \"a\"\nversion = \"1\"", "module"},
		{"abi = ", "worklet.toml"},
	}
	for _, b := range bad {
		if _, err := BuildWorklet([]byte(b.manifest), wasm, key, time.Now()); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("BuildWorklet(%q) = %v, want error about %s", b.manifest, err, b.want)
		}
	}
	if _, err := BuildWorklet([]byte(goodManifest), []byte("#!/bin/sh\n"), key, time.Now()); err == nil {
		t.Error("a non-wasm module was accepted")
	}
}

func TestReadWorkletDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "worklet.toml"), []byte(goodManifest), 0o644)
	if _, _, err := ReadWorkletDir(dir); err == nil {
		t.Fatal("missing module accepted")
	}
	os.WriteFile(filepath.Join(dir, "w.wasm"), wasm, 0o644)
	m, mod, err := ReadWorkletDir(dir)
	if err != nil || string(m) != goodManifest || string(mod) != string(wasm) {
		t.Fatalf("ReadWorkletDir = %q %q %v", m, mod, err)
	}
	os.WriteFile(filepath.Join(dir, "worklet.toml"), []byte(strings.Replace(goodManifest, "w.wasm", "../w.wasm", 1)), 0o644)
	if _, _, err := ReadWorkletDir(dir); err == nil || !strings.Contains(err.Error(), "inside the worklet directory") {
		t.Fatalf("module outside the directory: %v", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", KeyFile)
	k1, err := LoadOrCreateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(p)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second load: %v, same key %v", err, k1.Equal(k2))
	}
	os.Chmod(p, 0o644)
	if _, err := LoadOrCreateKey(p); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Fatalf("world-readable key: %v", err)
	}
	os.WriteFile(p, []byte("garbage"), 0o600)
	if _, err := LoadOrCreateKey(p); err == nil {
		t.Fatal("garbage key accepted")
	}
}

func TestTokens(t *testing.T) {
	a, b := NewToken(), NewToken()
	if a == b || len(a) != 43 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if HashToken("abc") != bundle.Digest([]byte("abc")) {
		t.Fatal("HashToken is not hex sha256")
	}
}

func TestRedactParams(t *testing.T) {
	st := store.OpenTestSQLite(t, 1)[0]
	key := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	manifest := "abi = 1\nkind = \"worklet\"\nname = \"w\"\nversion = \"1\"\nmodule = \"w.wasm\"\n[params.token]\ntype = \"string\"\nsecret = true\n[params.port]\ntype = \"int\"\n"
	w, err := BuildWorklet([]byte(manifest), []byte("\x00asm\x01\x00\x00\x00"), key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddWorklet(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	in := map[string]any{"token": "s3cret", "port": float64(22), "undeclared": "x"}
	got := RedactParams(t.Context(), st, "w", "1", in)
	if got["token"] != Redacted || got["port"] != float64(22) || got["undeclared"] != "x" || in["token"] != "s3cret" {
		t.Fatalf("RedactParams = %v (input now %v)", got, in)
	}
	// Without a readable manifest nothing is known not to be secret.
	if got := RedactParams(t.Context(), st, "w", "9", in); got["port"] != Redacted || got["token"] != Redacted {
		t.Fatalf("RedactParams of an unknown version = %v", got)
	}
}
