// Package daemon wires the agent together: state, identity, outbox,
// command table, check-in loop and the extra services other packages plug
// in (the scan scheduler, the wasm sandbox's commands).
//
// Plugging in:
//   - Options.Handlers (or AddHandler before Run) adds command handlers to
//     the one command table: execCmd, scan, runWorklet, InstallUpdate...
//   - Options.Services (or AddService before Run) adds long-running
//     components, each Run(ctx) error, stopped by cancelling ctx.
//   - Options.OnConfig is called with the platform config in force: at
//     start when one was kept in state, then after each check-in that
//     changed it. PlatformConfig returns it at any time.
//   - ReportScan and ReportResult deliver through the outbox, so nothing
//     is lost when the platform cannot be reached.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/amagent/amagent/agent/checkin"
	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/identity"
	"github.com/amagent/amagent/agent/internal/httpx"
	"github.com/amagent/amagent/agent/logging"
	"github.com/amagent/amagent/agent/outbox"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/reboot"
	"github.com/amagent/amagent/agent/state"
	"github.com/amagent/amagent/agent/version"
)

// ShutdownGrace is how long Run waits for services after ctx is done.
const ShutdownGrace = 3 * time.Second

// Options configure a Daemon. Config and Log are required.
type Options struct {
	Config config.Config
	// Log is the agent's logger (amagent.log); the check-in lines get
	// process=checkin added, the command lines are written as they are.
	Log *slog.Logger
	// Handlers are extra command handlers (execCmd, scan, runWorklet,
	// InstallUpdate, ...). nop and reboot are built in.
	Handlers []command.Handler
	// Services are extra long-running components; each returns when its
	// ctx is done. An error from one is logged; the agent carries on.
	Services []func(ctx context.Context) error
	// OnConfig is called with each platform config applied (see package
	// doc). It runs on the check-in goroutine: keep it quick.
	OnConfig func(protocol.Config)
	// KeepConfig returns what of a platform config may be kept in the
	// state directory for the next start (no secret parameter value);
	// nil keeps no assignment's parameters (checkin.LoopOptions).
	KeepConfig func(protocol.Config) protocol.Config

	// For tests; zero values mean the real thing.
	HTTP   *http.Client
	Zone   func() *time.Location
	Rand   func() float64
	Uptime func(context.Context) (time.Duration, error)
	// OutboxMaxBytes bounds the outbox (0: outbox.DefaultMaxBytes).
	OutboxMaxBytes int64
}

// Daemon is the running agent.
type Daemon struct {
	cfg       config.Config
	log       *slog.Logger
	store     *state.FileStore
	id        *identity.Identity
	box       *outbox.Outbox
	table     *command.Table
	processor *command.Processor
	loop      *checkin.Loop
	client    *checkin.Client

	mu       sync.Mutex
	services []func(ctx context.Context) error
	running  bool
}

// New opens the state directory and builds the agent. It fails only on
// what the agent cannot run without (an unusable state directory, a bad
// command table); corrupt state is rebuilt.
func New(o Options) (*Daemon, error) {
	if o.Log == nil {
		return nil, errors.New("daemon: no logger")
	}
	// The config is taken as it is (config.Load applied the defaults;
	// code that builds one calls ApplyDefaults): an explicit zero such
	// as variance = "0s" must stay zero.
	cfg := o.Config
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	store, err := state.NewFileStore(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	id, err := identity.Load(store, o.Log)
	if err != nil {
		return nil, err
	}
	box, err := outbox.Open(store, o.OutboxMaxBytes, o.Log)
	if err != nil {
		return nil, err
	}
	builtins := []command.Handler{
		{Type: protocol.CmdNop, Processor: command.ProcessorLegacy, Run: func(context.Context, []string) (any, error) { return nil, nil }},
		reboot.Handler(reboot.Options{Log: o.Log, DryRun: cfg.DryRun}),
	}
	table, err := command.NewTable(append(builtins, o.Handlers...)...)
	if err != nil {
		return nil, err
	}
	hc := o.HTTP
	if hc == nil {
		hc = httpx.NewClient(0, 0)
	}
	hostname, err := os.Hostname()
	if err != nil {
		o.Log.Warn("cannot read the host name; enrolling without it", "error", err)
	}
	clog := logging.WithProcess(o.Log, "checkin")
	client := &checkin.Client{
		Server:   cfg.Server,
		HTTP:     hc,
		Identity: id,
		Enroller: &identity.Enroller{Server: trimSlash(cfg.Server), AccessKey: cfg.AccessKey, Hostname: hostname, HTTP: hc},
		Version:  version.Version,
		Uptime:   o.Uptime,
		Zone:     o.Zone,
		Log:      clog,
	}
	d := &Daemon{
		cfg:       cfg,
		log:       o.Log,
		store:     store,
		id:        id,
		box:       box,
		table:     table,
		processor: &command.Processor{Log: o.Log, Table: table},
		client:    client,
		services:  append([]func(context.Context) error(nil), o.Services...),
	}
	d.loop = checkin.NewLoop(checkin.LoopOptions{
		Client:       client,
		Processor:    d.processor,
		Outbox:       box,
		Store:        store,
		Log:          clog,
		Interval:     cfg.Checkin.Interval,
		Variance:     cfg.Checkin.Variance,
		RetryInitial: cfg.Checkin.RetryInitial,
		RetryMax:     cfg.Checkin.RetryMax,
		Jitter:       -1,
		Rand:         o.Rand,
		Zone:         o.Zone,
		OnConfig:     o.OnConfig,
		KeepConfig:   o.KeepConfig,
	})
	return d, nil
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// AddHandler adds a command handler; call it before Run.
func (d *Daemon) AddHandler(h command.Handler) error { return d.table.Add(h) }

// AddService adds a long-running component; call it before Run.
func (d *Daemon) AddService(s func(ctx context.Context) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running {
		return errors.New("daemon: AddService after Run")
	}
	d.services = append(d.services, s)
	return nil
}

// Processor is the one command processor (logs the seed's command lines);
// the scan runs its collectors through it.
func (d *Daemon) Processor() *command.Processor { return d.processor }

// Fetch GETs a document from the platform with the device's credentials
// (a worklet bundle), reading at most 64 MiB.
func (d *Daemon) Fetch(ctx context.Context, path string) ([]byte, error) {
	return d.client.Get(ctx, path, 64<<20)
}

// Store is the agent's state store (state_dir).
func (d *Daemon) Store() *state.FileStore { return d.store }

// DeviceUUID is the device's UUID.
func (d *Daemon) DeviceUUID() string { return d.id.UUID() }

// Config is the agent's configuration (amagent.toml, defaults applied).
func (d *Daemon) Config() config.Config { return d.cfg }

// PlatformConfig is the platform config in force.
func (d *Daemon) PlatformConfig() protocol.Config { return d.loop.Config() }

// ReportScan delivers a scan to POST /scan through the outbox: it is kept
// in the state directory and sent now if the platform can be reached, else
// after the next successful check-in. An error means it could not even be
// kept.
func (d *Daemon) ReportScan(ctx context.Context, r protocol.ScanReport) error {
	return d.loop.Report(ctx, outbox.KindScan, protocol.PathScan, r)
}

// ReportResult delivers a command result to POST /commands/<id>/result
// through the outbox, like ReportScan.
func (d *Daemon) ReportResult(ctx context.Context, id int64, r protocol.CommandResult) error {
	return d.loop.Report(ctx, outbox.KindResult, fmt.Sprintf(protocol.PathResult, id), r)
}

// Run runs the check-in loop and the services until ctx is done, then
// waits (at most ShutdownGrace) for the services and returns nil.
func (d *Daemon) Run(ctx context.Context) error {
	d.mu.Lock()
	if d.running {
		d.mu.Unlock()
		return errors.New("daemon: Run called twice")
	}
	d.running = true
	services := d.services
	d.mu.Unlock()

	d.log.Info("agent starting", "version", version.Version, "device_uuid", d.id.UUID(), "server", d.cfg.Server,
		"state_dir", d.cfg.StateDir, "dry_run", d.cfg.DryRun, "commands", fmt.Sprint(d.table.Types()), "outbox_items", d.box.Len())
	if d.cfg.AccessKey == "" && d.id.Token() == "" {
		d.log.Warn("access_key is empty and the device is not enrolled: enrollment will fail until access_key is set")
	}

	var wg sync.WaitGroup
	for i, s := range services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					d.log.Error("service panicked", "service", i, "panic", fmt.Sprint(r))
				}
			}()
			if err := s(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("service stopped", "service", i, "error", err)
			}
		}()
	}
	err := d.loop.Run(ctx)

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(ShutdownGrace):
		d.log.Warn("services did not stop in time; exiting anyway", "grace", ShutdownGrace)
	}
	d.log.Info("agent stopped", "outbox_items", d.box.Len())
	return err
}
