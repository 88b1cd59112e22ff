package checkin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/internal/retry"
	"github.com/amagent/amagent/agent/outbox"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

// KeyPlatformConfig is the state key of the last applied platform config.
const KeyPlatformConfig = "platform_config.json"

// Scan interval bounds, in hours (PROTOCOL.md).
const (
	MinScanHours = 6
	MaxScanHours = 24
)

// Defaults of the loop's knobs.
const (
	DefaultZonePoll = time.Minute
	DefaultMaxChain = 100
	// MinInterval is the shortest check-in interval the platform may set.
	MinInterval = time.Second
)

// LoopOptions configure a Loop. Zero values mean the documented defaults.
type LoopOptions struct {
	Client    *Client
	Processor *command.Processor
	Outbox    *outbox.Outbox
	// Store keeps the applied platform config across restarts.
	Store state.Store
	// Log receives the check-in lines (process=checkin last).
	Log *slog.Logger

	// Interval and Variance: each wait is Interval ± Variance (uniform).
	// The platform's checkin_interval replaces Interval.
	Interval, Variance time.Duration
	// RetryInitial and RetryMax shape the backoff after a failure.
	RetryInitial, RetryMax time.Duration
	// Jitter is the backoff's random fraction (0: none; <0: default 0.2).
	Jitter float64
	// Rand returns numbers in [0,1); nil means math/rand/v2.
	Rand func() float64
	// Zone returns the current system zone; nil means SystemZone.
	Zone func() *time.Location
	// ZonePoll is how often the UTC offset is compared (default 1m).
	ZonePoll time.Duration
	// MaxChain bounds the commands run in a row before the loop goes back
	// to its schedule (default 100).
	MaxChain int
	// OnConfig is called with the platform config at start (when one was
	// kept) and after each check-in that changed it.
	OnConfig func(protocol.Config)
	// KeepConfig returns what of a platform config may be written to the
	// state directory (KeyPlatformConfig) for the next start: secret
	// parameter values never are. Nil keeps no assignment's parameters.
	KeepConfig func(protocol.Config) protocol.Config
}

// Loop decides when to check in and handles the answers. Build it with
// NewLoop and run it with Run.
type Loop struct {
	o       LoopOptions
	backoff *retry.Backoff

	mu       sync.Mutex
	cfg      protocol.Config
	interval time.Duration
	kept     []byte // what KeyPlatformConfig holds

	// background counts the commands running beside the loop.
	background sync.WaitGroup

	// answered remembers the commands this run reported (interrupted.go).
	answered answeredSet

	// delta holds the digests of the sections the platform keeps
	// (scandelta.go).
	delta scanDelta
}

// NewLoop returns a loop with the platform config kept in Store applied.
func NewLoop(o LoopOptions) *Loop {
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Zone == nil {
		o.Zone = SystemZone
	}
	if o.ZonePoll <= 0 {
		o.ZonePoll = DefaultZonePoll
	}
	if o.MaxChain <= 0 {
		o.MaxChain = DefaultMaxChain
	}
	l := &Loop{o: o, interval: o.Interval}
	l.delta = scanDelta{store: o.Store, log: o.Log}
	l.delta.load() // a corrupt file is set aside at start, as the others are
	l.backoff = retry.New(o.RetryInitial, o.RetryMax, o.Jitter, o.Rand)
	l.loadConfig()
	return l
}

// Config returns the platform config in force (zero before the first).
func (l *Loop) Config() protocol.Config {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// Interval returns the check-in interval in force.
func (l *Loop) Interval() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.interval
}

func (l *Loop) loadConfig() {
	if l.o.Store == nil {
		return
	}
	b, err := l.o.Store.Read(KeyPlatformConfig)
	if err != nil {
		if !state.IsNotExist(err) {
			l.o.Log.Error("cannot read the kept platform config", "error", err)
		}
		return
	}
	l.kept = b
	var pc protocol.Config
	if err := json.Unmarshal(b, &pc); err != nil {
		moved := ""
		if q, ok := l.o.Store.(interface {
			Quarantine(string) (string, error)
		}); ok {
			moved, _ = q.Quarantine(KeyPlatformConfig)
		}
		l.o.Log.Error("corrupt platform config kept aside; using defaults until the next check-in", "error", err, "moved_to", moved)
		return
	}
	l.apply(pc, false)
}

// applyConfig merges a platform config into the one in force, clamps it,
// keeps it in the store and tells OnConfig, when anything changed.
func (l *Loop) applyConfig(in protocol.Config) {
	l.mu.Lock()
	cur := l.cfg
	l.mu.Unlock()
	next := cur
	if in.CheckinInterval != 0 {
		next.CheckinInterval = in.CheckinInterval
	}
	if in.ScanInterval != 0 {
		next.ScanInterval = in.ScanInterval
	}
	if in.Worklets != nil {
		next.Worklets = in.Worklets
	}
	l.apply(next, true)
}

func (l *Loop) apply(pc protocol.Config, fresh bool) {
	requested := pc.ScanInterval
	if pc.ScanInterval != 0 {
		pc.ScanInterval = min(max(pc.ScanInterval, MinScanHours), MaxScanHours)
	}
	badInterval := pc.CheckinInterval < 0
	if badInterval {
		pc.CheckinInterval = 0
	}
	l.mu.Lock()
	old := l.cfg
	l.cfg = pc
	if pc.CheckinInterval > 0 {
		l.interval = max(time.Duration(pc.CheckinInterval)*time.Second, MinInterval)
	}
	interval := l.interval
	l.mu.Unlock()
	if fresh {
		l.keep(pc)
	}

	oldB, _ := json.Marshal(old)
	newB, _ := json.Marshal(pc)
	if fresh && bytes.Equal(oldB, newB) {
		return
	}
	if requested != pc.ScanInterval {
		l.o.Log.Warn("scan interval clamped", "requested_hours", requested, "applied_hours", pc.ScanInterval)
	}
	if badInterval {
		l.o.Log.Warn("ignoring negative checkin_interval")
	}
	if fresh {
		l.o.Log.Info("applied platform config", "checkin_interval", interval, "scan_interval_hours", pc.ScanInterval, "worklets", len(pc.Worklets))
	}
	if l.o.OnConfig != nil {
		l.o.OnConfig(pc)
	}
}

// keep writes what of pc may be kept (KeepConfig) to the store when it
// differs from what is there: also when only that changed (an assignment's
// bundle arrived, so its non-secret parameters can now be kept).
func (l *Loop) keep(pc protocol.Config) {
	if l.o.Store == nil {
		return
	}
	var kept protocol.Config
	if l.o.KeepConfig != nil {
		kept = l.o.KeepConfig(pc)
	} else {
		kept = pc
		kept.Worklets = nil
		for _, a := range pc.Worklets {
			a.Params = nil
			kept.Worklets = append(kept.Worklets, a)
		}
		if pc.Worklets != nil && kept.Worklets == nil {
			kept.Worklets = []protocol.Assignment{}
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return
	}
	l.mu.Lock()
	same := bytes.Equal(b, l.kept)
	l.mu.Unlock()
	if same {
		return
	}
	if err := l.o.Store.Write(KeyPlatformConfig, b); err != nil {
		l.o.Log.Error("cannot keep the platform config", "error", err)
		return
	}
	l.mu.Lock()
	l.kept = b
	l.mu.Unlock()
}

// nextInterval is the interval in force ± a random variance, to the
// millisecond. The variance is at most half the interval.
func (l *Loop) nextInterval() time.Duration {
	iv := l.Interval()
	v := min(l.o.Variance, iv/2)
	d := iv + time.Duration((l.o.Rand()*2-1)*float64(v))
	return max(d.Round(time.Millisecond), time.Millisecond)
}

func offsetOf(loc *time.Location) int {
	_, off := time.Now().In(loc).Zone()
	return off
}

// Run checks in at once, then on schedule, until ctx is done. It returns
// nil when ctx is done (after the background commands it started have
// ended: they stop with ctx); it never gives up on a failing platform.
func (l *Loop) Run(ctx context.Context) error {
	defer l.background.Wait()
	for {
		offset := offsetOf(l.o.Zone())
		wait := l.cycle(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if !l.sleep(ctx, wait, offset) {
			return nil
		}
	}
}

// sleep waits d, returning early (true) when the UTC offset differs from
// offset, and false when ctx is done.
func (l *Loop) sleep(ctx context.Context, d time.Duration, offset int) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	tick := time.NewTicker(l.o.ZonePoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		case <-tick.C:
			if now := offsetOf(l.o.Zone()); now != offset {
				l.o.Log.Info("timezone offset changed; checking in out of cycle",
					"from", formatOffset(offset), "to", formatOffset(now))
				return true
			}
		}
	}
}

func formatOffset(sec int) string {
	return time.Unix(0, 0).In(time.FixedZone("", sec)).Format("-0700")
}

// cycle checks in, runs any command and checks in again until the
// platform answers nop; it returns the wait until the next check-in.
func (l *Loop) cycle(ctx context.Context) time.Duration {
	for n := 0; ; n++ {
		l.o.Log.Info("attempting")
		resp, _, err := l.o.Client.Checkin(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return 0
			}
			wait := l.backoff.Next().Round(time.Millisecond)
			l.o.Log.Error("checkin failed", "error", err.Error(), "next_in", wait)
			return wait
		}
		l.backoff.Reset()
		l.o.Log.Info("received command", "command", resp.Command)
		if resp.Config != nil {
			l.applyConfig(*resp.Config)
		}
		// A result waiting in the outbox (from before a restart) is
		// delivered below: its command, offered again meanwhile, is not
		// run a second time (interrupted.go).
		waiting := resp.ID != 0 && l.resultWaiting(resp.ID)
		l.flush(ctx)
		switch {
		case waiting || (resp.ID != 0 && l.answered.has(resp.ID)):
			l.o.Log.Info("command already answered; its result was delivered, not run again", "command_id", resp.ID)
		case resp.Command == protocol.CmdNop:
			wait := l.nextInterval()
			l.o.Log.Info("complete", "next_in", wait)
			return wait
		default:
			l.runCommand(ctx, resp)
			if ctx.Err() != nil {
				return 0
			}
		}
		if n+1 >= l.o.MaxChain {
			wait := l.nextInterval()
			l.o.Log.Warn("too many commands in a row; back to the schedule", "commands", n+1)
			l.o.Log.Info("complete", "next_in", wait)
			return wait
		}
		l.o.Log.Info("complete", "next_in", time.Duration(0))
	}
}

// runCommand runs a command and reports its result. A background
// command (a scan) runs in its own goroutine and reports when it ends: a
// check-in never waits for a scan (PROTOCOL.md).
func (l *Loop) runCommand(ctx context.Context, resp protocol.CheckinResponse) {
	run := func() {
		res := l.o.Processor.Execute(ctx, command.Command{ID: resp.ID, Type: resp.Command, Params: resp.Params})
		if ctx.Err() != nil && interrupted(res) {
			// Cut short by the agent's own shutdown: no result, so that
			// the platform offers it again to the next run (interrupted.go).
			l.o.Log.Warn("command interrupted by the agent's shutdown; not reported, the platform offers it again after the restart", "command_id", resp.ID, "command", resp.Command)
			return
		}
		l.answered.add(resp.ID)
		if err := l.Report(ctx, outbox.KindResult, fmt.Sprintf(protocol.PathResult, resp.ID), res); err != nil {
			l.o.Log.Error("command result not kept", "command_id", resp.ID, "error", err)
		}
	}
	if l.o.Processor.Table != nil && l.o.Processor.Table.Background(resp.Command) {
		l.background.Add(1)
		go func() {
			defer l.background.Done()
			run()
		}()
		return
	}
	run()
}

// Report keeps a report in the outbox and tries to deliver everything
// waiting there, in order. A delivery failure is not an error: the
// report stays in the outbox for after the next successful check-in.
func (l *Loop) Report(ctx context.Context, kind, path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", kind, err)
	}
	if err := l.o.Outbox.Add(kind, path, b); err != nil {
		return err
	}
	l.flush(ctx)
	return nil
}

func (l *Loop) flush(ctx context.Context) {
	if l.o.Outbox.Len() == 0 {
		return
	}
	sent, err := l.o.Outbox.Flush(ctx, func(ctx context.Context, it outbox.Item) error {
		if it.Kind == outbox.KindScan && it.Path == protocol.PathScan {
			return l.sendScan(ctx, it)
		}
		return l.o.Client.Post(ctx, it.Path, it.Body)
	})
	if err != nil && ctx.Err() == nil {
		l.o.Log.Warn("outbox not delivered; will retry after the next check-in", "delivered", sent, "waiting", l.o.Outbox.Len(), "error", err.Error())
	} else if sent > 0 {
		l.o.Log.Info("outbox delivered", "delivered", sent)
	}
}
