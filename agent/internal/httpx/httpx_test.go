package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPost(t *testing.T) {
	var gotHdr, gotCT string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHdr, gotCT = r.Header.Get("X-A"), r.Header.Get("Content-Type")
		switch r.URL.Path {
		case "/big":
			io.WriteString(w, strings.Repeat("x", 101))
		case "/redirect":
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		default:
			w.WriteHeader(201)
			io.WriteString(w, strings.Repeat("y", 100))
		}
	}))
	defer srv.Close()
	hc := NewClient(100*time.Millisecond, 300*time.Millisecond)
	r, err := Post(t.Context(), hc, srv.URL+"/ok", http.Header{"X-A": {"1"}}, []byte(`{}`), 100)
	if err != nil || r.Status != 201 || len(r.Body) != 100 || gotHdr != "1" || gotCT != "application/json" {
		t.Fatalf("%+v %v %q %q", r.Status, err, gotHdr, gotCT)
	}
	if _, err := Post(t.Context(), hc, srv.URL+"/big", nil, nil, 100); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
	if r, err := Post(t.Context(), hc, srv.URL+"/redirect", nil, nil, 0); err != nil || r.Status != http.StatusFound {
		t.Fatalf("redirect followed: %+v %v", r, err)
	}
	start := time.Now()
	if _, err := Post(t.Context(), hc, srv.URL+"/slow", nil, nil, 0); err == nil || time.Since(start) > time.Second {
		t.Fatalf("total timeout not applied: %v after %s", err, time.Since(start))
	}
	if got := Snippet([]byte("  abcdef "), 3); got != "abc..." {
		t.Fatal(got)
	}
}
