package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Quarantine releases. An agent quarantines a worklet that failed by its
// own fault three scans in a row; `amplatform worklet release NAME
// [--device D]` raises a counter that travels in the check-in config of
// every assignment of the worklet (protocol.Assignment.Release): the
// fleet-wide counter of the worklet (worklet_releases, read with the
// group's assignments, which are cached per group version, so a release
// bumps the version of every group the worklet is assigned to) plus the
// device's own (devices.releases, JSON, read in the check-in's one
// query). Both only grow, so their sum only grows, and an agent that sees
// it grow lifts the quarantine.

func (s *sqlStore) ReleaseWorklet(ctx context.Context, worklet string, deviceID int64) (int64, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("release %s: %w", worklet, err)
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM worklets WHERE name = ? LIMIT 1`), worklet).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("worklet %s: %w", worklet, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("release %s: %w", worklet, err)
	}
	var n int64
	if deviceID == 0 {
		err = tx.QueryRowContext(ctx, s.q(`INSERT INTO worklet_releases (worklet, release) VALUES (?, 1)
			ON CONFLICT (worklet) DO UPDATE SET release = worklet_releases.release + 1 RETURNING release`), worklet).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("release %s: %w", worklet, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE device_groups SET version = version + 1
			WHERE id IN (SELECT group_id FROM assignments WHERE worklet = ?)`), worklet); err != nil {
			return 0, fmt.Errorf("release %s: %w", worklet, err)
		}
	} else {
		lock := ""
		if s.d.name == "postgres" {
			lock = " FOR UPDATE"
		}
		var raw string
		err = tx.QueryRowContext(ctx, s.q(`SELECT releases FROM devices WHERE id = ?`+lock), deviceID).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("device %d: %w", deviceID, ErrNotFound)
		}
		if err != nil {
			return 0, fmt.Errorf("release %s: %w", worklet, err)
		}
		rel, err := ParseReleases(raw)
		if err != nil {
			return 0, fmt.Errorf("release %s on device %d: %w", worklet, deviceID, err)
		}
		rel[worklet]++
		n = rel[worklet]
		b, _ := json.Marshal(rel)
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE devices SET releases = ? WHERE id = ?`), string(b), deviceID); err != nil {
			return 0, fmt.Errorf("release %s: %w", worklet, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("release %s: %w", worklet, err)
	}
	return n, nil
}

// ParseReleases reads a device's release counters (CheckinInfo.Releases).
func ParseReleases(raw string) (map[string]int64, error) {
	out := map[string]int64{}
	if raw == "" {
		return out, nil
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return nil, fmt.Errorf("stored release counters: %w", err)
	}
	return out, nil
}
