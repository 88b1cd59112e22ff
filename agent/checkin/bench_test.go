package checkin

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/amagent/amagent/agent/identity"
	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/logging"
	"github.com/amagent/amagent/agent/state"
)

// benchServer answers every POST with the seed's nop answer.
func benchServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, nopAnswer)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkCheckinRoundTrip is one full check-in over loopback: URL,
// headers, POST, size-limited read, decode, validate, and the four log
// lines written by the client to a text handler.
func BenchmarkCheckinRoundTrip(b *testing.B) {
	srv := benchServer(b)
	st := state.NewMemStore()
	st.Write(identity.KeyUUID, []byte(testUUID))
	st.Write(identity.KeyToken, []byte("tok"))
	log := logging.WithProcess(logging.NewText(io.Discard, slog.LevelInfo), "checkin")
	id, _ := identity.Load(st, log)
	c := &Client{Server: srv.URL, HTTP: httpx.NewClient(0, 0), Identity: id, Version: "1.0.0", Log: log}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.Checkin(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareHTTPPost is the floor: a bare net/http POST to the same
// kind of server, reading the body, nothing else.
func BenchmarkBareHTTPPost(b *testing.B) {
	srv := benchServer(b)
	hc := &http.Client{}
	u := srv.URL + "/checkin?uptime=1&ver=1&tz=%2B0000"
	b.ReportAllocs()
	for b.Loop() {
		resp, err := hc.Post(u, "application/json", bytes.NewReader(nil))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
