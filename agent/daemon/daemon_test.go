package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/protocol"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestDaemonWiring(t *testing.T) {
	var mu sync.Mutex
	var scans, results []string
	scanUp := false
	mux := http.NewServeMux()
	mux.HandleFunc("POST /enroll", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"device_token":"t1"}`) })
	n := 0
	mux.HandleFunc("POST /checkin", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if n == 1 {
			io.WriteString(w, `{"id":5,"command":"hello","params":["w"],"config":{"checkin_interval":3600,"scan_interval":8}}`)
			return
		}
		io.WriteString(w, `{"id":0,"command":"nop","params":[]}`)
	})
	mux.HandleFunc("POST /commands/{id}/result", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		results = append(results, r.PathValue("id")+" "+string(b))
		mu.Unlock()
	})
	mux.HandleFunc("POST /scan", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if !scanUp {
			w.WriteHeader(503)
			return
		}
		b, _ := io.ReadAll(r.Body)
		scans = append(scans, string(b))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var logBuf lockedBuf
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	configs := make(chan protocol.Config, 4)
	cfg := config.Config{Server: srv.URL, AccessKey: "k", StateDir: t.TempDir(), LogFile: "unused", DryRun: true}
	cfg.ApplyDefaults()
	serviceRan := make(chan struct{})
	d, err := New(Options{
		Config: cfg,
		Log:    log,
		Handlers: []command.Handler{{Type: "hello", Run: func(_ context.Context, p []string) (any, error) {
			return map[string]string{"hello": p[0]}, nil
		}}},
		Services: []func(context.Context) error{func(ctx context.Context) error { close(serviceRan); <-ctx.Done(); return nil }},
		OnConfig: func(c protocol.Config) { configs <- c },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.AddHandler(command.Handler{Type: "hello", Run: func(context.Context, []string) (any, error) { return nil, nil }}); err == nil {
		t.Fatal("duplicate handler accepted")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	<-serviceRan
	select {
	case c := <-configs:
		if c.ScanInterval != 8 || c.CheckinInterval != 3600 {
			t.Fatalf("config %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no config applied")
	}
	// The command's result is delivered first (the order asserted below
	// would otherwise race with the reports made here).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(results)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("command 5's result was not delivered")
		}
	}
	// A scan while /scan fails stays in the outbox; the next delivery
	// sends it.
	rep := protocol.ScanReport{ScanID: "s1", Reason: "manual", Scan: json.RawMessage(`{}`)}
	if err := d.ReportScan(ctx, rep); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	scanUp = true
	mu.Unlock()
	if err := d.ReportResult(ctx, 9, protocol.CommandResult{Status: "ok", Output: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 2 || !strings.HasPrefix(results[0], `5 {"status":"ok"`) || !strings.Contains(results[0], `"output":{"hello":"w"}`) || !strings.HasPrefix(results[1], "9 ") {
		t.Fatalf("results %v", results)
	}
	if len(scans) != 1 || !strings.Contains(scans[0], `"scan_id":"s1"`) {
		t.Fatalf("scans %v", scans)
	}
	if d.PlatformConfig().ScanInterval != 8 || d.DeviceUUID() == "" {
		t.Fatalf("%+v", d.PlatformConfig())
	}
	for _, want := range []string{"agent starting", "agent stopped", `msg="accepted command" command_id=5 command_type=hello`} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("log lacks %q", want)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := New(Options{Config: config.Config{Server: "http://example.com"}, Log: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "key server") {
		t.Fatalf("got %v", err)
	}
}
