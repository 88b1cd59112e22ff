// Package scan runs the device scan: the native collectors, each run as a
// built-in command through the command processor, filling one scan document.
package scan

import (
	"context"
	"io/fs"
	"net/http"
	"sync"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// Env is everything a collector may touch of the machine. Tests replace
// each part: an fstest.MapFS or a recorded tree under testdata/ for FS, a
// recording runner for Exec, a fixed clock.
type Env struct {
	// FS is the machine's file system rooted at "/" (paths without the
	// leading slash, as io/fs wants: "etc/os-release").
	FS fs.FS
	// Exec runs a program (argv only, fixed system path).
	Exec sysexec.Runner
	// Now is the clock.
	Now func() time.Time
	// Hostname returns the machine's host name.
	Hostname func() (string, error)
	// GOOS is the OS family the collectors run as (runtime.GOOS live).
	GOOS string
	// AWSEndpoint is the instance metadata service base URL
	// (default http://169.254.169.254). Only contacted when DMI says AWS.
	AWSEndpoint string
	// HTTP is the client used for the metadata service.
	HTTP *http.Client
	// Timeout bounds each collector and each program it runs.
	Timeout time.Duration
	// SkipPending leaves pending updates out of GetPatches (no package
	// manager simulation): `amagent scan --once --no-pending`, benchmarks.
	SkipPending bool
	// AptSimulate takes pending updates from apt-get's simulation even
	// where apt's lists can answer in Go (aptListsPending).
	AptSimulate bool

	// sources holds what this scan has parsed of a source that more than
	// one collector reads (the dpkg status file: the inventory and the
	// reboot check), so that each source is read once per scan. Set by
	// Scanner for each scan (forScan); nil means no sharing.
	sources *sourceCache
}

// sourceCache is one scan's parsed sources, keyed by path.
type sourceCache struct {
	mu sync.Mutex
	m  map[string]*sourceEntry
}

type sourceEntry struct {
	once sync.Once
	v    any
	err  error
}

// forScan returns a copy of env with an empty per-scan source cache: the
// next scan reads every source afresh.
func (e *Env) forScan() *Env {
	c := *e
	c.sources = &sourceCache{m: map[string]*sourceEntry{}}
	return &c
}

// cachedSource returns load's result for key, running load at most once
// per scan (every call when env has no cache). Errors are kept too: a
// source that could not be read in this scan is not retried by the next
// collector.
func cachedSource[T any](env *Env, key string, load func() (T, error)) (T, error) {
	if env.sources == nil {
		return load()
	}
	c := env.sources
	c.mu.Lock()
	e, ok := c.m[key]
	if !ok {
		e = &sourceEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.v, e.err = load() })
	v, _ := e.v.(T)
	return v, e.err
}

// osCollectors is what each OS family provides: Linux in
// collect_linux.go, Windows in collect_windows.go, macOS in
// collect_darwin.go, anything else in collect_other.go. Each file declares
// the package-level variable
//
//	var platform = osCollectors{...}
//
// (no init() registration). The OS-independent collectors and the one table
// of built-in commands are in collectors.go.
type osCollectors struct {
	OS       func(ctx context.Context, env *Env) (scandoc.OS, error)
	Hardware func(ctx context.Context, env *Env) (scandoc.Hardware, error)
	Users    func(ctx context.Context, env *Env) (scandoc.LastUser, error)
	Software func(ctx context.Context, env *Env) ([]scandoc.Package, error)
	Patches  func(ctx context.Context, env *Env) (installed []scandoc.Patch, pending []scandoc.Update, err error)
	Reboot   func(ctx context.Context, env *Env) (scandoc.Reboot, error)
	// OnAWS decides from local evidence only (DMI, hypervisor uuid,
	// registry) whether this is an EC2 instance, and says why.
	OnAWS func(ctx context.Context, env *Env) (bool, string)
	Boot  func(ctx context.Context, env *Env) (scandoc.Boot, error)

	// Issue 15's collectors.
	Identity       func(ctx context.Context, env *Env) (tz scandoc.Timezone, machineID string, err error)
	Resources      func(ctx context.Context, env *Env) (scandoc.Memory, scandoc.Load, error)
	Network        func(ctx context.Context, env *Env) (scandoc.Network, error)
	Storage        func(ctx context.Context, env *Env) (scandoc.Storage, error)
	Virtualization func(ctx context.Context, env *Env) (scandoc.Virtualization, error)
	Security       func(ctx context.Context, env *Env) (scandoc.Security, error)
	Services       func(ctx context.Context, env *Env) (scandoc.Services, error)
	Listening      func(ctx context.Context, env *Env) ([]scandoc.Listener, error)
}
