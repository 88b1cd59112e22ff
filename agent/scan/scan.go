package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// DefaultTimeout bounds each collector (and each program it runs) when
// Env.Timeout is zero. The apt simulation is the slowest part: a few
// seconds on a large machine.
const DefaultTimeout = 2 * time.Minute

// DefaultAWSEndpoint is the instance metadata service.
const DefaultAWSEndpoint = "http://169.254.169.254"

// LiveEnv is the Env of the machine the agent runs on: the real file
// system rooted at "/", programs run through sysexec, the wall clock.
func LiveEnv() *Env {
	return &Env{
		FS:          liveFS{FS: os.DirFS(rootDir())},
		Exec:        sysexec.Run,
		Now:         time.Now,
		Hostname:    os.Hostname,
		GOOS:        runtime.GOOS,
		AWSEndpoint: DefaultAWSEndpoint,
		HTTP:        &http.Client{Timeout: 5 * time.Second},
		Timeout:     DefaultTimeout,
	}
}

func rootDir() string {
	if runtime.GOOS == "windows" {
		if d := os.Getenv("SystemDrive"); d != "" {
			return d + `\`
		}
		return `C:\`
	}
	return "/"
}

// diskUsageFS is implemented by file systems that can say how full a mount
// point is. Disk usage is the one thing a file's bytes cannot tell: the live
// file system answers with statfs (gopsutil's disk.Usage), a recorded machine
// with the numbers recorded beside it. Collectors report disks without
// usage when the FS cannot say.
type diskUsageFS interface {
	DiskUsage(ctx context.Context, mountpoint string) (total, used uint64, err error)
}

// liveFS is the machine's own file system. On Linux it also answers
// DiskUsage (collect_linux.go), keeping gopsutil out of the other OS
// builds.
type liveFS struct{ fs.FS }

// The live file system forwards what os.DirFS implements beyond Open, so
// that fs.Stat, fs.ReadDir and fs.ReadLink take the direct path (and
// symbolic links, /proc/<pid>/fd for one, can be read at all).
func (l liveFS) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(l.FS, name) }
func (l liveFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(l.FS, name) }
func (l liveFS) ReadLink(name string) (string, error)       { return fs.ReadLink(l.FS, name) }
func (l liveFS) Lstat(name string) (fs.FileInfo, error)     { return fs.Lstat(l.FS, name) }

// isLive reports whether env reads the machine the agent runs on (as
// opposed to a recorded one), for the few facts that are not in any file.
func isLive(env *Env) bool {
	_, ok := env.FS.(liveFS)
	return ok
}

// Scanner runs the collectors in order, each as an execCmd command through
// the command processor, and assembles the scan document.
type Scanner struct {
	Env *Env         // nil means the live machine (LiveEnv)
	Log *slog.Logger // nil discards
	// Collectors to run; nil means the built-in table, Collectors().
	Collectors []Collector
	// Evaluate, when set, runs the assigned worklets and policies on the
	// finished document (JSON); its results go into the report.
	Evaluate func(ctx context.Context, doc []byte) []protocol.WorkletResult
	// NewID makes scan ids; nil means random UUIDs.
	NewID func() string
}

func (s *Scanner) env() *Env {
	if s.Env == nil {
		return defaultEnv()
	}
	return s.Env
}

// defaultEnv is the live Env of a Scanner made without one.
var defaultEnv = sync.OnceValue(LiveEnv)

func (s *Scanner) collectors() []Collector {
	if s.Collectors != nil {
		return s.Collectors
	}
	return Collectors()
}

func (s *Scanner) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (s *Scanner) now() time.Time {
	if e := s.env(); e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (s *Scanner) timeout() time.Duration {
	if e := s.env(); e.Timeout > 0 {
		return e.Timeout
	}
	return DefaultTimeout
}

// Collect runs every collector in order and returns the document. It
// always returns a document: a collector that fails or times out leaves its
// error in doc.Errors (keyed by collector name) and the scan goes on.
// doc.Timings has each collector's wall time in microseconds.
func (s *Scanner) Collect(ctx context.Context) *scandoc.Document {
	doc := &scandoc.Document{
		Schema:         scandoc.SchemaVersion,
		CollectedAt:    s.now().UTC(),
		Software:       []scandoc.Package{},
		Patches:        []scandoc.Patch{},
		PendingUpdates: []scandoc.Update{},
		Timings:        map[string]int64{},
	}
	doc.LastUser.Current = []scandoc.Session{}
	doc.Network = normNetwork(doc.Network)
	doc.Storage = scandoc.Storage{Mounts: []scandoc.Mount{}, BlockDevices: []scandoc.BlockDevice{}}
	doc.Virtualization.Evidence = []string{}
	doc.Services.Units = []scandoc.Service{}
	doc.Listening = []scandoc.Listener{}
	doc.Hardware.Disks = []scandoc.Disk{}
	doc.Reboot.Reasons = []string{}
	table, err := command.NewTable(s.handler(doc, s.env().forScan()))
	if err != nil { // cannot happen: one well-formed entry
		panic(err)
	}
	p := &command.Processor{Log: s.log(), Table: table, Now: s.now}
	for _, c := range s.collectors() {
		if ctx.Err() != nil {
			s.recordError(doc, c.Name, fmt.Errorf("not run: %w", ctx.Err()))
			continue
		}
		p.Execute(ctx, command.Command{Type: protocol.CmdExec, Params: []string{c.Name}})
	}
	if len(doc.Errors) == 0 {
		doc.Errors = nil
	}
	return doc
}

func (s *Scanner) recordError(doc *scandoc.Document, name string, err error) {
	if doc.Errors == nil {
		doc.Errors = map[string]string{}
	}
	doc.Errors[name] = err.Error()
}

// handler is the execCmd handler. With a document it also merges each
// collector's part into it and records errors and timings there (the scan);
// without one it only returns the part (the platform's execCmd <name>).
//
// env is the scan's Env with its per-scan source cache; nil (the
// platform's single commands) gives each command a fresh cache.
func (s *Scanner) handler(doc *scandoc.Document, env *Env) command.Handler {
	return command.Handler{
		Type:      protocol.CmdExec,
		Processor: command.ProcessorLegacy,
		Run: func(ctx context.Context, params []string) (any, error) {
			if len(params) == 0 || params[0] == "" {
				return nil, errors.New("execCmd: no command name")
			}
			c, ok := s.find(params[0])
			if !ok {
				return nil, fmt.Errorf("execCmd: unknown built-in command %q", params[0])
			}
			start := time.Now()
			e := env
			if e == nil {
				e = s.env().forScan()
			}
			part, err := s.runOne(ctx, c, e)
			if doc != nil {
				doc.Timings[c.Name] = time.Since(start).Microseconds()
				if part != nil {
					part.apply(doc)
				}
				if err != nil {
					s.recordError(doc, c.Name, err)
				}
			}
			if err != nil {
				return nil, err
			}
			return part, nil
		},
	}
}

func (s *Scanner) find(name string) (Collector, bool) {
	for _, c := range s.collectors() {
		if c.Name == name {
			return c, true
		}
	}
	return Collector{}, false
}

// runOne runs one collector under its timeout. The collector runs in a
// goroutine of its own so that one stuck in a call that ignores the
// context (a hung file system) cannot hold up the scan; its late answer is
// dropped.
func (s *Scanner) runOne(ctx context.Context, c Collector, env *Env) (Part, error) {
	timeout := s.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		part Part
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{nil, fmt.Errorf("%s panicked: %v", c.Name, r)}
			}
		}()
		p, err := c.Run(ctx, env)
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		if r.err != nil && ctx.Err() == context.DeadlineExceeded {
			return r.part, fmt.Errorf("%s: timed out after %s: %w", c.Name, timeout, r.err)
		}
		return r.part, r.err
	case <-ctx.Done():
	}
	// A collector that honours its context returns at once with what it
	// has; give it a moment so that its partial part is kept.
	grace := time.NewTimer(timeoutGrace)
	defer grace.Stop()
	select {
	case r := <-done:
		return r.part, fmt.Errorf("%s: timed out after %s: %w", c.Name, timeout, errOr(r.err, ctx.Err()))
	case <-grace.C:
	}
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("%s: timed out after %s", c.Name, timeout)
	}
	return nil, fmt.Errorf("%s: %w", c.Name, ctx.Err())
}

// timeoutGrace is how long a collector past its deadline may take to hand
// back its partial part.
const timeoutGrace = time.Second

func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// Scan runs a whole scan: the collectors, then Evaluate on the document.
// reason is "boot", "interval", "command" or "manual".
func (s *Scanner) Scan(ctx context.Context, reason string) (protocol.ScanReport, error) {
	start := s.now()
	wall := time.Now()
	id := ""
	if s.NewID != nil {
		id = s.NewID()
	} else {
		id = uuid.NewString()
	}
	doc := s.Collect(ctx)
	b, err := json.Marshal(doc)
	if err != nil {
		return protocol.ScanReport{}, fmt.Errorf("encoding scan document: %w", err)
	}
	results := []protocol.WorkletResult{}
	if s.Evaluate != nil {
		if r := s.Evaluate(ctx, b); r != nil {
			results = r
		}
	}
	return protocol.ScanReport{
		ScanID:    id,
		StartedAt: start.UTC(),
		ElapsedMS: time.Since(wall).Milliseconds(),
		Reason:    reason,
		Scan:      b,
		Results:   results,
	}, nil
}

// ExecHandler is the execCmd handler for the platform's `execCmd <name>`:
// it runs one built-in collector and answers with its part of the scan
// document ({"os": {...}} for GetOS).
func (s *Scanner) ExecHandler() command.Handler { return s.handler(nil, nil) }
