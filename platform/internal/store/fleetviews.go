package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/debver"
)

// Reporting is what the fleet console, the reporting commands and the
// admin API read and do beyond the agent protocol: history (history.go),
// the fleet-wide views over each device's newest scan, retiring devices,
// cancelling commands and console sessions.
type Reporting interface {
	// ListDevices returns one page of devices (never retired ones) with
	// their newest scan's inventory and outcomes, and how many match.
	ListDevices(ctx context.Context, q DeviceQuery) ([]DeviceRow, int, error)
	// DeviceRow returns one device, retired or not.
	DeviceRow(ctx context.Context, deviceID int64) (DeviceRow, error)
	// FleetSummary counts devices by status and worklet outcomes across
	// the fleet; a device is online when it checked in at or after
	// onlineSince.
	FleetSummary(ctx context.Context, onlineSince time.Time) (FleetSummary, error)
	// PendingUpdates lists pending updates across the fleet, security
	// updates first, then by how many devices need them.
	PendingUpdates(ctx context.Context, limit int) ([]UpdateCount, error)
	// ComplianceTrend sums the outcomes of the scans received per UTC day,
	// from since's day on (a daily rollup kept as scans arrive).
	ComplianceTrend(ctx context.Context, since time.Time) ([]TrendDay, error)
	// WorkletDevices pages the devices whose newest scan has a result of
	// the worklet (with the status, when not empty; "failing" is any
	// status but compliant and not applicable), sorted by one of
	// WorkletSorts, and says how many there are.
	WorkletDevices(ctx context.Context, worklet, status, sort string, desc bool, offset, limit int) ([]WorkletDevice, int, error)
	// SoftwareVersions counts the devices per version of package name.
	SoftwareVersions(ctx context.Context, name string) ([]NameCount, error)
	// SoftwarePage pages the devices with package name (at one of
	// versions, when not nil), sorted by one of SoftwareSorts.
	SoftwarePage(ctx context.Context, name string, versions []string, sort string, desc bool, offset, limit int) ([]SoftwareRow, int, error)
	// GroupNames lists the groups' names.
	GroupNames(ctx context.Context) ([]string, error)
	// DeviceUpdates lists a device's pending updates from its newest scan.
	DeviceUpdates(ctx context.Context, deviceID int64) ([]DeviceUpdate, error)
	// SoftwareDevices lists every (device, package) with this exact
	// package name in the devices' newest scans.
	SoftwareDevices(ctx context.Context, name string) ([]SoftwareRow, error)
	// SoftwareNames lists package names containing part, with how many
	// devices have each, at most limit.
	SoftwareNames(ctx context.Context, part string, limit int) ([]NameCount, error)
	// OSNames lists the operating systems of the devices' newest scans.
	OSNames(ctx context.Context) ([]string, error)

	// ScanHistory lists a device's stored scans, newest first.
	ScanHistory(ctx context.Context, deviceID int64) ([]HistoryScan, error)
	// HistoryScan returns one stored scan with its results and packages.
	HistoryScan(ctx context.Context, deviceID, id int64) (HistoryScan, error)
	// PruneHistory removes scans received before before, all but the
	// newest perDevice of each device, package lists no scan refers to
	// and console sessions expired at now.
	PruneHistory(ctx context.Context, before time.Time, perDevice int, now time.Time) (HistoryPruned, error)

	// RetireDevice takes a device out of the fleet: its token and key
	// binding are revoked, its waiting commands cancelled and it is left
	// out of every list; its history stays until pruned. If its agent
	// enrolls again, it is back.
	RetireDevice(ctx context.Context, deviceID int64, now time.Time) error
	// CancelCommand ends a command that has no result yet with status
	// "canceled"; ErrAlreadyDone when it has one, ErrNotFound when there
	// is no such command.
	CancelCommand(ctx context.Context, commandID int64, now time.Time) (Command, error)

	// CreateSession stores a console session.
	CreateSession(ctx context.Context, s Session) error
	// Session returns the session with this id hash, ErrNotFound when
	// there is none or it expired at now.
	Session(ctx context.Context, idHash string, now time.Time) (Session, error)
	// DeleteSession removes a session (sign-out).
	DeleteSession(ctx context.Context, idHash string) error
}

// Session is a signed-in console session. Only the SHA-256 of its cookie
// value is stored.
type Session struct {
	IDHash string
	CSRF   string
	// AdminHash is the admin token's hash at sign-in: a new admin token
	// ends every session.
	AdminHash string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// DeviceRow is a device with its newest scan's inventory and outcomes.
type DeviceRow struct {
	Device
	Scanned         bool      `json:"scanned"`
	OS              string    `json:"os"`
	OSFamily        string    `json:"os_family"`
	RebootRequired  bool      `json:"reboot_required"`
	PendingUpdates  int       `json:"pending_updates"`
	SecurityUpdates int       `json:"security_updates"`
	LastUser        string    `json:"last_user"`
	Outcomes        Outcomes  `json:"outcomes"`
	RetiredAt       time.Time `json:"retired_at"`
}

// Device statuses for DeviceQuery.Status.
const (
	StatusOnline  = "online"
	StatusOffline = "offline"
	StatusNever   = "never"
)

// DeviceQuery selects, sorts and pages devices. Empty fields select all.
type DeviceQuery struct {
	Group string
	OS    string // exact OS name as listed
	// Status is online, offline (seen, not since OnlineSince) or never.
	Status      string
	OnlineSince time.Time
	// Worklet and Outcome: devices whose newest result of Worklet has
	// status Outcome (any worklet when Worklet is empty; any status when
	// Outcome is empty).
	Worklet, Outcome string
	// Search matches hostnames containing it, or a UUID prefix.
	Search string
	// Sort is one of DeviceSorts (default hostname).
	Sort   string
	Desc   bool
	Offset int
	Limit  int // default 50, at most 10000
}

// DeviceSorts maps the sort keys of ListDevices to their columns.
var DeviceSorts = map[string]string{
	"hostname":       "d.hostname",
	"uuid":           "d.uuid",
	"group":          "g.name",
	"os":             "COALESCE(i.os, '')",
	"agent":          "d.agent_version",
	"last_seen":      "d.last_seen",
	"last_scan":      "d.last_scan",
	"compliant":      "COALESCE(i.compliant, 0)",
	"non_compliant":  "COALESCE(i.non_compliant, 0)",
	"not_applicable": "COALESCE(i.not_applicable, 0)",
	"error":          "COALESCE(i.errors, 0)",
	"quarantined":    "COALESCE(i.quarantined, 0)",
	"updates":        "COALESCE(i.pending_updates, 0)",
	"security":       "COALESCE(i.security_updates, 0)",
	"reboot":         "COALESCE(i.reboot_required, 0)",
}

// outcomeCounts are device_inventory's count columns of the outcomes
// counted as such (Outcomes.addN: any other status counts as an error).
var outcomeCounts = map[string]string{
	OutcomeCompliant: "i.compliant", OutcomeNonCompliant: "i.non_compliant",
	OutcomeNotApplicable: "i.not_applicable", OutcomeQuarantined: "i.quarantined",
}

const deviceRowColumns = deviceColumns + `, i.device_id IS NOT NULL, COALESCE(i.os, ''), COALESCE(i.os_family, ''), COALESCE(i.reboot_required, 0),
	COALESCE(i.pending_updates, 0), COALESCE(i.security_updates, 0), COALESCE(i.last_user, ''), COALESCE(i.compliant, 0),
	COALESCE(i.non_compliant, 0), COALESCE(i.not_applicable, 0), COALESCE(i.errors, 0), COALESCE(i.quarantined, 0), d.retired_at`

const deviceRowFrom = ` FROM devices d JOIN device_groups g ON g.id = d.group_id LEFT JOIN device_inventory i ON i.device_id = d.id`

func scanDeviceRow(row interface{ Scan(...any) error }) (DeviceRow, error) {
	var d DeviceRow
	var first, last, scan, retired int64
	var reboot int
	err := row.Scan(&d.ID, &d.UUID, &d.Hostname, &d.DeviceKey, &d.Group, &d.AgentVersion, &d.Uptime, &d.TZ, &first, &last, &scan,
		&d.Summary.Compliant, &d.Summary.NonCompliant, &d.Summary.Error, &d.Summary.Quarantined,
		&d.Scanned, &d.OS, &d.OSFamily, &reboot, &d.PendingUpdates, &d.SecurityUpdates, &d.LastUser,
		&d.Outcomes.Compliant, &d.Outcomes.NonCompliant, &d.Outcomes.NotApplicable, &d.Outcomes.Error, &d.Outcomes.Quarantined, &retired)
	d.FirstSeen, d.LastSeen, d.LastScan, d.RetiredAt = fromMS(first), fromMS(last), fromMS(scan), fromMS(retired)
	d.RebootRequired = reboot != 0
	return d, err
}

// likeEscape escapes LIKE wildcards; the pattern uses ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *sqlStore) ListDevices(ctx context.Context, q DeviceQuery) ([]DeviceRow, int, error) {
	// With a worklet, the matching devices come from the (worklet,
	// status, device_id) index and the devices are joined to them; with
	// an outcome of any worklet, a device is kept when one of its results
	// has it.
	var where []string
	var args []any
	from, countFrom := deviceRowFrom, ` FROM devices d`
	if q.Worklet != "" {
		from = ` FROM device_results r0 JOIN devices d ON d.id = r0.device_id JOIN device_groups g ON g.id = d.group_id LEFT JOIN device_inventory i ON i.device_id = d.id`
		countFrom = ` FROM device_results r0 JOIN devices d ON d.id = r0.device_id`
		where, args = append(where, "r0.worklet = ?"), append(args, q.Worklet)
		if q.Outcome != "" {
			where, args = append(where, "r0.status = ?"), append(args, q.Outcome)
		}
	} else if q.Outcome != "" {
		// Any worklet: the newest scan's outcome counts say it, for the
		// four outcomes counted as such; every other status is counted as
		// an error, so for those the results are read, through their
		// (status, device_id) index.
		if c, ok := outcomeCounts[q.Outcome]; ok {
			where = append(where, c+" > 0")
		} else {
			where = append(where, "d.id IN (SELECT r.device_id FROM device_results r WHERE r.status = ?)")
			args = append(args, q.Outcome)
		}
	}
	where = append(where, "d.retired_at = 0")
	if q.Group != "" {
		where, args = append(where, "g.name = ?"), append(args, q.Group)
	}
	if q.OS != "" {
		where, args = append(where, "i.os = ?"), append(args, q.OS)
	}
	switch q.Status {
	case "":
	case StatusOnline:
		where, args = append(where, "d.last_seen >= ? AND d.last_seen > 0"), append(args, ms(q.OnlineSince))
	case StatusOffline:
		where, args = append(where, "d.last_seen < ? AND d.last_seen > 0"), append(args, ms(q.OnlineSince))
	case StatusNever:
		where = append(where, "d.last_seen = 0")
	default:
		return nil, 0, fmt.Errorf("device status %q: want online, offline or never", q.Status)
	}
	if q.Search != "" {
		where = append(where, `(d.hostname LIKE ? ESCAPE '\' OR d.uuid LIKE ? ESCAPE '\')`)
		args = append(args, "%"+likeEscape(q.Search)+"%", likeEscape(strings.ToLower(q.Search))+"%")
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	// The count joins only what the filter reads (without a filter it
	// reads the devices_active index alone).
	if q.Group != "" {
		countFrom += ` JOIN device_groups g ON g.id = d.group_id`
	}
	if _, counted := outcomeCounts[q.Outcome]; q.OS != "" || (q.Worklet == "" && counted) {
		countFrom += ` JOIN device_inventory i ON i.device_id = d.id`
	}
	countSQL := `SELECT COUNT(*)` + countFrom + cond
	if q.Group == "" && q.OS == "" && q.Status == "" && q.Search == "" {
		// A retired device keeps no results and no inventory, so a
		// count by outcome alone reads one table (args hold only the
		// worklet and outcome).
		col, counted := outcomeCounts[q.Outcome]
		switch {
		case q.Worklet != "" && q.Outcome != "":
			countSQL = `SELECT COUNT(*) FROM device_results r0 WHERE r0.worklet = ? AND r0.status = ?`
		case q.Worklet != "":
			countSQL = `SELECT COUNT(*) FROM device_results r0 WHERE r0.worklet = ?`
		case counted:
			countSQL = `SELECT COUNT(*) FROM device_inventory i WHERE ` + col + ` > 0`
		case q.Outcome != "":
			countSQL = `SELECT COUNT(DISTINCT r.device_id) FROM device_results r WHERE r.status = ?`
		}
	}
	var total int
	if err := s.r.QueryRowContext(ctx, s.q(countSQL), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count devices: %w", err)
	}
	col, ok := DeviceSorts[q.Sort]
	if !ok {
		col = DeviceSorts["hostname"]
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 10000)
	// The page is sorted on the ids alone, then its rows are read: a sort
	// of narrow rows, ten times faster than of whole rows when tens of
	// thousands match.
	ids, err := s.ids(ctx, `SELECT d.id`+from+cond+` ORDER BY `+col+dir+`, d.hostname, d.id LIMIT ? OFFSET ?`, append(args, q.Limit, max(q.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list devices: %w", err)
	}
	if len(ids) == 0 {
		return []DeviceRow{}, total, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT `+deviceRowColumns+deviceRowFrom+` WHERE d.id IN (`+placeholders(len(ids))+`)`), int64Args(ids)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]DeviceRow, len(ids))
	for rows.Next() {
		d, err := scanDeviceRow(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list devices: %w", err)
		}
		byID[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list devices: %w", err)
	}
	return inOrder(ids, byID), total, nil
}

// inOrder lists the rows of ids in the ids' order (a sorted page read in
// two steps), leaving out an id whose row the second read did not find.
func inOrder[T any](ids []int64, byID map[int64]T) []T {
	out := make([]T, 0, len(ids))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out
}

// ids runs a query of one id column.
func (s *sqlStore) ids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := s.r.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// placeholders is "?, ?, ..." for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func (s *sqlStore) DeviceRow(ctx context.Context, deviceID int64) (DeviceRow, error) {
	d, err := scanDeviceRow(s.r.QueryRowContext(ctx, s.q(`SELECT `+deviceRowColumns+deviceRowFrom+` WHERE d.id = ?`), deviceID))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("device %d: %w", deviceID, ErrNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("device %d: %w", deviceID, err)
	}
	return d, nil
}

// FleetSummary is the fleet page's counts.
type FleetSummary struct {
	Devices, Online, Offline, Never int
	// Scanned devices have a scan in the store; Reboot of them need a
	// reboot; Updates have pending updates, Security pending security
	// updates.
	Scanned, Reboot, Updates, Security int
	// Outcomes sums every device's newest outcomes.
	Outcomes Outcomes
	// Worklets counts devices per outcome, per worklet and policy.
	Worklets []WorkletOutcomes
}

// WorkletOutcomes counts the devices of each outcome for one worklet.
type WorkletOutcomes struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Outcomes Outcomes `json:"outcomes"`
}

func (s *sqlStore) FleetSummary(ctx context.Context, onlineSince time.Time) (FleetSummary, error) {
	var f FleetSummary
	since := ms(onlineSince)
	err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*),
			COALESCE(SUM(CASE WHEN d.last_seen > 0 AND d.last_seen >= ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN d.last_seen > 0 AND d.last_seen < ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN d.last_seen = 0 THEN 1 ELSE 0 END), 0),
			COUNT(i.device_id),
			COALESCE(SUM(i.reboot_required), 0),
			COALESCE(SUM(CASE WHEN i.pending_updates > 0 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN i.security_updates > 0 THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(i.compliant), 0), COALESCE(SUM(i.non_compliant), 0), COALESCE(SUM(i.not_applicable), 0),
			COALESCE(SUM(i.errors), 0), COALESCE(SUM(i.quarantined), 0)
		FROM devices d LEFT JOIN device_inventory i ON i.device_id = d.id WHERE d.retired_at = 0`), since, since).
		Scan(&f.Devices, &f.Online, &f.Offline, &f.Never, &f.Scanned, &f.Reboot, &f.Updates, &f.Security,
			&f.Outcomes.Compliant, &f.Outcomes.NonCompliant, &f.Outcomes.NotApplicable, &f.Outcomes.Error, &f.Outcomes.Quarantined)
	if err != nil {
		return f, fmt.Errorf("fleet summary: %w", err)
	}
	// Kinds come from the stored bundles, so that the count reads only
	// the (worklet, status) index.
	kinds := map[string]string{}
	krows, err := s.r.QueryContext(ctx, `SELECT name, MAX(kind) FROM worklets GROUP BY name`)
	if err != nil {
		return f, fmt.Errorf("fleet summary: kinds: %w", err)
	}
	for krows.Next() {
		var name, kind string
		if err := krows.Scan(&name, &kind); err != nil {
			krows.Close()
			return f, fmt.Errorf("fleet summary: kinds: %w", err)
		}
		kinds[name] = kind
	}
	krows.Close()
	rows, err := s.r.QueryContext(ctx, `SELECT worklet, status, COUNT(*) FROM device_results GROUP BY worklet, status ORDER BY worklet`)
	if err != nil {
		return f, fmt.Errorf("fleet summary: worklets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, status string
		var n int
		if err := rows.Scan(&name, &status, &n); err != nil {
			return f, fmt.Errorf("fleet summary: worklets: %w", err)
		}
		if len(f.Worklets) == 0 || f.Worklets[len(f.Worklets)-1].Name != name {
			f.Worklets = append(f.Worklets, WorkletOutcomes{Name: name, Kind: kinds[name]})
		}
		f.Worklets[len(f.Worklets)-1].Outcomes.addN(status, n)
	}
	return f, rows.Err()
}

// UpdateCount is one pending update across the fleet.
type UpdateCount struct {
	Name     string `json:"name"`
	Security bool   `json:"security"`
	Severity string `json:"severity"`
	Devices  int    `json:"devices"`
}

func (s *sqlStore) PendingUpdates(ctx context.Context, limit int) ([]UpdateCount, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT name, MAX(security), MAX(severity), COUNT(DISTINCT device_id) FROM device_updates
		GROUP BY name ORDER BY MAX(security) DESC, COUNT(DISTINCT device_id) DESC, name LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("pending updates: %w", err)
	}
	defer rows.Close()
	out := []UpdateCount{}
	for rows.Next() {
		var u UpdateCount
		var sec int
		if err := rows.Scan(&u.Name, &sec, &u.Severity, &u.Devices); err != nil {
			return nil, fmt.Errorf("pending updates: %w", err)
		}
		u.Security = sec != 0
		out = append(out, u)
	}
	return out, rows.Err()
}

// DeviceUpdate is one pending update of a device.
type DeviceUpdate struct {
	Name           string `json:"name"`
	CurrentVersion string `json:"current_version"`
	Version        string `json:"version"`
	Security       bool   `json:"security"`
	Severity       string `json:"severity"`
}

func (s *sqlStore) DeviceUpdates(ctx context.Context, deviceID int64) ([]DeviceUpdate, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT name, current_version, version, security, severity FROM device_updates
		WHERE device_id = ? ORDER BY security DESC, name`), deviceID)
	if err != nil {
		return nil, fmt.Errorf("device updates: %w", err)
	}
	defer rows.Close()
	out := []DeviceUpdate{}
	for rows.Next() {
		var u DeviceUpdate
		var sec int
		if err := rows.Scan(&u.Name, &u.CurrentVersion, &u.Version, &sec, &u.Severity); err != nil {
			return nil, fmt.Errorf("device updates: %w", err)
		}
		u.Security = sec != 0
		out = append(out, u)
	}
	return out, rows.Err()
}

// TrendDay is one UTC day of received scans' outcomes.
type TrendDay struct {
	Day      time.Time `json:"day"`
	Scans    int       `json:"scans"`
	Outcomes Outcomes  `json:"outcomes"`
}

func (s *sqlStore) ComplianceTrend(ctx context.Context, since time.Time) ([]TrendDay, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT day, scans, compliant, non_compliant, not_applicable, errors, quarantined
		FROM compliance_days WHERE day >= ? ORDER BY day`), ms(since)/dayMS)
	if err != nil {
		return nil, fmt.Errorf("compliance trend: %w", err)
	}
	defer rows.Close()
	out := []TrendDay{}
	for rows.Next() {
		var d TrendDay
		var n int64
		if err := rows.Scan(&n, &d.Scans, &d.Outcomes.Compliant, &d.Outcomes.NonCompliant, &d.Outcomes.NotApplicable, &d.Outcomes.Error, &d.Outcomes.Quarantined); err != nil {
			return nil, fmt.Errorf("compliance trend: %w", err)
		}
		d.Day = time.UnixMilli(n * dayMS).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// WorkletDevice is one device's newest result of a worklet.
type WorkletDevice struct {
	DeviceID  int64     `json:"-"`
	UUID      string    `json:"uuid"`
	Hostname  string    `json:"hostname"`
	Group     string    `json:"group"`
	Version   string    `json:"version"`
	Status    string    `json:"status"`
	Message   string    `json:"message"`
	Error     string    `json:"error"`
	ScannedAt time.Time `json:"scanned_at"`
}

// WorkletSorts maps WorkletDevices' sort keys to columns.
var WorkletSorts = map[string]string{
	"hostname": "d.hostname", "group": "g.name", "version": "r.version", "status": "r.status",
	"message": "r.message", "scanned": "r.scanned_at",
}

func (s *sqlStore) WorkletDevices(ctx context.Context, worklet, status, sort string, desc bool, offset, limit int) ([]WorkletDevice, int, error) {
	cond := ` WHERE r.worklet = ?`
	args := []any{worklet}
	switch status {
	case "":
	case "failing":
		cond += ` AND r.status <> 'compliant' AND r.status <> 'not-applicable'`
	default:
		cond, args = cond+` AND r.status = ?`, append(args, status)
	}
	// Counted from the index alone: a retired device has no results.
	var total int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM device_results r`+cond), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("worklet %s devices: %w", worklet, err)
	}
	col, ok := WorkletSorts[sort]
	if !ok {
		col = "r.status"
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	// Sorted on the ids alone, then the page's rows read (ListDevices).
	from := ` FROM device_results r JOIN devices d ON d.id = r.device_id`
	if col == WorkletSorts["group"] {
		from += ` JOIN device_groups g ON g.id = d.group_id`
	}
	ids, err := s.ids(ctx, `SELECT d.id`+from+cond+` ORDER BY `+col+dir+`, d.hostname, d.id LIMIT ? OFFSET ?`, append(args, max(limit, 1), max(offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("worklet %s devices: %w", worklet, err)
	}
	if len(ids) == 0 {
		return []WorkletDevice{}, total, nil
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT d.id, d.uuid, d.hostname, g.name, r.version, r.status, r.message, r.error, r.scanned_at
		FROM device_results r JOIN devices d ON d.id = r.device_id JOIN device_groups g ON g.id = d.group_id
		WHERE r.worklet = ? AND r.device_id IN (`+placeholders(len(ids))+`)`), append([]any{worklet}, int64Args(ids)...)...)
	if err != nil {
		return nil, 0, fmt.Errorf("worklet %s devices: %w", worklet, err)
	}
	defer rows.Close()
	byID := make(map[int64]WorkletDevice, len(ids))
	for rows.Next() {
		var w WorkletDevice
		var at int64
		if err := rows.Scan(&w.DeviceID, &w.UUID, &w.Hostname, &w.Group, &w.Version, &w.Status, &w.Message, &w.Error, &at); err != nil {
			return nil, 0, fmt.Errorf("worklet %s devices: %w", worklet, err)
		}
		w.ScannedAt = fromMS(at)
		byID[w.DeviceID] = w
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("worklet %s devices: %w", worklet, err)
	}
	// A newer scan between the two reads may have dropped the worklet.
	return inOrder(ids, byID), total, nil
}

// SoftwareRow is one package on one device.
type SoftwareRow struct {
	DeviceID     int64  `json:"-"`
	UUID         string `json:"uuid"`
	Hostname     string `json:"hostname"`
	Group        string `json:"group"`
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	Source       string `json:"source"`
}

// Below keeps the rows whose version sorts before below by dpkg's rules
// (debver; close enough for RPM and APK versions); a malformed below is
// an error naming it.
func Below(rows []SoftwareRow, below string) ([]SoftwareRow, error) {
	if _, err := debver.Parse(below); err != nil {
		return nil, fmt.Errorf("version %q: %w", below, err)
	}
	out := []SoftwareRow{}
	for _, x := range rows {
		if debver.Compare(x.Version, below) < 0 {
			out = append(out, x)
		}
	}
	return out, nil
}

// SoftwareSorts maps SoftwarePage's sort keys to columns.
var SoftwareSorts = map[string]string{
	"hostname": "d.hostname", "group": "g.name", "version": "p.version", "arch": "p.architecture", "source": "p.source",
}

func (s *sqlStore) SoftwarePage(ctx context.Context, name string, versions []string, sort string, desc bool, offset, limit int) ([]SoftwareRow, int, error) {
	cond := ` WHERE p.name = ?`
	args := []any{name}
	if versions != nil {
		if len(versions) == 0 {
			return []SoftwareRow{}, 0, nil
		}
		cond += ` AND p.version IN (` + placeholders(len(versions)) + `)`
		for _, v := range versions {
			args = append(args, v)
		}
	}
	// Counted from the (name, version) index alone: a retired device has
	// no packages here.
	var total int
	if err := s.r.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM device_software p`+cond), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("software %s: %w", name, err)
	}
	col, ok := SoftwareSorts[sort]
	if !ok {
		col = "d.hostname"
	}
	dir := " ASC"
	if desc {
		dir = " DESC"
	}
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT d.id, d.uuid, d.hostname, g.name, p.name, p.version, p.architecture, p.source
		FROM device_software p JOIN devices d ON d.id = p.device_id JOIN device_groups g ON g.id = d.group_id`+cond+
		` ORDER BY `+col+dir+`, d.hostname, d.id LIMIT ? OFFSET ?`), append(args, max(limit, 1), max(offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("software %s: %w", name, err)
	}
	defer rows.Close()
	out := []SoftwareRow{}
	for rows.Next() {
		var r SoftwareRow
		if err := rows.Scan(&r.DeviceID, &r.UUID, &r.Hostname, &r.Group, &r.Name, &r.Version, &r.Architecture, &r.Source); err != nil {
			return nil, 0, fmt.Errorf("software %s: %w", name, err)
		}
		out = append(out, r)
	}
	return out, total, rows.Err()
}

func (s *sqlStore) SoftwareVersions(ctx context.Context, name string) ([]NameCount, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT version, COUNT(*) FROM device_software WHERE name = ? GROUP BY version`), name)
	if err != nil {
		return nil, fmt.Errorf("software %s versions: %w", name, err)
	}
	defer rows.Close()
	out := []NameCount{}
	for rows.Next() {
		var n NameCount
		if err := rows.Scan(&n.Name, &n.Devices); err != nil {
			return nil, fmt.Errorf("software %s versions: %w", name, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *sqlStore) GroupNames(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name FROM device_groups ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("group names: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("group names: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *sqlStore) SoftwareDevices(ctx context.Context, name string) ([]SoftwareRow, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT d.id, d.uuid, d.hostname, g.name, p.name, p.version, p.architecture, p.source
		FROM device_software p JOIN devices d ON d.id = p.device_id JOIN device_groups g ON g.id = d.group_id
		WHERE p.name = ? ORDER BY d.hostname, d.id`), name)
	if err != nil {
		return nil, fmt.Errorf("software %s: %w", name, err)
	}
	defer rows.Close()
	out := []SoftwareRow{}
	for rows.Next() {
		var r SoftwareRow
		if err := rows.Scan(&r.DeviceID, &r.UUID, &r.Hostname, &r.Group, &r.Name, &r.Version, &r.Architecture, &r.Source); err != nil {
			return nil, fmt.Errorf("software %s: %w", name, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// NameCount is a package name and how many devices have it.
type NameCount struct {
	Name    string `json:"name"`
	Devices int    `json:"devices"`
}

func (s *sqlStore) SoftwareNames(ctx context.Context, part string, limit int) ([]NameCount, error) {
	rows, err := s.r.QueryContext(ctx, s.q(`SELECT name, COUNT(DISTINCT device_id) FROM device_software WHERE name LIKE ? ESCAPE '\'
		GROUP BY name ORDER BY name LIMIT ?`), "%"+likeEscape(part)+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("software names: %w", err)
	}
	defer rows.Close()
	out := []NameCount{}
	for rows.Next() {
		var n NameCount
		if err := rows.Scan(&n.Name, &n.Devices); err != nil {
			return nil, fmt.Errorf("software names: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func (s *sqlStore) RetireDevice(ctx context.Context, deviceID int64, now time.Time) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("retire device %d: %w", deviceID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.q(`UPDATE devices SET retired_at = ?, token_hash = '', device_key = '' WHERE id = ?`), ms(now), deviceID)
	if err != nil {
		return fmt.Errorf("retire device %d: %w", deviceID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("device %d: %w", deviceID, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE commands SET done_at = ?, status = 'canceled', error = 'device retired' WHERE device_id = ? AND done_at = 0`),
		ms(now), deviceID); err != nil {
		return fmt.Errorf("retire device %d: commands: %w", deviceID, err)
	}
	if err := s.clearLatest(ctx, tx, deviceID); err != nil {
		return fmt.Errorf("retire device %d: %w", deviceID, err)
	}
	return tx.Commit()
}

func (s *sqlStore) CancelCommand(ctx context.Context, commandID int64, now time.Time) (Command, error) {
	var c Command
	var dev string
	err := s.w.QueryRowContext(ctx, s.q(`UPDATE commands SET done_at = ?, status = 'canceled', error = 'canceled by an admin'
		WHERE id = ? AND done_at = 0 RETURNING command, (SELECT uuid FROM devices WHERE devices.id = commands.device_id)`), ms(now), commandID).Scan(&c.Command, &dev)
	if err == nil {
		c.ID, c.Device, c.Status, c.DoneAt = commandID, dev, "canceled", fromMS(ms(now))
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("cancel command %d: %w", commandID, err)
	}
	var status string
	err = s.r.QueryRowContext(ctx, s.q(`SELECT status FROM commands WHERE id = ?`), commandID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("command %d: %w", commandID, ErrNotFound)
	}
	if err != nil {
		return c, fmt.Errorf("cancel command %d: %w", commandID, err)
	}
	return c, fmt.Errorf("command %d ended %s: %w", commandID, status, ErrAlreadyDone)
}

func (s *sqlStore) CreateSession(ctx context.Context, se Session) error {
	_, err := s.w.ExecContext(ctx, s.q(`INSERT INTO console_sessions (id_sha256, csrf, admin_sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`),
		se.IDHash, se.CSRF, se.AdminHash, ms(se.CreatedAt), ms(se.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func (s *sqlStore) Session(ctx context.Context, idHash string, now time.Time) (Session, error) {
	se := Session{IDHash: idHash}
	var created, expires int64
	err := s.r.QueryRowContext(ctx, s.q(`SELECT csrf, admin_sha256, created_at, expires_at FROM console_sessions WHERE id_sha256 = ? AND expires_at > ?`), idHash, ms(now)).
		Scan(&se.CSRF, &se.AdminHash, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return se, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return se, fmt.Errorf("session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = fromMS(created), fromMS(expires)
	return se, nil
}

func (s *sqlStore) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.w.ExecContext(ctx, s.q(`DELETE FROM console_sessions WHERE id_sha256 = ?`), idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *sqlStore) OSNames(ctx context.Context) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT os FROM device_inventory WHERE os <> '' ORDER BY os LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("operating systems: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("operating systems: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
