package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scandoc"
)

// History and the fleet-wide views (migration 4). Every scan a device
// sends is kept in scan_history (its outcome counts, its worklet results
// without details, and a reference to its package list, which is stored
// once per distinct list in software_sets: most scans of a device, and
// many devices of a fleet, have the same packages). The newest scan of
// each device is also spread into device_inventory, device_results,
// device_software and device_updates, indexed for the console's fleet,
// device, worklet and software pages. PruneHistory drops what is older
// than the retention and more than the bound per device.

// Default history retention.
const (
	DefaultHistoryRetention = 30 * 24 * time.Hour
	// DefaultHistoryPerDevice bounds the scans kept per device (a group
	// scans at most every 6 hours: 120 in 30 days, plus scans on demand).
	DefaultHistoryPerDevice = 200
	// hardHistoryPerDevice is enforced on every save, whatever the
	// pruner's setting, so that a device sending scans in a loop cannot
	// grow the table between two prunes.
	hardHistoryPerDevice = 1000
)

// Outcomes counts worklet and policy outcomes: of one scan, or of devices.
type Outcomes struct {
	Compliant     int `json:"compliant"`
	NonCompliant  int `json:"non_compliant"`
	NotApplicable int `json:"not_applicable"`
	Error         int `json:"error"`
	Quarantined   int `json:"quarantined"`
}

// Total is the sum of the counts.
func (o Outcomes) Total() int {
	return o.Compliant + o.NonCompliant + o.NotApplicable + o.Error + o.Quarantined
}

// Outcome names as reported in scans (protocol.WorkletResult.Status) and
// used in filters.
const (
	OutcomeCompliant     = "compliant"
	OutcomeNonCompliant  = "non-compliant"
	OutcomeNotApplicable = "not-applicable"
	OutcomeError         = "error"
	OutcomeQuarantined   = "quarantined"
)

// add counts one final status; "timeout" and anything unknown count as
// errors.
func (o *Outcomes) add(status string) { o.addN(status, 1) }

func (o *Outcomes) addN(status string, n int) {
	switch status {
	case OutcomeCompliant:
		o.Compliant += n
	case OutcomeNonCompliant:
		o.NonCompliant += n
	case OutcomeNotApplicable:
		o.NotApplicable += n
	case OutcomeQuarantined:
		o.Quarantined += n
	default:
		o.Error += n
	}
}

// ResultEntry is one worklet's final result in a scan (the last
// evaluation: a remediation is followed by a second one), without details.
type ResultEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
	// Remediated is the status of the remediation phase, when one ran.
	Remediated string `json:"remediated,omitempty"`
}

// Package is one installed package as kept in history.
type Package struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture,omitempty"`
	Source       string `json:"source,omitempty"`
}

// HistoryScan is one stored scan of a device.
type HistoryScan struct {
	ID         int64     `json:"id"`
	ScanID     string    `json:"scan_id"`
	StartedAt  time.Time `json:"started_at"`
	ReceivedAt time.Time `json:"received_at"`
	Outcomes   Outcomes  `json:"outcomes"`
	// SoftwareSHA256 names the scan's package list; equal hashes mean
	// equal lists.
	SoftwareSHA256 string `json:"software_sha256"`
	// Results and Packages are filled by HistoryScan only.
	Results  []ResultEntry `json:"results,omitempty"`
	Packages []Package     `json:"packages,omitempty"`
}

// historyDoc is what saveHistory keeps of a scan report, parsed before the
// write transaction.
type historyDoc struct {
	startedAt   time.Time
	outcomes    Outcomes
	results     []ResultEntry
	resultsJSON string
	software    []Package
	softJSON    string
	softSHA     string
	updates     []scandoc.Update
	inv         scandoc.Document
}

// parseHistory reads what history keeps from a scan report. A report the
// server accepted always parses; anything missing is left empty, so a
// partial report still makes a history entry.
func parseHistory(report []byte) historyDoc {
	var rep struct {
		StartedAt time.Time                `json:"started_at"`
		Scan      json.RawMessage          `json:"scan"`
		Results   []protocol.WorkletResult `json:"results"`
	}
	var h historyDoc
	_ = json.Unmarshal(report, &rep)
	h.startedAt = rep.StartedAt
	if len(rep.Scan) > 0 && string(rep.Scan) != "null" {
		_ = json.Unmarshal(rep.Scan, &h.inv)
	}
	h.results = FinalResults(rep.Results)
	for _, r := range h.results {
		h.outcomes.add(r.Status)
	}
	b, _ := json.Marshal(h.results)
	h.resultsJSON = string(b)
	for _, p := range h.inv.Software {
		h.software = append(h.software, Package{Name: p.Name, Version: p.Version, Architecture: p.Architecture, Source: p.Source})
	}
	slices.SortFunc(h.software, func(a, b Package) int {
		return cmpStrings(a.Name, b.Name, a.Architecture, b.Architecture, a.Version, b.Version, a.Source, b.Source)
	})
	if h.software == nil {
		h.software = []Package{}
	}
	b, _ = json.Marshal(h.software)
	h.softJSON = string(b)
	sum := sha256.Sum256(b)
	h.softSHA = hex.EncodeToString(sum[:])
	h.updates = h.inv.PendingUpdates
	return h
}

func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// FinalResults reduces a scan's results to one per worklet: its last
// evaluation, with the status of a remediation that ran before it.
func FinalResults(results []protocol.WorkletResult) []ResultEntry {
	idx := map[string]int{}
	var out []ResultEntry
	remediated := map[string]string{}
	for _, r := range results {
		if r.Phase == "remediate" {
			remediated[r.Name] = r.Status
			continue
		}
		e := ResultEntry{Name: r.Name, Version: r.Version, Kind: r.Kind, Status: r.Status, Message: r.Message, Error: r.Error}
		if i, ok := idx[r.Name]; ok {
			out[i] = e
			continue
		}
		idx[r.Name] = len(out)
		out = append(out, e)
	}
	for i := range out {
		out[i].Remediated = remediated[out[i].Name]
	}
	if out == nil {
		out = []ResultEntry{}
	}
	return out
}

// saveHistory keeps one received scan in history and, when it is not older
// than the device's newest one, spreads it into the device's latest
// inventory, results, packages and pending updates. It runs inside
// SaveScan's transaction. A scan id the device sent before is kept once.
func (s *sqlStore) saveHistory(ctx context.Context, tx *sql.Tx, deviceID int64, scanID string, h historyDoc, now time.Time) (added bool, err error) {
	started := ms(h.startedAt)
	if started == 0 {
		started = ms(now)
	}
	o := h.outcomes
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO scan_history (device_id, scan_id, started_at, received_at,
			compliant, non_compliant, not_applicable, errors, quarantined, results, software_sha256)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, scan_id) DO NOTHING`),
		deviceID, scanID, started, ms(now), o.Compliant, o.NonCompliant, o.NotApplicable, o.Error, o.Quarantined, h.resultsJSON, h.softSHA)
	if err != nil {
		return false, fmt.Errorf("scan history: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil // the same scan again
	}
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO software_sets (sha256, packages) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING`), h.softSHA, h.softJSON); err != nil {
		return false, fmt.Errorf("scan history: software: %w", err)
	}
	// The bound that holds whatever the pruner does.
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM scan_history WHERE device_id = ? AND id < (
			SELECT id FROM scan_history WHERE device_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`),
		deviceID, deviceID, hardHistoryPerDevice-1); err != nil {
		return false, fmt.Errorf("scan history: bound: %w", err)
	}

	inv := h.inv
	security := 0
	for _, u := range h.updates {
		if u.Security {
			security++
		}
	}
	lastUser := inv.LastUser.Name
	reboot := 0
	if inv.Reboot.Required || inv.RebootRequired {
		reboot = 1
	}
	osName := inv.OS.PrettyName
	if osName == "" {
		osName = strings.TrimSpace(inv.OS.Name + " " + inv.OS.Version)
	}
	res, err = tx.ExecContext(ctx, s.q(`INSERT INTO device_inventory (device_id, started_at, scan_id, os, os_family, reboot_required,
			pending_updates, security_updates, last_user, compliant, non_compliant, not_applicable, errors, quarantined)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET started_at = excluded.started_at, scan_id = excluded.scan_id, os = excluded.os,
			os_family = excluded.os_family, reboot_required = excluded.reboot_required, pending_updates = excluded.pending_updates,
			security_updates = excluded.security_updates, last_user = excluded.last_user, compliant = excluded.compliant,
			non_compliant = excluded.non_compliant, not_applicable = excluded.not_applicable, errors = excluded.errors,
			quarantined = excluded.quarantined
		WHERE device_inventory.started_at <= excluded.started_at`),
		deviceID, started, scanID, osName, inv.OS.Family, reboot, len(h.updates), security, lastUser,
		o.Compliant, o.NonCompliant, o.NotApplicable, o.Error, o.Quarantined)
	if err != nil {
		return false, fmt.Errorf("device inventory: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return true, nil // an older scan arriving late: history only
	}
	return true, s.replaceLatest(ctx, tx, deviceID, h, now)
}

// replaceLatest replaces the device's rows in device_results,
// device_software and device_updates.
func (s *sqlStore) replaceLatest(ctx context.Context, tx *sql.Tx, deviceID int64, h historyDoc, now time.Time) error {
	for _, t := range []string{"device_results", "device_software", "device_updates"} {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t+` WHERE device_id = ?`), deviceID); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	ins := func(table, cols string, n int, rows int, arg func(i int) []any) error {
		const batch = 200
		ph := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
		for start := 0; start < rows; start += batch {
			end := min(rows, start+batch)
			var b strings.Builder
			b.WriteString(`INSERT INTO ` + table + ` (` + cols + `) VALUES `)
			args := make([]any, 0, (end-start)*n)
			for i := start; i < end; i++ {
				if i > start {
					b.WriteByte(',')
				}
				b.WriteString(ph)
				args = append(args, arg(i)...)
			}
			if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	}
	if err := ins("device_results", "device_id, worklet, version, kind, status, message, error, scanned_at", 8, len(h.results), func(i int) []any {
		r := h.results[i]
		return []any{deviceID, r.Name, r.Version, r.Kind, r.Status, r.Message, r.Error, ms(now)}
	}); err != nil {
		return err
	}
	if err := ins("device_software", "device_id, name, version, architecture, source", 5, len(h.software), func(i int) []any {
		p := h.software[i]
		return []any{deviceID, p.Name, p.Version, p.Architecture, p.Source}
	}); err != nil {
		return err
	}
	return ins("device_updates", "device_id, name, current_version, version, security, severity", 6, len(h.updates), func(i int) []any {
		u := h.updates[i]
		sec := 0
		if u.Security {
			sec = 1
		}
		return []any{deviceID, u.Name, u.CurrentVersion, u.Version, sec, u.Severity}
	})
}

// clearLatest removes a device's rows from the latest-scan tables (a
// retired device is in no fleet view).
func (s *sqlStore) clearLatest(ctx context.Context, tx *sql.Tx, deviceID int64) error {
	for _, t := range []string{"device_results", "device_software", "device_updates", "device_inventory"} {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM `+t+` WHERE device_id = ?`), deviceID); err != nil {
			return fmt.Errorf("%s: %w", t, err)
		}
	}
	return nil
}

const historyColumns = `id, scan_id, started_at, received_at, compliant, non_compliant, not_applicable, errors, quarantined, software_sha256`

func scanHistoryRow(row interface{ Scan(...any) error }, h *HistoryScan) error {
	var started, received int64
	err := row.Scan(&h.ID, &h.ScanID, &started, &received, &h.Outcomes.Compliant, &h.Outcomes.NonCompliant,
		&h.Outcomes.NotApplicable, &h.Outcomes.Error, &h.Outcomes.Quarantined, &h.SoftwareSHA256)
	h.StartedAt, h.ReceivedAt = fromMS(started), fromMS(received)
	return err
}

func (s *sqlStore) ScanHistory(ctx context.Context, deviceID int64) ([]HistoryScan, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+historyColumns+` FROM scan_history WHERE device_id = ? ORDER BY started_at DESC, id DESC`), deviceID)
	if err != nil {
		return nil, fmt.Errorf("scan history: %w", err)
	}
	defer rows.Close()
	out := []HistoryScan{}
	for rows.Next() {
		var h HistoryScan
		if err := scanHistoryRow(rows, &h); err != nil {
			return nil, fmt.Errorf("scan history: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *sqlStore) HistoryScan(ctx context.Context, deviceID, id int64) (HistoryScan, error) {
	var h HistoryScan
	var results, packages sql.NullString
	row := s.r.QueryRowContext(ctx, s.q(`SELECT `+historyColumns+`, results, (SELECT packages FROM software_sets WHERE sha256 = software_sha256)
		FROM scan_history WHERE device_id = ? AND id = ?`), deviceID, id)
	var started, received int64
	err := row.Scan(&h.ID, &h.ScanID, &started, &received, &h.Outcomes.Compliant, &h.Outcomes.NonCompliant,
		&h.Outcomes.NotApplicable, &h.Outcomes.Error, &h.Outcomes.Quarantined, &h.SoftwareSHA256, &results, &packages)
	if errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("scan %d of device %d: %w", id, deviceID, ErrNotFound)
	}
	if err != nil {
		return h, fmt.Errorf("scan %d: %w", id, err)
	}
	h.StartedAt, h.ReceivedAt = fromMS(started), fromMS(received)
	if err := json.Unmarshal([]byte(results.String), &h.Results); err != nil && results.String != "" {
		return h, fmt.Errorf("scan %d: stored results: %w", id, err)
	}
	if packages.Valid && packages.String != "" {
		if err := json.Unmarshal([]byte(packages.String), &h.Packages); err != nil {
			return h, fmt.Errorf("scan %d: stored packages: %w", id, err)
		}
	}
	return h, nil
}

// HistoryPruned says what PruneHistory removed.
type HistoryPruned struct {
	Scans, SoftwareSets, Sessions int64
}

// dayMS is a UTC day in milliseconds: compliance_days counts days since
// the epoch.
const dayMS = int64(24 * time.Hour / time.Millisecond)

// addComplianceDay adds one received scan's outcomes to its day's rollup.
func (s *sqlStore) addComplianceDay(ctx context.Context, tx *sql.Tx, o Outcomes, now time.Time) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO compliance_days (day, scans, compliant, non_compliant, not_applicable, errors, quarantined)
		VALUES (?, 1, ?, ?, ?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET scans = compliance_days.scans + 1, compliant = compliance_days.compliant + excluded.compliant,
			non_compliant = compliance_days.non_compliant + excluded.non_compliant,
			not_applicable = compliance_days.not_applicable + excluded.not_applicable,
			errors = compliance_days.errors + excluded.errors, quarantined = compliance_days.quarantined + excluded.quarantined`),
		ms(now)/dayMS, o.Compliant, o.NonCompliant, o.NotApplicable, o.Error, o.Quarantined)
	if err != nil {
		return fmt.Errorf("compliance trend: %w", err)
	}
	return nil
}

func (s *sqlStore) PruneHistory(ctx context.Context, before time.Time, perDevice int, now time.Time) (HistoryPruned, error) {
	var p HistoryPruned
	if perDevice <= 0 {
		perDevice = DefaultHistoryPerDevice
	}
	res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM scan_history WHERE received_at < ?`), ms(before))
	if err != nil {
		return p, fmt.Errorf("prune history: %w", err)
	}
	p.Scans, _ = res.RowsAffected()
	// The trend's days go with the scans they summed; a scan pruned for
	// the per-device bound stays counted on the day it was received.
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM compliance_days WHERE day < ?`), ms(before)/dayMS); err != nil {
		return p, fmt.Errorf("prune compliance trend: %w", err)
	}
	// Devices over the bound, then each of them (one short statement per
	// device keeps SQLite's single writer free for check-ins between them).
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT device_id FROM scan_history GROUP BY device_id HAVING COUNT(*) > ?`), perDevice)
	if err != nil {
		return p, fmt.Errorf("prune history: %w", err)
	}
	var over []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return p, fmt.Errorf("prune history: %w", err)
		}
		over = append(over, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("prune history: %w", err)
	}
	for _, id := range over {
		res, err := s.w.ExecContext(ctx, s.q(`DELETE FROM scan_history WHERE device_id = ? AND id NOT IN (
				SELECT id FROM scan_history WHERE device_id = ? ORDER BY started_at DESC, id DESC LIMIT ?)`), id, id, perDevice)
		if err != nil {
			return p, fmt.Errorf("prune history of device %d: %w", id, err)
		}
		n, _ := res.RowsAffected()
		p.Scans += n
	}
	res, err = s.w.ExecContext(ctx, `DELETE FROM software_sets WHERE NOT EXISTS (SELECT 1 FROM scan_history h WHERE h.software_sha256 = software_sets.sha256)`)
	if err != nil {
		return p, fmt.Errorf("prune software lists: %w", err)
	}
	p.SoftwareSets, _ = res.RowsAffected()
	res, err = s.w.ExecContext(ctx, s.q(`DELETE FROM console_sessions WHERE expires_at < ?`), ms(now))
	if err != nil {
		return p, fmt.Errorf("prune sessions: %w", err)
	}
	p.Sessions, _ = res.RowsAffected()
	return p, nil
}

// HistoryPruner prunes history in the background.
type HistoryPruner struct {
	Store Store
	// Retention is how long scans are kept (default 30 days).
	Retention time.Duration
	// PerDevice is how many scans are kept per device (default 200).
	PerDevice int
	// Every is how often it prunes (default 10 minutes); it also prunes
	// once at start.
	Every time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Report, when set, is told what each pass removed or why it failed.
	Report func(HistoryPruned, error)
}

// Run prunes at start and then every Every until ctx is done.
func (p HistoryPruner) Run(ctx context.Context) error {
	if p.Retention <= 0 {
		p.Retention = DefaultHistoryRetention
	}
	if p.PerDevice <= 0 {
		p.PerDevice = DefaultHistoryPerDevice
	}
	if p.Every <= 0 {
		p.Every = 10 * time.Minute
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	t := time.NewTicker(p.Every)
	defer t.Stop()
	for {
		now := p.Now()
		r, err := p.Store.PruneHistory(ctx, now.Add(-p.Retention), p.PerDevice, now)
		if ctx.Err() != nil {
			return nil
		}
		if p.Report != nil {
			p.Report(r, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
