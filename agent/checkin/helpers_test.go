package checkin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/identity"
	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/logging"
	"github.com/amagent/amagent/agent/outbox"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

const testUUID = "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"

// syncBuffer is a log sink safe for the loop's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// handlerTransport answers requests in-process, without a network, so
// that loops can run inside testing/synctest bubbles.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f, ok := t.h.(failingHandler); ok {
		return nil, f()
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// failingHandler makes handlerTransport fail at the transport level.
type failingHandler func() error

func (failingHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

var errRefused = errors.New("dial tcp 127.0.0.1:9: connect: connection refused")

type env struct {
	store *state.MemStore
	log   *syncBuffer
	id    *identity.Identity
	box   *outbox.Outbox
	loop  *Loop
	opts  LoopOptions
}

// setup builds a loop talking to server (a URL) through hc. token "" means
// not enrolled yet. mod may change the options before the loop is made.
func setup(t *testing.T, server string, hc *http.Client, token string, mod func(*LoopOptions)) *env {
	t.Helper()
	e := &env{store: state.NewMemStore(), log: &syncBuffer{}}
	e.store.Write(identity.KeyUUID, []byte(testUUID+"\n"))
	if token != "" {
		e.store.Write(identity.KeyToken, []byte(token+"\n"))
	}
	base := logging.NewText(e.log, slog.LevelInfo)
	var err error
	e.id, err = identity.Load(e.store, base)
	if err != nil {
		t.Fatal(err)
	}
	// The device key made by Load is not part of the check-in lines.
	e.log.mu.Lock()
	e.log.b.Reset()
	e.log.mu.Unlock()
	e.box, _ = outbox.Open(e.store, 0, base)
	table, err := command.NewTable(
		command.Handler{Type: protocol.CmdNop, Run: func(context.Context, []string) (any, error) { return nil, nil }},
		command.Handler{Type: "echo", Run: func(_ context.Context, p []string) (any, error) { return p, nil }},
	)
	if err != nil {
		t.Fatal(err)
	}
	log := logging.WithProcess(base, "checkin")
	client := &Client{
		Server:   server,
		HTTP:     hc,
		Identity: e.id,
		Enroller: &identity.Enroller{Server: server, AccessKey: "org-key", Hostname: "host-1", HTTP: hc},
		Version:  "1.2.3",
		Uptime:   func(context.Context) (time.Duration, error) { return 4242 * time.Second, nil },
		Zone:     func() *time.Location { return time.FixedZone("IST", 5*3600+1800) },
		Log:      log,
	}
	e.opts = LoopOptions{
		Client:       client,
		Processor:    &command.Processor{Log: base, Table: table},
		Outbox:       e.box,
		Store:        e.store,
		Log:          log,
		Interval:     time.Hour,
		Variance:     5 * time.Minute,
		RetryInitial: time.Minute,
		RetryMax:     30 * time.Minute,
		Jitter:       0,
		Rand:         func() float64 { return 0.5 },
		Zone:         client.Zone,
	}
	if mod != nil {
		mod(&e.opts)
	}
	e.loop = NewLoop(e.opts)
	return e
}

// inMemory returns a client whose requests go to h in-process.
func inMemory(h http.Handler) *http.Client {
	return &http.Client{Transport: handlerTransport{h}, Timeout: 30 * time.Second}
}

// loopback starts a real HTTP server on 127.0.0.1 and returns its URL and
// a client with short timeouts.
func loopback(t *testing.T, h http.Handler) (string, *http.Client) {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	servers.Store(srv.URL, srv)
	return srv.URL, httpx.NewClient(200*time.Millisecond, 500*time.Millisecond)
}

var timeRE = regexp.MustCompile(`(?m)^time=\S+`)

// normalise replaces timestamps and the server URL.
func normalise(log, server string) string {
	s := timeRE.ReplaceAllString(log, "time=<timestamp>")
	s = regexp.MustCompile(` start_time=\S+`).ReplaceAllString(s, " start_time=<timestamp>")
	s = regexp.MustCompile(` elapsed=\S+`).ReplaceAllString(s, " elapsed=<duration>")
	return strings.ReplaceAll(s, server, "<server>")
}

// nopAnswer is a nop answer with a config.
const nopAnswer = `{"id":0,"command":"nop","params":[],"config":{"checkin_interval":3600,"scan_interval":12,"worklets":[]}}`

// fakePlatform scripts a platform: each check-in gets the next answer
// (the last one repeats); results are recorded.
type fakePlatform struct {
	mu       sync.Mutex
	answers  []func(w http.ResponseWriter)
	checkins []time.Time
	queries  []string
	results  []string // path + body
	resultOK func() bool
	tokens   map[string]bool
	enrolls  int
	badKey   bool
}

func answer(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func (p *fakePlatform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path == protocol.PathEnroll {
		p.enrolls++
		if p.badKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if p.tokens == nil {
			p.tokens = map[string]bool{}
		}
		p.tokens["tok-new"] = true
		io.WriteString(w, `{"device_token":"tok-new"}`)
		return
	}
	auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if p.tokens != nil && !p.tokens[auth] || r.Header.Get(protocol.HeaderDeviceUUID) != testUUID {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch {
	case r.URL.Path == protocol.PathCheckin:
		p.checkins = append(p.checkins, time.Now())
		p.queries = append(p.queries, r.URL.RawQuery)
		a := p.answers[min(len(p.answers)-1, len(p.checkins)-1)]
		a(w)
	case strings.HasPrefix(r.URL.Path, "/commands/") || r.URL.Path == protocol.PathScan:
		if p.resultOK != nil && !p.resultOK() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		p.results = append(p.results, r.URL.Path+" "+string(body))
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/proxy-400":
		// What a proxy in the way answers: plain text, not the platform's.
		http.Error(w, "400 Bad Request", http.StatusBadRequest)
	default:
		// The reference platform's own refusal: a JSON error object.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"no such endpoint: ` + r.URL.Path + `"}`))
	}
}

func (p *fakePlatform) times() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.checkins...)
}

// closeNow closes the test server at url (registered by loopback).
var servers sync.Map // url -> *httptest.Server

func closeNow(t *testing.T, url string) {
	if s, ok := servers.Load(url); ok {
		s.(*httptest.Server).Close()
		return
	}
	t.Fatalf("no server %s", url)
}
