// Package server serves the agent protocol (enroll, check-in, command
// results, scans, bundles) and the admin HTTP API under /api/ on top of a
// store.Store. Several servers may share one database: every decision that
// must be made once (handing out a command) is made in the database.
package server

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// Defaults for Config's zero values.
const (
	DefaultCheckinInterval = time.Hour
	DefaultCommandTimeout  = 10 * time.Minute
	DefaultFlushInterval   = time.Second
)

// Body size limits per endpoint; a scan's is Config.MaxScanBytes.
const (
	maxEnrollBody  = 4 << 10
	maxCheckinBody = 4 << 10
	maxResultBody  = 4 << 20
	maxAdminBody   = 32 << 20
)

// Scan upload defaults.
const (
	DefaultMaxScanBytes = 16 << 20
	DefaultMaxScans     = 8
	// scanRetryAfter is the Retry-After (seconds) of a scan refused
	// because another one is being received.
	scanRetryAfter = "30"
)

// Config configures a Server. Zero values mean the documented defaults.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	// CheckinInterval is handed to agents (default one hour).
	CheckinInterval time.Duration
	// CommandTimeout is how long a handed-out command waits for its result
	// before it is offered again (default 10 minutes).
	CommandTimeout time.Duration
	// FlushInterval is how often check-in state is written in one batch.
	FlushInterval time.Duration
	// SigningKey signs bundles added through the admin API; without it
	// POST /api/worklets is refused.
	SigningKey ed25519.PrivateKey
	// MaxScanBytes caps a scan upload (default 16 MiB); larger is 413.
	MaxScanBytes int64
	// MaxScans is how many scan uploads this server receives at once,
	// from all devices (default 8); each device has at most one at a time.
	// Beyond either, a scan is answered 429 with Retry-After, unread.
	MaxScans int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Server is the platform's HTTP server.
type Server struct {
	cfg Config
	st  store.Store
	log *slog.Logger

	accessHash atomic.Pointer[[]byte] // sha256 of the access key
	adminHash  atomic.Pointer[[]byte] // sha256 of the admin token

	cfgMu    sync.RWMutex
	groupCfg map[int64]groupEntry

	bundleMu sync.RWMutex
	bundles  map[string][]byte // encoded bundle answers, immutable

	reloadMu   sync.Mutex
	lastReload time.Time

	pendMu  sync.Mutex
	pending map[int64]store.Checkin

	scans scanGate
	// scanReceiving, when set (tests), is called once a scan upload holds
	// its slot, before its body is read.
	scanReceiving func(deviceID int64)
}

// scanGate admits at most one scan upload per device and max in all.
type scanGate struct {
	mu   sync.Mutex
	busy map[int64]bool
	max  int
}

// acquire takes the device's slot; ok is false (and nothing is taken)
// when the device or the server is busy, with the reason.
func (g *scanGate) acquire(dev int64) (release func(), reason string, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.busy[dev]:
		return nil, "a scan from this device is already being received: retry after it", false
	case len(g.busy) >= g.max:
		return nil, fmt.Sprintf("the platform is receiving %d scans already: retry later", g.max), false
	}
	g.busy[dev] = true
	return func() {
		g.mu.Lock()
		delete(g.busy, dev)
		g.mu.Unlock()
	}, "", true
}

type groupEntry struct {
	version int64
	list    []protocol.Assignment
}

// New returns a server; it reads the access key and admin token hashes from
// the store's settings.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CheckinInterval <= 0 {
		cfg.CheckinInterval = DefaultCheckinInterval
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = DefaultCommandTimeout
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxScanBytes <= 0 {
		cfg.MaxScanBytes = DefaultMaxScanBytes
	}
	if cfg.MaxScans <= 0 {
		cfg.MaxScans = DefaultMaxScans
	}
	s := &Server{
		cfg: cfg, st: cfg.Store, log: cfg.Logger,
		groupCfg: map[int64]groupEntry{},
		bundles:  map[string][]byte{},
		pending:  map[int64]store.Checkin{},
		scans:    scanGate{busy: map[int64]bool{}, max: cfg.MaxScans},
	}
	if err := s.loadSecrets(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) loadSecrets(ctx context.Context) error {
	for _, x := range []struct {
		key string
		dst *atomic.Pointer[[]byte]
	}{{fleet.SettingAccessKeyHash, &s.accessHash}, {fleet.SettingAdminTokenHash, &s.adminHash}} {
		v, ok, err := s.st.Setting(ctx, x.key)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("server: setting %s is missing (run amplatform serve to create it)", x.key)
		}
		b, err := hex.DecodeString(v)
		if err != nil || len(b) != 32 {
			return fmt.Errorf("server: setting %s is not a hex sha256", x.key)
		}
		x.dst.Store(&b)
	}
	return nil
}

// Run writes batched check-in state every FlushInterval; every 30 seconds
// it re-reads the secrets' hashes (so that replicas follow a changed access
// key) and gives up commands offered store.MaxOffers times without a
// result. It returns when ctx is done, after a last flush.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	refresh := time.NewTicker(30 * time.Second)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return s.Flush(fctx)
		case <-t.C:
			if err := s.Flush(ctx); err != nil {
				s.log.Error("writing check-ins failed", "err", err)
			}
		case <-refresh.C:
			if err := s.loadSecrets(ctx); err != nil {
				s.log.Error("reloading secrets failed", "err", err)
			}
			if n, err := s.st.ExpireCommands(ctx, s.cfg.Now(), s.cfg.CommandTimeout); err != nil {
				s.log.Error("expiring commands failed", "err", err)
			} else if n > 0 {
				s.log.Warn("commands given up: no result came back", "count", n, "offers", store.MaxOffers)
			}
		}
	}
}

// Flush writes the check-ins received since the last flush.
func (s *Server) Flush(ctx context.Context) error {
	s.pendMu.Lock()
	if len(s.pending) == 0 {
		s.pendMu.Unlock()
		return nil
	}
	batch := make([]store.Checkin, 0, len(s.pending))
	for _, c := range s.pending {
		batch = append(batch, c)
	}
	s.pending = make(map[int64]store.Checkin, len(batch))
	s.pendMu.Unlock()
	return s.st.RecordCheckins(ctx, batch)
}

// Handler returns the HTTP handler with every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/enroll", methods{http.MethodPost: s.enroll})
	mux.Handle("/checkin", methods{http.MethodPost: s.checkin})
	mux.Handle("/commands/{id}/result", methods{http.MethodPost: s.result})
	mux.Handle("/scan", methods{http.MethodPost: s.scan})
	mux.Handle("/bundles/{name}/{version}", methods{http.MethodGet: s.bundle})
	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
	})
	return s.recoverer(mux)
}

// methods routes by HTTP method and answers others with a JSON 405.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m[r.Method]; ok {
		h(w, r)
		return
	}
	allow := make([]string, 0, len(m))
	for k := range m {
		allow = append(allow, k)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
}

func (s *Server) recoverer(h http.Handler) http.Handler {
	outer := max(s.cfg.MaxScanBytes, maxAdminBody)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every body is capped; each endpoint caps its own tighter.
		r.Body = http.MaxBytesReader(w, r.Body, outer)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v))
				writeError(w, http.StatusInternalServerError, "internal error")
			}
		}()
		h.ServeHTTP(w, r)
	})
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// decode reads a size-limited JSON body into v, answering 400 or 413 itself
// when it fails.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "malformed JSON body: "+err.Error())
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "malformed JSON body: trailing data after the object")
		return false
	}
	return true
}

// dbError answers a store error with the matching status.
func (s *Server) dbError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrExists), errors.Is(err, store.ErrAlreadyDone):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, store.ErrKeyMismatch):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, store.ErrAmbiguous):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, context.Canceled):
		writeError(w, http.StatusServiceUnavailable, "request canceled")
	default:
		s.log.Error("database error", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "database error")
	}
}

func equalHash(sum [32]byte, want *[]byte) bool {
	return want != nil && subtle.ConstantTimeCompare(sum[:], *want) == 1
}

// secretMatches compares sum with the hash in dst; on a mismatch it
// re-reads the secrets from the store (at most once a second), so that a
// key or token changed by `amplatform admin-token` or another replica
// works at once.
func (s *Server) secretMatches(ctx context.Context, sum [32]byte, dst *atomic.Pointer[[]byte]) bool {
	if equalHash(sum, dst.Load()) {
		return true
	}
	s.reloadMu.Lock()
	if time.Since(s.lastReload) >= time.Second {
		s.lastReload = time.Now()
		if err := s.loadSecrets(ctx); err != nil {
			s.log.Error("reloading secrets failed", "err", err)
		}
	}
	s.reloadMu.Unlock()
	return equalHash(sum, dst.Load())
}
