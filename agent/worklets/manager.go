// Package worklets manages the worklets and policies assigned to a device:
// it downloads their bundles from the platform, verifies them against the
// trusted platform keys, caches them in the state directory, evaluates them
// in every scan in parallel (each run logged as a wasm command), remediates
// the non-compliant ones when their assignment says so, quarantines a module
// that fails by its own fault three scans in a row until its version changes
// or the platform releases it, and hands a patch policy's decision to the
// update installer.
package worklets

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
	"github.com/amagent/amagent/agent/updates"
	"github.com/amagent/amagent/host"
)

// Phases of a worklet run.
const (
	PhaseEvaluate  = "evaluate"
	PhaseRemediate = "remediate"
)

// Statuses reported for a worklet or policy.
const (
	StatusCompliant     = "compliant"
	StatusNonCompliant  = "non-compliant"
	StatusNotApplicable = "not-applicable"
	StatusSucceeded     = "succeeded"
	StatusFailed        = "failed"
	StatusError         = "error"
	StatusQuarantined   = "quarantined"
)

// QuarantineAfter is how many scans in a row a module may fail by its own
// fault (host.ModuleFault: trap, timeout, memory limit, exit code, load,
// compile limit) before it is quarantined until its version changes or the
// platform releases it. Cancellation (the agent shutting down) and the
// agent's own failures (I/O, cache, download, disk) neither count nor
// reset the count.
const QuarantineAfter = 3

// Sandbox runs one phase of a verified bundle. The agent's implementation
// is the wazero host (host package); tests use a fake.
type Sandbox interface {
	Run(ctx context.Context, b *Bundle, phase string, scanJSON []byte) protocol.WorkletResult
}

// Fetcher gets a bundle document from the platform (an authenticated GET of
// the assignment's URL).
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// Installer installs the named pending updates (the InstallUpdate command)
// and says whether the machine changed (false in dry-run mode).
type Installer func(ctx context.Context, names []string) (changed bool, err error)

// Manager is the device's set of assigned worklets and policies.
type Manager struct {
	Log         *slog.Logger
	Cache       *Cache
	Fetch       Fetcher
	TrustedKeys []ed25519.PublicKey
	Sandbox     Sandbox
	Store       state.Store // health (error streaks, remediation times)
	Now         func() time.Time
	// Parallel bounds concurrent evaluations; 0 means runtime.NumCPU().
	Parallel int
	// Install carries out a patch policy's decision; nil disables it.
	Install Installer
	// Rescan asks for a new scan after updates were installed.
	Rescan func()
	// Collect makes a scan document when runWorklet comes before any scan.
	Collect func(ctx context.Context) ([]byte, error)

	mu          sync.Mutex
	assignments []protocol.Assignment
	health      map[string]*health
	lastStatus  map[string]string // name -> last evaluate status
	lastScan    []byte
}

type health struct {
	Version       string    `json:"version"`
	ErrorStreak   int       `json:"error_streak"`
	Quarantined   bool      `json:"quarantined"`
	LastError     string    `json:"last_error,omitempty"`
	LastRemediate time.Time `json:"last_remediate,omitempty"`
	// Release is the platform's release counter last seen for the
	// worklet (protocol.Assignment.Release); a higher one lifts the
	// quarantine. ReleaseSeen tells 0 seen from never seen.
	Release     int64 `json:"release,omitempty"`
	ReleaseSeen bool  `json:"release_seen,omitempty"`
}

const healthKey = "worklets-health.json"

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// SetAssignments replaces the assigned worklets (from a check-in config).
// An assignment whose release counter grew since the last config lifts
// the worklet's quarantine (`amplatform worklet release`).
func (m *Manager) SetAssignments(as []protocol.Assignment) {
	cp := append([]protocol.Assignment(nil), as...)
	sort.Slice(cp, func(i, j int) bool { return cp[i].Name < cp[j].Name })
	m.mu.Lock()
	defer m.mu.Unlock()
	m.assignments = cp
	m.loadHealth()
	changed := false
	for _, a := range cp {
		h := m.health[a.Name]
		if h == nil {
			h = &health{Version: a.Version}
			m.health[a.Name] = h
		}
		if h.ReleaseSeen && a.Release > h.Release && h.Quarantined {
			m.Log.Warn("worklet released from quarantine by the platform", "worklet", a.Name, "version", a.Version, "release", a.Release, "last_error", h.LastError)
			h.Quarantined, h.ErrorStreak, h.LastError = false, 0, ""
		}
		if !h.ReleaseSeen || a.Release != h.Release {
			h.Release, h.ReleaseSeen, changed = a.Release, true, true
		}
	}
	if changed {
		m.saveHealth()
	}
}

// Assignments returns the current assignments.
func (m *Manager) Assignments() []protocol.Assignment {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]protocol.Assignment(nil), m.assignments...)
}

func (m *Manager) loadHealth() {
	if m.health != nil {
		return
	}
	m.health = map[string]*health{}
	m.lastStatus = map[string]string{}
	if m.Store == nil {
		return
	}
	b, err := m.Store.Read(healthKey)
	if err != nil {
		if !state.IsNotExist(err) {
			m.Log.Warn("worklet health state unreadable, starting afresh", "error", err.Error())
		}
		return
	}
	if err := json.Unmarshal(b, &m.health); err != nil {
		state.SetAside(m.Store, healthKey, "worklet health", err, m.Log)
		m.health = map[string]*health{}
	}
}

func (m *Manager) saveHealth() {
	if m.Store == nil {
		return
	}
	b, _ := json.Marshal(m.health)
	if err := m.Store.Write(healthKey, b); err != nil {
		m.Log.Warn("could not save worklet health state", "error", err.Error())
	}
}

// bundleFor returns the verified bundle of an assignment, downloading it
// when it is not in the cache.
func (m *Manager) bundleFor(ctx context.Context, a protocol.Assignment) (*Bundle, error) {
	if b, err := m.Cache.Load(a, m.TrustedKeys); err == nil {
		return b, nil
	} else if !errors.Is(err, errNotCached) {
		m.Log.Warn("cached bundle refused, downloading again", "worklet", a.Name, "version", a.Version, "error", err.Error())
	}
	if m.Fetch == nil {
		return nil, fmt.Errorf("bundle %s@%s is not cached and there is no platform to fetch it from", a.Name, a.Version)
	}
	doc, err := m.Fetch(ctx, a.URL)
	if err != nil {
		return nil, fmt.Errorf("downloading bundle %s@%s: %w", a.Name, a.Version, err)
	}
	b, err := m.Cache.Store(a, doc, m.TrustedKeys)
	if err != nil {
		return nil, err
	}
	m.Log.Info("bundle verified and cached", "worklet", a.Name, "version", a.Version, "sha256", b.ModuleSHA256)
	return b, nil
}

// Evaluate runs every assigned worklet and policy against the scan document,
// in parallel up to the number of cores, and returns their results in name
// order. It is the scan's evaluation hook.
func (m *Manager) Evaluate(ctx context.Context, scanJSON []byte) []protocol.WorkletResult {
	as := m.Assignments()
	m.mu.Lock()
	m.lastScan = append([]byte(nil), scanJSON...)
	m.mu.Unlock()
	if len(as) == 0 {
		return nil
	}
	m.mu.Lock()
	m.loadHealth()
	m.mu.Unlock()

	par := m.Parallel
	if par <= 0 {
		par = runtime.NumCPU()
	}
	results := make([]protocol.WorkletResult, len(as))
	bundles := make([]*Bundle, len(as))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, a := range as {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i], bundles[i] = m.evaluateOne(ctx, a, scanJSON)
		}()
	}
	wg.Wait()

	// Remediation and patch policies run after every evaluation is in, one
	// at a time: they change the machine.
	for i, a := range as {
		if bundles[i] == nil {
			continue
		}
		if results[i].Status == StatusNonCompliant && a.Kind != "policy" && m.remediationDue(a) {
			results[i] = m.remediate(ctx, a, bundles[i], scanJSON, results[i])
		}
		// A policy's decision is carried out on the assignment's
		// remediation schedule too: installing updates is never implicit.
		if a.Kind == "policy" && results[i].Status == StatusNonCompliant && m.remediationDue(a) {
			m.carryOutPolicy(ctx, a, results[i])
		}
	}
	m.mu.Lock()
	m.saveHealth()
	m.mu.Unlock()
	return results
}

func (m *Manager) evaluateOne(ctx context.Context, a protocol.Assignment, scanJSON []byte) (protocol.WorkletResult, *Bundle) {
	key := a.Name
	m.mu.Lock()
	h := m.health[key]
	if h == nil || h.Version != a.Version {
		// A new version starts afresh; the release counter carries over.
		nh := &health{Version: a.Version}
		if h != nil {
			nh.Release, nh.ReleaseSeen = h.Release, h.ReleaseSeen
		}
		h = nh
		m.health[key] = h
	}
	quarantined := h.Quarantined
	lastErr := h.LastError
	m.mu.Unlock()
	base := protocol.WorkletResult{Name: a.Name, Version: a.Version, Kind: kindOf(a), Phase: PhaseEvaluate, Details: json.RawMessage("null")}
	if quarantined {
		base.Status = StatusQuarantined
		base.Error = fmt.Sprintf("quarantined after %d failed scans in a row until its version changes or `amplatform worklet release %s`; last error: %s", QuarantineAfter, a.Name, lastErr)
		return base, nil
	}
	b, err := m.bundleFor(ctx, a)
	if err != nil {
		m.Log.Error("worklet bundle refused", "worklet", a.Name, "version", a.Version, "error", err.Error())
		base.Status = StatusError
		base.Error = err.Error()
		// A download, a cache or a signature problem is never the
		// module's fault: it does not count towards quarantine.
		base.ErrorKind = host.KindHost
		if ctx.Err() != nil {
			base.ErrorKind = host.KindCanceled
		}
		return base, nil
	}
	r := m.run(ctx, a, b, PhaseEvaluate, scanJSON)
	m.mu.Lock()
	switch {
	case r.Status != StatusError:
		h.ErrorStreak = 0
		h.LastError = ""
	case ctx.Err() != nil || r.ErrorKind == host.KindCanceled:
		// Cut short by the agent (shutting down): whatever the module
		// said as it was stopped is not its failure, nor a success.
		r.ErrorKind = host.KindCanceled
	case host.ModuleFault(r.ErrorKind):
		h.ErrorStreak++
		h.LastError = r.Error
		if h.ErrorStreak >= QuarantineAfter {
			h.Quarantined = true
			m.Log.Warn("worklet quarantined", "worklet", a.Name, "version", a.Version, "error_streak", h.ErrorStreak, "error", r.Error)
		}
	default:
		m.Log.Info("worklet error not counted towards quarantine: not the module's fault", "worklet", a.Name, "version", a.Version, "error_kind", r.ErrorKind, "error", r.Error)
	}
	m.lastStatus[key] = r.Status
	m.mu.Unlock()
	return r, b
}

// run executes one phase through the command processor so that it is
// logged as a wasm command (accepted, executing, end).
func (m *Manager) run(ctx context.Context, a protocol.Assignment, b *Bundle, phase string, scanJSON []byte) protocol.WorkletResult {
	var out protocol.WorkletResult
	tbl, _ := command.NewTable(command.Handler{
		Type:      protocol.CmdRunWorklet,
		Processor: command.ProcessorWasm,
		Run: func(ctx context.Context, params []string) (any, error) {
			out = m.Sandbox.Run(ctx, b, phase, scanJSON)
			return nil, nil
		},
	})
	p := command.Processor{Log: m.Log, Table: tbl, Now: m.Now}
	p.Execute(ctx, command.Command{Type: protocol.CmdRunWorklet, Params: []string{a.Name, phase}})
	out.Name, out.Version, out.Kind, out.Phase = a.Name, a.Version, kindOf(a), phase
	if len(out.Details) == 0 {
		out.Details = json.RawMessage("null")
	}
	return out
}

// Find gives the wasm processor (runWorklet) an assigned worklet's
// verified bundle directory, its parameters and the latest scan document
// (collecting one with Collect when no scan has run yet).
func (m *Manager) Find(ctx context.Context, name string) (dir string, params map[string]any, scan []byte, err error) {
	for _, a := range m.Assignments() {
		if a.Name != name {
			continue
		}
		b, err := m.bundleFor(ctx, a)
		if err != nil {
			return "", nil, nil, err
		}
		m.mu.Lock()
		scan = m.lastScan
		m.mu.Unlock()
		if scan == nil && m.Collect != nil {
			if scan, err = m.Collect(ctx); err != nil {
				return "", nil, nil, fmt.Errorf("collecting a scan document: %w", err)
			}
		}
		if scan == nil {
			scan = []byte("{}")
		}
		return b.Dir, a.Params, scan, nil
	}
	return "", nil, nil, fmt.Errorf("no worklet named %q is assigned to this device", name)
}

// LatestScan returns the scan document of the last scan evaluated (the
// one a patch policy decided on), collecting one with Collect when no scan
// has run since the agent started.
func (m *Manager) LatestScan(ctx context.Context) ([]byte, error) {
	m.mu.Lock()
	scan := m.lastScan
	m.mu.Unlock()
	if scan != nil {
		return scan, nil
	}
	if m.Collect == nil {
		return nil, errors.New("no scan has run since the agent started")
	}
	scan, err := m.Collect(ctx)
	if err != nil {
		return nil, fmt.Errorf("collecting a scan document: %w", err)
	}
	return scan, nil
}

// remediationDue says whether a non-compliant worklet is to be remediated
// now: "immediately", or a daily "HH:MM" (device local time) that has come
// since the last remediation.
func (m *Manager) remediationDue(a protocol.Assignment) bool {
	switch a.Remediate {
	case "", "never":
		return false
	case "immediately":
		return true
	}
	at, err := time.Parse("15:04", a.Remediate)
	if err != nil {
		m.Log.Warn("assignment has a bad remediation time; not remediating", "worklet", a.Name, "remediate", a.Remediate)
		return false
	}
	now := m.now()
	due := time.Date(now.Year(), now.Month(), now.Day(), at.Hour(), at.Minute(), 0, 0, now.Location())
	if now.Before(due) {
		due = due.AddDate(0, 0, -1)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	h := m.health[a.Name]
	return h == nil || h.LastRemediate.Before(due)
}

func (m *Manager) remediate(ctx context.Context, a protocol.Assignment, b *Bundle, scanJSON []byte, eval protocol.WorkletResult) protocol.WorkletResult {
	m.mu.Lock()
	if h := m.health[a.Name]; h != nil {
		h.LastRemediate = m.now()
	}
	m.mu.Unlock()
	rr := m.run(ctx, a, b, PhaseRemediate, scanJSON)
	m.Log.Info("worklet remediated", "worklet", a.Name, "status", rr.Status, "error", rr.Error)
	if rr.Status != StatusSucceeded {
		eval.Error = strings.TrimSpace("remediation " + rr.Status + ": " + rr.Error + " " + rr.Message)
		return eval
	}
	// Evaluate again: the scan reports the state after remediation.
	again := m.run(ctx, a, b, PhaseEvaluate, scanJSON)
	again.Message = strings.TrimSpace(again.Message + " (after remediation)")
	return again
}

// PatchDecision is what a patch policy writes in its details.
type PatchDecision struct {
	Install []string `json:"install"`
	Pending int      `json:"pending"`
}

func (m *Manager) carryOutPolicy(ctx context.Context, a protocol.Assignment, r protocol.WorkletResult) {
	if m.Install == nil || len(r.Details) == 0 {
		return
	}
	var d PatchDecision
	if err := json.Unmarshal(r.Details, &d); err != nil || len(d.Install) == 0 {
		return // not a patch policy, or nothing to install
	}
	m.mu.Lock()
	if h := m.health[a.Name]; h != nil {
		h.LastRemediate = m.now()
	}
	m.mu.Unlock()
	// The decision is checked as the InstallUpdate command checks it (no
	// name apt, dnf or apk could read as another action; the installer
	// then checks each against the scan's pending updates), before any
	// of it is logged as a decision or run.
	if err := updates.CheckNames(d.Install); err != nil {
		m.Log.Error("patch policy decision refused", "policy", a.Name, "version", a.Version, "error", err.Error())
		return
	}
	m.Log.Info("patch policy decided to install updates", "policy", a.Name, "count", len(d.Install), "updates", strings.Join(d.Install, ","))
	changed, err := m.Install(ctx, d.Install)
	if err != nil {
		m.Log.Error("installing updates failed", "policy", a.Name, "error", err.Error())
		return
	}
	// Rescan only when the machine changed: a dry run changes nothing, and
	// rescanning then would decide the same again, for ever.
	if changed && m.Rescan != nil {
		m.Rescan()
	}
}

func kindOf(a protocol.Assignment) string {
	if a.Kind == "" {
		return "worklet"
	}
	return a.Kind
}
