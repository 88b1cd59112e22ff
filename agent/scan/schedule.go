package scan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/state"
)

// Scan intervals (the device group's scan_interval, in hours).
const (
	MinScanInterval     = 6 * time.Hour
	MaxScanInterval     = 24 * time.Hour
	DefaultScanInterval = 24 * time.Hour
)

// Reasons a scan runs, reported in protocol.ScanReport.Reason.
const (
	ReasonBoot     = "boot"
	ReasonInterval = "interval"
	ReasonCommand  = "command"
	ReasonManual   = "manual"
)

// StateKey is the state Store key holding the boot seen at the last scan
// and when that scan ran.
const StateKey = "scan.json"

// bootTimeTolerance absorbs the second-level jitter of a boot time computed
// from the clock and the uptime.
const bootTimeTolerance = time.Minute

// scanState is what the Scheduler remembers between runs.
type scanState struct {
	BootID   string    `json:"boot_id"`
	BootTime time.Time `json:"boot_time"`
	LastScan time.Time `json:"last_scan"`
}

// Scheduler decides when scans run: once after every boot (the boot id or
// boot time differs from the one recorded at the last scan), every scan
// interval with a small random spread, and on demand (the platform's scan
// command). All scans run in Run's goroutine, so there are never two at
// once; requests that arrive during a scan are coalesced into one scan
// after it.
type Scheduler struct {
	Scanner *Scanner
	Store   state.Store
	// Report delivers a finished scan (POST /scan, or the outbox when
	// offline). An error is logged and returned to on-demand requesters.
	Report func(ctx context.Context, r protocol.ScanReport) error
	Log    *slog.Logger // nil discards
	// Boot reads the current boot; nil means the platform's collector on
	// Scanner.Env.
	Boot func(ctx context.Context) (scandoc.Boot, error)
	// Jitter returns the random spread added to one interval; nil means
	// uniform within ±interval/48 (±30 min at 24 h, ±7.5 min at 6 h).
	Jitter func(interval time.Duration) time.Duration
	// Now is the wall clock (nil means time.Now). It is read only for
	// what outlives the process: the time of the last scan kept in
	// StateKey, and the wait left after a restart, which is clamped to
	// one interval. Waits within a run are timers on the monotonic clock,
	// so a wall-clock jump neither brings a scan forward nor holds one
	// back.
	Now func() time.Time

	mu       sync.Mutex
	interval time.Duration
	changed  chan struct{}
	reqs     chan *scanRequest
}

type scanRequest struct {
	reason string
	done   chan scanOutcome
}

type scanOutcome struct {
	report protocol.ScanReport
	err    error
}

// NewScheduler returns a Scheduler with the default interval.
func NewScheduler(s *Scanner, store state.Store, report func(context.Context, protocol.ScanReport) error) *Scheduler {
	return &Scheduler{
		Scanner:  s,
		Store:    store,
		Report:   report,
		interval: DefaultScanInterval,
		changed:  make(chan struct{}, 1),
		reqs:     make(chan *scanRequest),
	}
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// ClampInterval turns a scan_interval in hours into a duration within 6-24
// hours; zero or negative means the default.
func ClampInterval(hours int) time.Duration {
	if hours <= 0 {
		return DefaultScanInterval
	}
	d := time.Duration(hours) * time.Hour
	return min(max(d, MinScanInterval), MaxScanInterval)
}

// SetInterval sets the scan interval from the platform's scan_interval
// (hours, clamped to 6-24; zero or negative keeps the current one). It
// takes effect at once: the next scan is rescheduled from the last one.
func (s *Scheduler) SetInterval(hours int) {
	if hours <= 0 {
		return
	}
	d := ClampInterval(hours)
	if d != time.Duration(hours)*time.Hour {
		s.log().Warn("scan interval out of range, clamped", "scan_interval_hours", hours, "using", d)
	}
	s.mu.Lock()
	same := s.interval == d
	s.interval = d
	s.mu.Unlock()
	if !same {
		select {
		case s.changed <- struct{}{}:
		default:
		}
	}
}

// Interval is the current scan interval.
func (s *Scheduler) Interval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interval
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// untilWall is the wait until a time read from the wall clock (the last
// scan kept before a restart), never more than max: a clock set back
// after that scan must not hold the next one back by the jump.
func (s *Scheduler) untilWall(at time.Time, limit time.Duration) time.Duration {
	return min(max(at.Sub(s.now()), 0), limit)
}

func (s *Scheduler) jitter(d time.Duration) time.Duration {
	if s.Jitter != nil {
		return s.Jitter(d)
	}
	spread := int64(d / 48)
	if spread <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(2*spread+1) - spread)
}

func (s *Scheduler) currentBoot(ctx context.Context) (scandoc.Boot, error) {
	if s.Boot != nil {
		return s.Boot(ctx)
	}
	return platform.Boot(ctx, s.Scanner.env())
}

func (s *Scheduler) loadState() (scanState, bool) {
	var st scanState
	b, err := s.Store.Read(StateKey)
	if err != nil {
		if !state.IsNotExist(err) {
			s.log().Warn("reading scan state", "error", err.Error())
		}
		return st, false
	}
	if err := json.Unmarshal(b, &st); err != nil {
		state.SetAside(s.Store, StateKey, "scan (scanning as after a reboot)", err, s.log())
		return scanState{}, false
	}
	return st, true
}

// rebooted compares the current boot with the one recorded at the last
// scan: by boot id when both have one, else by boot time.
func rebooted(prev scanState, cur scandoc.Boot) bool {
	if prev.BootID != "" && cur.ID != "" {
		return prev.BootID != cur.ID
	}
	if prev.BootTime.IsZero() || cur.Time.IsZero() {
		return true
	}
	d := prev.BootTime.Sub(cur.Time)
	return d > bootTimeTolerance || d < -bootTimeTolerance
}

// Run schedules scans until ctx is done, then returns nil.
func (s *Scheduler) Run(ctx context.Context) error {
	if s.reqs == nil || s.changed == nil || s.Scanner == nil || s.Store == nil {
		return errors.New("scan scheduler: use NewScheduler with a Scanner and a Store")
	}
	prev, ok := s.loadState()
	boot, err := s.currentBoot(ctx)
	if err != nil {
		s.log().Warn("reading boot identity", "error", err.Error())
	}
	// Within a run every wait is a timer from a monotonic reading
	// (lastMono, time.Now()); only the wait left after a restart comes
	// from the wall clock (untilWall, clamped to one interval).
	timerReason := ReasonInterval
	var wait time.Duration
	switch {
	case !ok || rebooted(prev, boot):
		timerReason = ReasonBoot
	case prev.LastScan.IsZero():
	default:
		iv := s.Interval()
		wait = s.untilWall(prev.LastScan.Add(iv+s.jitter(iv)), iv+iv/48)
	}
	scanned := !prev.LastScan.IsZero()
	var lastMono time.Time // zero until this run scans
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		var reqs []*scanRequest
		reason := timerReason
		select {
		case <-ctx.Done():
			return nil
		case <-s.changed:
			// A scan that is due now (after a boot, or never scanned) stays
			// due: the new interval applies from the scan after it.
			if timerReason == ReasonBoot || !scanned {
				continue
			}
			iv := s.Interval()
			var d time.Duration
			if lastMono.IsZero() {
				// Not scanned in this run: from the last scan kept.
				d = s.untilWall(prev.LastScan.Add(iv+s.jitter(iv)), iv+iv/48)
			} else {
				d = max(time.Until(lastMono.Add(iv+s.jitter(iv))), 0)
			}
			timer.Reset(d)
			s.log().Info("scan rescheduled", "interval", iv, "next_in", d.Round(time.Second))
			continue
		case <-timer.C:
		case r := <-s.reqs:
			reqs, reason = []*scanRequest{r}, r.reason
		}
		rep, err := s.scanOnce(ctx, reason)
		// Requests that arrived during the scan share one scan after it.
		for waiting := s.answer(reqs, rep, err); len(waiting) > 0; waiting = s.answer(waiting, rep, err) {
			rep, err = s.scanOnce(ctx, waiting[0].reason)
		}
		lastMono, scanned = time.Now(), true
		timerReason = ReasonInterval
		iv := s.Interval()
		next := iv + s.jitter(iv)
		timer.Reset(next)
		s.log().Info("next scan", "next_in", next.Round(time.Second))
	}
}

// answer hands the outcome to the requests of this scan and returns the
// requests that queued up meanwhile (drained without blocking).
func (s *Scheduler) answer(reqs []*scanRequest, rep protocol.ScanReport, err error) []*scanRequest {
	for _, r := range reqs {
		r.done <- scanOutcome{rep, err}
	}
	var waiting []*scanRequest
	for {
		select {
		case r := <-s.reqs:
			waiting = append(waiting, r)
		default:
			return waiting
		}
	}
}

// scanOnce runs one scan, records the boot it ran in, and reports it.
func (s *Scheduler) scanOnce(ctx context.Context, reason string) (protocol.ScanReport, error) {
	s.log().Info("scan starting", "reason", reason)
	rep, err := s.Scanner.Scan(ctx, reason)
	if err != nil {
		s.log().Error("scan failed", "reason", reason, "error", err.Error())
		return rep, err
	}
	if ctx.Err() != nil {
		// Cut short by shutdown: neither recorded nor reported, so the
		// next start scans again.
		return rep, fmt.Errorf("scan interrupted: %w", ctx.Err())
	}
	st := scanState{LastScan: s.now().UTC()}
	if b, berr := s.currentBoot(ctx); berr == nil {
		st.BootID, st.BootTime = b.ID, b.Time
	}
	if b, merr := json.Marshal(st); merr == nil {
		if werr := s.Store.Write(StateKey, b); werr != nil {
			s.log().Error("saving scan state", "error", werr.Error())
		}
	}
	s.log().Info("scan complete", "reason", reason, "scan_id", rep.ScanID, "elapsed_ms", rep.ElapsedMS)
	if s.Report != nil {
		if rerr := s.Report(ctx, rep); rerr != nil {
			s.log().Error("reporting scan", "scan_id", rep.ScanID, "error", rerr.Error())
			return rep, fmt.Errorf("reporting scan %s: %w", rep.ScanID, rerr)
		}
	}
	return rep, nil
}

// ScanNow asks Run for a scan and waits for it. A request made while a scan
// is running is served by one scan right after it, shared with every other
// request made meanwhile. It blocks until ctx is done when Run is not
// running.
func (s *Scheduler) ScanNow(ctx context.Context, reason string) (protocol.ScanReport, error) {
	r := &scanRequest{reason: reason, done: make(chan scanOutcome, 1)}
	select {
	case s.reqs <- r:
	case <-ctx.Done():
		return protocol.ScanReport{}, ctx.Err()
	}
	select {
	case o := <-r.done:
		return o.report, o.err
	case <-ctx.Done():
		return protocol.ScanReport{}, ctx.Err()
	}
}

// ScanSummary is the output of the scan command: the scan itself goes to
// POST /scan.
type ScanSummary struct {
	ScanID    string `json:"scan_id"`
	ElapsedMS int64  `json:"elapsed_ms"`
	Errors    int    `json:"collector_errors"`
}

// ScanHandler is the handler of the platform's scan command: it asks Run
// for a scan, waits for it to be done and reported, and answers with its
// id. It is a background command: the check-in loop goes on checking in,
// running other commands and delivering results while it waits. A scan
// command that arrives while a scan runs is queued, not joined: it is
// answered by the next scan, which starts when the running one ends and
// is shared by every request made meanwhile (the operator asked for the
// state as of now, which the running scan may have read before).
func (s *Scheduler) ScanHandler() command.Handler {
	return command.Handler{
		Type:       protocol.CmdScan,
		Processor:  command.ProcessorLegacy,
		Background: true,
		Run: func(ctx context.Context, params []string) (any, error) {
			rep, err := s.ScanNow(ctx, ReasonCommand)
			if err != nil {
				return nil, err
			}
			var d struct {
				Errors map[string]string `json:"errors"`
			}
			_ = json.Unmarshal(rep.Scan, &d)
			return ScanSummary{ScanID: rep.ScanID, ElapsedMS: rep.ElapsedMS, Errors: len(d.Errors)}, nil
		},
	}
}
