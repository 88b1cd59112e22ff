package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// NewScan is one scan report as received.
type NewScan struct {
	// ID is the scan's id, unique per device.
	ID string
	// StartedAt is when the agent started the scan; zero when the agent
	// did not say (an older agent): such a scan is taken as the newest.
	StartedAt time.Time
	// Report is the whole report, stored as sent.
	Report  []byte
	Summary Summary
}

// ScanOutcome says what SaveScan did with a scan.
type ScanOutcome string

// Outcomes of SaveScan. Every one is acknowledged to the agent (200): a
// duplicate or an older scan is no error of the agent's, and refusing it
// would keep it in the agent's outbox for ever.
const (
	// ScanStored: the scan is the device's latest.
	ScanStored ScanOutcome = "stored"
	// ScanDuplicate: the device's latest scan has this id already (the
	// outbox sent it again, e.g. after its removal was not kept).
	ScanDuplicate ScanOutcome = "duplicate"
	// ScanOlder: the scan started before the device's latest one; it
	// never replaces it (kept in history where there is one).
	ScanOlder ScanOutcome = "older"
)

// saveLatest makes sc the device's latest scan unless the latest has its
// id or started after it, in one statement (the upsert's WHERE), so that
// two replicas receiving two scans of one device at once keep the newer.
func (s *sqlStore) saveLatest(ctx context.Context, tx *sql.Tx, deviceID int64, sc NewScan, now time.Time) (ScanOutcome, error) {
	sum := sc.Summary
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO scans (device_id, scan_id, started_at, received_at, compliant, non_compliant, errors, quarantined, report)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET scan_id = excluded.scan_id, started_at = excluded.started_at, received_at = excluded.received_at,
			compliant = excluded.compliant, non_compliant = excluded.non_compliant, errors = excluded.errors,
			quarantined = excluded.quarantined, report = excluded.report
		WHERE scans.scan_id <> excluded.scan_id AND (excluded.started_at = 0 OR scans.started_at <= excluded.started_at)`),
		deviceID, sc.ID, ms(sc.StartedAt), ms(now), sum.Compliant, sum.NonCompliant, sum.Error, sum.Quarantined, string(sc.Report))
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil {
		return "", err
	} else if n == 0 {
		var latest string
		err := tx.QueryRowContext(ctx, s.q(`SELECT scan_id FROM scans WHERE device_id = ?`), deviceID).Scan(&latest)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("scan %s of device %d: neither stored nor found", sc.ID, deviceID)
		case err != nil:
			return "", err
		case latest == sc.ID:
			return ScanDuplicate, nil
		}
		return ScanOlder, nil
	}
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE devices SET last_scan = ?, compliant = ?, non_compliant = ?, errors = ?, quarantined = ? WHERE id = ?`),
		ms(now), sum.Compliant, sum.NonCompliant, sum.Error, sum.Quarantined, deviceID); err != nil {
		return "", err
	}
	return ScanStored, nil
}
