package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/agent/checkin"
	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/logging"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/worklets"
)

// emptyModule is (module (memory (export "memory") 1) (func (export "_start"))).
const emptyModule = "0061736d01000000010401600000030201000503010001071302066d656d6f72790200065f737461727400000a040102000b"

const secretValue = "s3cr3t-VALUE"

// TestSecretParamNowhereOnDisk runs the agent's daemon against a platform
// on loopback whose check-in answer assigns a worklet with a secret
// parameter and runs it (runWorklet, then the scans), and looks for the
// secret's value in every file under the state and log directories: it
// is in none. Failed before the fix (issue 9, finding 8): amagent.log held
// the whole check-in answer and platform_config.json the parameters.
func TestSecretParamNowhereOnDisk(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	module, _ := hex.DecodeString(emptyModule)
	manifest := `abi = 1
kind = "worklet"
name = "secret-probe"
version = "1.0.0"
description = "takes a secret parameter"
module = "worklet.wasm"

[params.token]
type = "string"
secret = true

[params.level]
type = "string"
default = "low"
`
	manSHA, modSHA := bundle.Digest([]byte(manifest)), bundle.Digest(module)
	sig := bundle.Sign(priv, "secret-probe", "1.0.0", manSHA, modSHA)
	doc, _ := json.Marshal(worklets.Document{Name: "secret-probe", Version: "1.0.0", Kind: "worklet", Manifest: manifest,
		Module: base64.StdEncoding.EncodeToString(module), SHA256: modSHA, ManifestSHA256: manSHA, Signature: sig})
	assign := protocol.Assignment{Name: "secret-probe", Version: "1.0.0", Kind: "worklet", SHA256: modSHA, ManifestSHA256: manSHA,
		URL: "/bundles/secret-probe/1.0.0", Signature: sig, Params: map[string]any{"token": secretValue, "level": "high"}}
	plain := protocol.Assignment{Name: "plain", Version: "2.0.0", Kind: "worklet", URL: "/bundles/plain/2.0.0"}
	cfgJSON, _ := json.Marshal(protocol.Config{CheckinInterval: 3600, ScanInterval: 12, Worklets: []protocol.Assignment{assign, plain}})

	var mu sync.Mutex
	checkins := 0
	resultSeen := make(chan string, 1)
	var scans []string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /enroll", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"device_token":"tok"}`) })
	mux.HandleFunc("POST /checkin", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		checkins++
		if checkins == 1 {
			fmt.Fprintf(w, `{"id":7,"command":"runWorklet","params":["secret-probe","evaluate"],"config":%s}`, cfgJSON)
			return
		}
		fmt.Fprintf(w, `{"id":0,"command":"nop","params":[],"config":%s}`, cfgJSON)
	})
	mux.HandleFunc("GET /bundles/secret-probe/1.0.0", func(w http.ResponseWriter, r *http.Request) { w.Write(doc) })
	mux.HandleFunc("POST /commands/{id}/result", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		select {
		case resultSeen <- string(b):
		default:
		}
	})
	mux.HandleFunc("POST /scan", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		scans = append(scans, string(b))
		mu.Unlock()
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	path := writeConfig(t, dir, srv.URL, fmt.Sprintf("[scan]\nskip_pending = true\n[worklets]\ntrusted_keys = [%q]\n", base64.StdEncoding.EncodeToString(pub)))
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log, closer, err := logging.New(logging.Options{File: cfg.LogFile})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	d, cleanup, err := newDaemon(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()

	// The runWorklet result, then a scan that evaluated the worklet.
	select {
	case res := <-resultSeen:
		if strings.Contains(res, secretValue) {
			t.Errorf("result holds the secret: %s", res)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no runWorklet result")
	}
	deadline := time.After(30 * time.Second)
	for {
		mu.Lock()
		evaluated := len(scans) > 0 && strings.Contains(scans[len(scans)-1], `"name":"secret-probe"`)
		mu.Unlock()
		if evaluated {
			break
		}
		select {
		case <-deadline:
			t.Fatal("no scan evaluated the worklet")
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cleanup()
	closer.Close()

	// The secret is in no file under the state and log directories.
	files := 0
	for _, root := range []string{cfg.StateDir, filepath.Dir(cfg.LogFile)} {
		filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			files++
			b, rerr := os.ReadFile(p)
			if rerr != nil {
				t.Errorf("%s: %v", p, rerr)
			} else if bytes.Contains(b, []byte(secretValue)) {
				t.Errorf("%s holds the secret parameter's value", p)
			}
			return nil
		})
	}
	// What could be kept, was: the config without the assignment that
	// has a secret, and the log's check-in answer without values.
	kept, err := os.ReadFile(filepath.Join(cfg.StateDir, checkin.KeyPlatformConfig))
	if err != nil || !strings.Contains(string(kept), `"name":"plain"`) || strings.Contains(string(kept), "secret-probe") {
		t.Errorf("kept config %s (%v)", kept, err)
	}
	logText, _ := os.ReadFile(cfg.LogFile)
	if !strings.Contains(string(logText), `\"name\":\"secret-probe\"`) || !strings.Contains(string(logText), `\"params\":[\"level\",\"token\"]`) {
		t.Errorf("the check-in answer is not logged by names:\n%s", logText)
	}
	t.Logf("%d files checked", files)
	if os.Getenv("SECRET_TEST_LOG") != "" {
		t.Logf("%s", logText)
	}
}
