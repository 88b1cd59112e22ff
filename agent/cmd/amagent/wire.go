package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/agent/checkin"
	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/daemon"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scan"
	"github.com/amagent/amagent/agent/state"
	"github.com/amagent/amagent/agent/sysexec"
	"github.com/amagent/amagent/agent/updates"
	"github.com/amagent/amagent/agent/worklets"
	"github.com/amagent/amagent/host"
)

// trustedKeys parses [worklets] trusted_keys.
func trustedKeys(cfg config.Config) ([]ed25519.PublicKey, error) {
	var keys []ed25519.PublicKey
	for i, k := range cfg.Worklets.TrustedKeys {
		pub, err := bundle.ParsePublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("worklets.trusted_keys[%d]: %w", i, err)
		}
		keys = append(keys, pub)
	}
	return keys, nil
}

// sandboxLimits is the [sandbox] section as the engine's caps.
func sandboxLimits(cfg config.Config) host.Limits {
	return host.Limits{
		MaxMemory:    cfg.Sandbox.MaxMemoryBytes(),
		MaxTimeout:   cfg.Sandbox.MaxTimeout,
		MaxOutput:    int(cfg.Sandbox.MaxOutputBytes()),
		MaxExecCalls: cfg.Sandbox.MaxExecCalls,
		// Compiling a module: in a child process under these (compileCommand).
		CompileTimeout: cfg.Sandbox.CompileTimeout,
		CompileMemory:  cfg.Sandbox.CompileMemoryBytes(),
	}
}

// compileCommand is this binary's hidden compile subcommand, which the
// engine runs to compile a module under the [sandbox] compile bound; nil
// (compile in process, time bound only) when the binary cannot be found,
// or is a test binary (which would run its tests instead).
func compileCommand() []string {
	exe, err := os.Executable()
	if err != nil || testing.Testing() {
		return nil
	}
	return []string{exe, host.CompileChildCommand}
}

// scanEnv is the live collector environment with the [scan] settings.
func scanEnv(cfg config.Config) *scan.Env {
	env := scan.LiveEnv()
	if cfg.Scan.AWSEndpoint != "" {
		env.AWSEndpoint = cfg.Scan.AWSEndpoint
	}
	if cfg.Scan.Timeout > 0 {
		env.Timeout = cfg.Scan.Timeout
	}
	env.SkipPending = cfg.Scan.SkipPending
	return env
}

// newDaemon wires the agent: the check-in daemon, the scan and its
// scheduler, the wazero engine and the assigned worklets, InstallUpdate.
// The returned cleanup closes the engine.
func newDaemon(ctx context.Context, cfg config.Config, log *slog.Logger) (*daemon.Daemon, func(), error) {
	keys, err := trustedKeys(cfg)
	if err != nil {
		return nil, nil, err
	}
	engine, err := host.NewEngine(ctx, host.Options{
		CacheDir:       filepath.Join(cfg.StateDir, "wasm-cache"),
		Limits:         sandboxLimits(cfg),
		Log:            log,
		CompileCommand: compileCommand(),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("starting the wasm engine: %w", err)
	}
	cleanup := func() { engine.Close(context.Background()) }

	scanner := &scan.Scanner{Env: scanEnv(cfg), Log: log}
	mgr := &worklets.Manager{
		Log:         log,
		Cache:       &worklets.Cache{Dir: filepath.Join(cfg.StateDir, "bundles")},
		TrustedKeys: keys,
		Sandbox:     &worklets.HostSandbox{Engine: engine},
		Collect: func(ctx context.Context) ([]byte, error) {
			return json.Marshal(scanner.Collect(ctx))
		},
	}
	// Between scans (hours apart) the agent keeps no compiled code or guest
	// memory: reloading from the on-disk compilation cache costs about
	// 0.1 s for a Go module and 1 ms for a C one, while keeping them
	// resident costs tens of MiB. Runs hold runs.RLock; the release after a
	// scan takes the write lock, so no module is dropped while it runs.
	var runs sync.RWMutex
	forget := func() {
		engine.Forget(context.Background(), nil)
		engine.Trim()
		debug.FreeOSMemory()
	}
	release := func() {
		runs.Lock()
		defer runs.Unlock()
		forget()
	}
	scanner.Evaluate = func(ctx context.Context, doc []byte) []protocol.WorkletResult {
		runs.RLock()
		res := mgr.Evaluate(ctx, doc)
		runs.RUnlock()
		release()
		return res
	}
	runWorklet := host.RunWorkletHandler(engine, mgr.Find)
	runOne := runWorklet.Run
	runWorklet.Run = func(ctx context.Context, params []string) (any, error) {
		// runWorklet runs on the check-in loop: it never waits for a scan's
		// worklets to end to release the engine (the scan releases it).
		defer func() {
			if runs.TryLock() {
				defer runs.Unlock()
				forget()
			}
		}()
		runs.RLock()
		defer runs.RUnlock()
		return runOne(ctx, params)
	}
	installer := &updates.Installer{Log: log, Exec: sysexec.Run, FS: os.DirFS("/"), GOOS: runtime.GOOS, DryRun: cfg.DryRun}

	// The scheduler exists before the daemon: the daemon restores the saved
	// platform config (OnConfig) while it is being built. Reports go
	// through the daemon's outbox once it runs.
	store, err := state.NewFileStore(cfg.StateDir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	// A new agent's first scan runs before its first check-in brings the
	// assignments; when that first configuration names worklets, scan
	// again so that they are evaluated now, not 6-24 hours later.
	_, statErr := os.Stat(filepath.Join(cfg.StateDir, checkin.KeyPlatformConfig))
	firstConfig := errors.Is(statErr, fs.ErrNotExist)
	var d *daemon.Daemon
	sched := scan.NewScheduler(scanner, store, func(ctx context.Context, r protocol.ScanReport) error {
		return d.ReportScan(ctx, r)
	})
	sched.Log = log
	mgr.Store = store
	d, err = daemon.New(daemon.Options{
		Config:   cfg,
		Log:      log,
		Handlers: []command.Handler{scanner.ExecHandler(), installer.Handler()},
		// Secret parameter values are never written to the state directory.
		KeepConfig: mgr.KeptConfig,
		OnConfig: func(pc protocol.Config) {
			if pc.ScanInterval != 0 {
				sched.SetInterval(pc.ScanInterval)
			}
			mgr.SetAssignments(pc.Worklets)
			if firstConfig && len(pc.Worklets) > 0 {
				firstConfig = false
				go func() {
					if _, err := sched.ScanNow(ctx, "assignments"); err != nil && ctx.Err() == nil {
						log.Warn("scan for the first assignments failed", "error", err.Error())
					}
				}()
			}
		},
	})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	mgr.Fetch = d.Fetch
	// InstallUpdate (a command, or a patch policy's decision) installs only
	// what the last scan lists as installed with a pending update.
	installer.LastScan = mgr.LatestScan
	mgr.Install = func(ctx context.Context, names []string) (bool, error) {
		res := d.Processor().Execute(ctx, command.Command{Type: protocol.CmdInstallUpdate, Params: names})
		if res.Status != protocol.StatusOK {
			return false, fmt.Errorf("%s", res.Error)
		}
		return !cfg.DryRun, nil
	}
	mgr.Rescan = func() {
		go func() {
			if _, err := sched.ScanNow(ctx, "updates installed"); err != nil {
				log.Warn("rescan after installing updates failed", "error", err.Error())
			}
		}()
	}
	for _, h := range []command.Handler{
		sched.ScanHandler(),
		runWorklet,
	} {
		if err := d.AddHandler(h); err != nil {
			cleanup()
			return nil, nil, err
		}
	}
	if err := d.AddService(sched.Run); err != nil {
		cleanup()
		return nil, nil, err
	}
	return d, cleanup, nil
}
