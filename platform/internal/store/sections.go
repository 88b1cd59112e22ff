package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/amagent/amagent/agent/protocol"
)

// Scan sections (migration 6; protocol/sections.go). The sections of at
// least protocol.MinSectionBytes of every scan a device sends are kept
// per device, addressed by their digest, so that the device's next scan
// can send unchanged sections as their digests alone. SaveScan keeps
// those of the device's latest two scans (by arrival): the agent sends
// digests of the last scan the platform acknowledged, which is the latest
// or, when its acknowledgment was lost, the one before. Sections are per
// device: a device cannot name, or learn of, another device's sections.

// maxSectionLookup bounds the digests looked up in one query (well under
// SQLite's and PostgreSQL's bound on bound parameters).
const maxSectionLookup = 500

// ScanSections returns, of the given digests, the sections the platform
// holds for the device, by digest. A digest it does not hold is missing
// from the map.
func (s *sqlStore) ScanSections(ctx context.Context, deviceID int64, digests []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(digests))
	for start := 0; start < len(digests); start += maxSectionLookup {
		chunk := digests[start:min(len(digests), start+maxSectionLookup)]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, deviceID)
		for _, d := range chunk {
			args = append(args, d)
		}
		rows, err := s.r.QueryContext(ctx, s.q(`SELECT sha256, body FROM scan_sections WHERE device_id = ? AND sha256 IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("scan sections: %w", err)
		}
		for rows.Next() {
			var d string
			var b []byte
			if err := rows.Scan(&d, &b); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan sections: %w", err)
			}
			out[d] = b
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("scan sections: %w", err)
		}
	}
	return out, nil
}

// reportSections returns the sections of a report worth keeping, by
// digest (a report that is not a scan report has none).
func reportSections(report []byte) map[string][]byte {
	secs, err := protocol.ScanSections(report)
	if err != nil {
		return nil
	}
	out := map[string][]byte{}
	for _, sec := range secs {
		if v := sec.Value(report); len(v) >= protocol.MinSectionBytes {
			out[protocol.SectionDigest(v)] = v
		}
	}
	return out
}

// saveSections keeps a received scan's sections (inside SaveScan's
// transaction, whatever the scan's outcome: a duplicate or an older scan
// is acknowledged too, so the agent takes its sections as held) and drops
// those used by none of the device's latest two scans. A section held
// already is only marked used by this scan, not written again.
func (s *sqlStore) saveSections(ctx context.Context, tx *sql.Tx, deviceID int64, secs map[string][]byte) error {
	if len(secs) == 0 {
		return nil
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(scan_seq), 0) FROM scan_sections WHERE device_id = ?`), deviceID).Scan(&seq); err != nil {
		return fmt.Errorf("scan sections: %w", err)
	}
	seq++
	held := map[string]bool{}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT sha256 FROM scan_sections WHERE device_id = ?`), deviceID)
	if err != nil {
		return fmt.Errorf("scan sections: %w", err)
	}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return fmt.Errorf("scan sections: %w", err)
		}
		held[d] = true
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("scan sections: %w", err)
	}
	var again []any
	for d, body := range secs {
		if held[d] {
			again = append(again, d)
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO scan_sections (device_id, sha256, body, scan_seq) VALUES (?, ?, ?, ?)`),
			deviceID, d, body, seq); err != nil {
			return fmt.Errorf("scan sections: %w", err)
		}
	}
	for start := 0; start < len(again); start += maxSectionLookup {
		chunk := again[start:min(len(again), start+maxSectionLookup)]
		args := append([]any{seq, deviceID}, chunk...)
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE scan_sections SET scan_seq = ? WHERE device_id = ? AND sha256 IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`), args...); err != nil {
			return fmt.Errorf("scan sections: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM scan_sections WHERE device_id = ? AND scan_seq < ?`), deviceID, seq-1); err != nil {
		return fmt.Errorf("scan sections: prune: %w", err)
	}
	return nil
}
