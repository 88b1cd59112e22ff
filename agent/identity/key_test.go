package identity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

func TestDeviceKeyCreatedAndKept(t *testing.T) {
	st, _ := state.NewFileStore(t.TempDir())
	var log bytes.Buffer
	a, err := Load(st, newLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(st.Path(KeyDevice))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	kb, _ := os.ReadFile(st.Path(KeyDevice))
	if !strings.Contains(string(kb), a.UUID()) {
		t.Fatalf("key file does not hold the UUID: %s", kb)
	}
	b, err := Load(st, newLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	if !a.PublicKey().Equal(b.PublicKey()) || a.UUID() != b.UUID() {
		t.Fatal("identity changed between starts")
	}
	msg := protocol.EnrollMessage(a.UUID(), "2026-01-01T00:00:00Z")
	if !ed25519.Verify(b.PublicKey(), msg, a.Sign(msg)) {
		t.Fatal("signature does not verify")
	}
}

// TestUUIDRecoveredFromKeyFile: a damaged or missing UUID file is rebuilt
// from the key file, never replaced by a new UUID.
func TestUUIDRecoveredFromKeyFile(t *testing.T) {
	for name, damage := range map[string]func(st *state.FileStore){
		"missing": func(st *state.FileStore) { os.Remove(st.Path(KeyUUID)) },
		"damaged": func(st *state.FileStore) { st.Write(KeyUUID, []byte("garbage\x00")) },
		"other":   func(st *state.FileStore) { st.Write(KeyUUID, []byte("11111111-2222-4333-8444-555555555555\n")) },
	} {
		t.Run(name, func(t *testing.T) {
			st, _ := state.NewFileStore(t.TempDir())
			var log bytes.Buffer
			a, err := Load(st, newLog(&log))
			if err != nil {
				t.Fatal(err)
			}
			damage(st)
			log.Reset()
			b, err := Load(st, newLog(&log))
			if err != nil {
				t.Fatal(err)
			}
			if b.UUID() != a.UUID() || !a.PublicKey().Equal(b.PublicKey()) {
				t.Fatalf("UUID %s became %s", a.UUID(), b.UUID())
			}
			got, _ := os.ReadFile(st.Path(KeyUUID))
			if strings.TrimSpace(string(got)) != a.UUID() {
				t.Fatalf("UUID file not rewritten: %q", got)
			}
			if !strings.Contains(log.String(), "device_uuid="+a.UUID()) || strings.Contains(log.String(), "created device UUID") {
				t.Fatalf("log: %s", log.String())
			}
			if name != "missing" {
				if _, err := os.Stat(st.Path(KeyUUID) + ".corrupt"); err != nil {
					t.Fatalf("damaged UUID file not kept aside: %v", err)
				}
			}
		})
	}
}

// TestDamagedKeyFile: a damaged key file is kept as device_key.corrupt and
// logged at ERROR; the UUID stays. With the UUID file gone too, Load
// refuses rather than make a new identity.
func TestDamagedKeyFile(t *testing.T) {
	st, _ := state.NewFileStore(t.TempDir())
	var log bytes.Buffer
	a, err := Load(st, newLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	st.Write(KeyDevice, []byte(`{"device_uuid":"`+a.UUID()+`","private_key":"trunc`))
	log.Reset()
	b, err := Load(st, newLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	if b.UUID() != a.UUID() || a.PublicKey().Equal(b.PublicKey()) {
		t.Fatalf("want same UUID, new key: %s %s", a.UUID(), b.UUID())
	}
	if _, err := os.Stat(st.Path(KeyDevice) + ".corrupt"); err != nil {
		t.Fatal("damaged key not kept aside")
	}
	if !strings.Contains(log.String(), "level=ERROR") || !strings.Contains(log.String(), "amplatform devices reset "+a.UUID()) {
		t.Fatalf("log: %s", log.String())
	}

	// Both copies of the UUID damaged: refuse, leave the files alone.
	st.Write(KeyDevice, []byte(`{"device_uuid":"`+a.UUID()+`","private_key":"trunc`))
	os.Remove(st.Path(KeyUUID))
	for range 2 {
		_, err = Load(st, newLog(&log))
		if err == nil || !strings.Contains(err.Error(), "device identity lost") || !strings.Contains(err.Error(), a.UUID()) {
			t.Fatalf("got %v", err)
		}
	}
	if _, err := os.Stat(st.Path(KeyUUID)); err == nil {
		t.Fatal("a new UUID was made")
	}
}

// enrollServer verifies signed enrollments like the platform does.
type enrollServer struct {
	mu     sync.Mutex
	clock  time.Time // the platform's time
	keys   map[string]string
	reqs   []protocol.EnrollRequest
	always int // when non-zero, answer this status
}

func (s *enrollServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var req protocol.EnrollRequest
	json.NewDecoder(r.Body).Decode(&req)
	s.reqs = append(s.reqs, req)
	w.Header().Set("Date", s.clock.UTC().Format(http.TimeFormat))
	pub, _ := base64.StdEncoding.DecodeString(req.DeviceKey)
	sig, _ := base64.StdEncoding.DecodeString(req.Signature)
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, protocol.EnrollMessage(req.DeviceUUID, req.Time), sig) {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"bad signature"}`)
		return
	}
	t, err := time.Parse(time.RFC3339, req.Time)
	if s.always == 401 || err != nil || t.Sub(s.clock).Abs() > protocol.EnrollMaxSkew*time.Second {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"request time is more than 5 minutes off the platform's clock"}`)
		return
	}
	if s.keys == nil {
		s.keys = map[string]string{}
	}
	if k, ok := s.keys[req.DeviceUUID]; ok && k != req.DeviceKey {
		w.WriteHeader(409)
		io.WriteString(w, `{"error":"device is bound to another key"}`)
		return
	}
	s.keys[req.DeviceUUID] = req.DeviceKey
	io.WriteString(w, `{"device_token":"tok-signed"}`)
}

func TestEnrollSignedAndClockSkew(t *testing.T) {
	platformNow := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := &enrollServer{clock: platformNow}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	st, _ := state.NewFileStore(t.TempDir())
	var log bytes.Buffer
	id, _ := Load(st, newLog(&log))
	// The device's clock is two hours slow.
	e := &Enroller{Server: ts.URL, AccessKey: "k", Hostname: "h", HTTP: ts.Client(), Now: func() time.Time { return platformNow.Add(-2 * time.Hour) }}
	if err := e.Enroll(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if len(srv.reqs) != 2 || srv.reqs[1].Time != platformNow.Format(time.RFC3339) || id.Token() != "tok-signed" {
		t.Fatalf("requests %+v token %q", srv.reqs, id.Token())
	}
	if srv.reqs[0].DeviceKey != base64.StdEncoding.EncodeToString(id.PublicKey()) {
		t.Fatal("device_key is not the public key")
	}

	// Signed again only once.
	srv.reqs, srv.always = nil, 401
	if err := e.Enroll(t.Context(), id); !errors.Is(err, ErrClock) || len(srv.reqs) != 2 {
		t.Fatalf("got %v after %d requests", err, len(srv.reqs))
	}

	// Another key for the same UUID: 409, naming the UUID and the reset.
	srv.always = 0
	other, _ := state.NewFileStore(t.TempDir())
	other.Write(KeyUUID, []byte(id.UUID()+"\n"))
	impostor, _ := Load(other, newLog(&log))
	err := e.Enroll(t.Context(), impostor)
	if !errors.Is(err, ErrKeyConflict) || !strings.Contains(err.Error(), "amplatform devices reset "+id.UUID()) {
		t.Fatalf("got %v", err)
	}
	if impostor.Token() != "" {
		t.Fatal("impostor got a token")
	}
}
