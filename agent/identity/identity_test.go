package identity

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

func newLog(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, nil))
}

func TestUUIDKeptForever(t *testing.T) {
	dir := t.TempDir()
	st, _ := state.NewFileStore(dir)
	var log bytes.Buffer
	a, err := Load(st, newLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(st, newLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	if a.UUID() == "" || a.UUID() != b.UUID() {
		t.Fatalf("uuid changed: %q %q", a.UUID(), b.UUID())
	}
	if a.Token() != "" {
		t.Fatal("token before enrollment")
	}
}

func TestCorruptStateQuarantined(t *testing.T) {
	dir := t.TempDir()
	st, _ := state.NewFileStore(dir)
	st.Write(KeyUUID, []byte("garbage\x00"))
	st.Write(KeyToken, []byte("bad token with spaces"))
	var log bytes.Buffer
	id, err := Load(st, newLog(&log))
	if err != nil {
		t.Fatal(err)
	}
	if len(id.UUID()) != 36 || id.Token() != "" {
		t.Fatalf("not rebuilt: %q %q", id.UUID(), id.Token())
	}
	for _, k := range []string{KeyUUID, KeyToken} {
		if _, err := os.Stat(st.Path(k) + ".corrupt"); err != nil {
			t.Errorf("%s not kept aside: %v", k, err)
		}
	}
	if !strings.Contains(log.String(), "corrupt state file moved aside") {
		t.Fatalf("not logged: %s", log.String())
	}
	again, _ := Load(st, newLog(&log))
	if again.UUID() != id.UUID() {
		t.Fatal("rebuilt UUID not kept")
	}
}

func TestEnroll(t *testing.T) {
	var got protocol.EnrollRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/enroll" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		if got.AccessKey != "good" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"device_token":"tok-123","extra":1}`)
	}))
	defer srv.Close()
	dir := t.TempDir()
	st, _ := state.NewFileStore(dir)
	var log bytes.Buffer
	id, _ := Load(st, newLog(&log))

	bad := &Enroller{Server: srv.URL, AccessKey: "wrong", Hostname: "h", HTTP: srv.Client()}
	if err := bad.Enroll(t.Context(), id); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("wrong key: %v", err)
	}
	empty := &Enroller{Server: srv.URL, HTTP: srv.Client()}
	if err := empty.Enroll(t.Context(), id); !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "access_key") {
		t.Fatalf("empty key: %v", err)
	}
	good := &Enroller{Server: srv.URL, AccessKey: "good", Hostname: "h", HTTP: srv.Client()}
	if err := good.Enroll(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if got.DeviceUUID != id.UUID() || got.Hostname != "h" || id.Token() != "tok-123" {
		t.Fatalf("request %+v token %q", got, id.Token())
	}
	fi, err := os.Stat(st.Path(KeyToken))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", fi, err)
	}
	again, _ := Load(st, newLog(&log))
	if again.Token() != "tok-123" {
		t.Fatal("token not kept")
	}
}

func TestEnrollMalformed(t *testing.T) {
	for name, body := range map[string]string{"not json": "<html>", "no token": `{"device_token":""}`} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
			defer srv.Close()
			id, _ := Load(state.NewMemStore(), slog.New(slog.DiscardHandler))
			e := &Enroller{Server: srv.URL, AccessKey: "k", HTTP: srv.Client()}
			if err := e.Enroll(t.Context(), id); err == nil || errors.Is(err, ErrAccessDenied) {
				t.Fatalf("got %v", err)
			}
		})
	}
}
