package checkin

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/amagent/amagent/agent/protocol"
)

// TestGet covers the authenticated download used for worklet bundles.
func TestGet(t *testing.T) {
	var enrolls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == protocol.PathEnroll:
			enrolls.Add(1)
			io.WriteString(w, `{"device_token":"fresh-token"}`)
		case r.Header.Get(protocol.HeaderAuthorization) != "Bearer fresh-token":
			http.Error(w, `{"error":"bad token"}`, http.StatusUnauthorized)
		case r.Method != http.MethodGet:
			http.Error(w, "want GET", http.StatusMethodNotAllowed)
		case r.URL.Path == "/bundles/w/1":
			io.WriteString(w, `{"name":"w"}`)
		default:
			http.Error(w, `{"error":"no such bundle"}`, http.StatusNotFound)
		}
	})
	srv, hc := loopback(t, h)
	e := setup(t, srv, hc, "stale-token", nil)
	c := e.opts.Client

	b, err := c.Get(t.Context(), "/bundles/w/1", 1<<20)
	if err != nil || string(b) != `{"name":"w"}` {
		t.Fatalf("Get = %q, %v", b, err)
	}
	if enrolls.Load() != 1 {
		t.Fatalf("a 401 should enroll again once, enrolled %d times", enrolls.Load())
	}
	if _, err := c.Get(t.Context(), srv+"/bundles/w/1", 1<<20); err != nil {
		t.Fatalf("absolute URL on the platform: %v", err)
	}
	if _, err := c.Get(t.Context(), "/bundles/nope/1", 1<<20); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing bundle: err %v, want 404", err)
	}
	if _, err := c.Get(t.Context(), "http://example.invalid/x", 1<<20); err == nil || !strings.Contains(err.Error(), "not on the platform") {
		t.Fatalf("foreign URL: err %v", err)
	}
	if _, err := c.Get(t.Context(), "/bundles/w/1", 4); err == nil {
		t.Fatal("an answer over the size limit was accepted")
	}
}
