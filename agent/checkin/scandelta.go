package checkin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/amagent/amagent/agent/outbox"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/state"
)

// Scan deltas (protocol/sections.go). The outbox keeps every scan whole;
// the delta is made when a scan is delivered, because only then does the
// agent know which scan the platform acknowledged last. The digests of
// that scan's sections are kept in the state directory
// (KeyScanSections), so that a restart does not cost a full upload.

// KeyScanSections is the state key of the section digests of the last
// scan the platform acknowledged (2xx) while speaking scan deltas.
const KeyScanSections = "scan_sections.json"

type sectionsFile struct {
	ScanID  string   `json:"scan_id"`
	Digests []string `json:"digests"`
}

// scanDelta is the set of section digests the platform holds for this
// device, as far as the agent knows.
type scanDelta struct {
	store state.Store // nil: kept in memory only
	log   *slog.Logger

	mu     sync.Mutex
	loaded bool
	held   map[string]bool
	scanID string
}

func (d *scanDelta) loadLocked() {
	if d.loaded {
		return
	}
	d.loaded = true
	d.held = map[string]bool{}
	if d.store == nil {
		return
	}
	b, err := d.store.Read(KeyScanSections)
	if err != nil {
		if !state.IsNotExist(err) {
			d.log.Error("cannot read the acknowledged scan sections; the next scan is sent in full", "key", KeyScanSections, "error", err)
		}
		return
	}
	var f sectionsFile
	if err := json.Unmarshal(b, &f); err != nil {
		state.SetAside(d.store, KeyScanSections, "acknowledged scan sections (the next scan is sent in full)", err, d.log)
		return
	}
	d.scanID = f.ScanID
	for _, dg := range f.Digests {
		d.held[dg] = true
	}
}

// load reads what the state directory holds (once).
func (d *scanDelta) load() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loadLocked()
}

// holds reports whether the platform holds the section with digest dg.
func (d *scanDelta) holds(dg string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loadLocked()
	return d.held[dg]
}

// set replaces the held set (nil: none) and keeps it in the store when it
// changed.
func (d *scanDelta) set(scanID string, digests []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loadLocked()
	next := make(map[string]bool, len(digests))
	for _, dg := range digests {
		next[dg] = true
	}
	if scanID == d.scanID && mapsEqual(next, d.held) {
		return
	}
	d.held, d.scanID = next, scanID
	if d.store == nil {
		return
	}
	sorted := slices.Sorted(func(yield func(string) bool) {
		for dg := range next {
			if !yield(dg) {
				return
			}
		}
	})
	if sorted == nil {
		sorted = []string{}
	}
	b, _ := json.Marshal(sectionsFile{ScanID: scanID, Digests: sorted})
	if err := d.store.Write(KeyScanSections, b); err != nil {
		// Not fatal: after a restart the agent sends a stale set and the
		// platform asks for the full scan once.
		d.log.Warn("cannot keep the acknowledged scan sections", "key", KeyScanSections, "error", err)
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// scanDeltaBody returns report with every section whose digest held
// reports replaced by its placeholder, how many were, and the digests of
// all the report's sections of at least protocol.MinSectionBytes (what
// the platform keeps once it takes the report).
func scanDeltaBody(report []byte, secs []protocol.ScanSection, held func(string) bool) (body []byte, replaced int, digests []string) {
	dgs := make([]string, len(secs))
	for i, s := range secs {
		if v := s.Value(report); len(v) >= protocol.MinSectionBytes {
			dgs[i] = protocol.SectionDigest(v)
			digests = append(digests, dgs[i])
		}
	}
	if held == nil {
		return report, 0, digests
	}
	body = protocol.Splice(report, secs, func(i int) []byte {
		if dgs[i] == "" || !held(dgs[i]) {
			return nil
		}
		replaced++
		return protocol.Placeholder(dgs[i])
	})
	return body, replaced, digests
}

// sendScan delivers one scan of the outbox: sections the platform holds
// as their digests, gzip-compressed, when the platform speaks scan deltas;
// whole otherwise. A 409 asking for the full scan drops the held set and
// sends the whole scan at once.
func (l *Loop) sendScan(ctx context.Context, it outbox.Item) error {
	var scanID string
	var head struct {
		ScanID string `json:"scan_id"`
	}
	if json.Unmarshal(it.Body, &head) == nil {
		scanID = head.ScanID
	}
	secs, serr := protocol.ScanSections(it.Body)
	deltas := l.o.Client.ScanDeltas()
	var held func(string) bool
	if deltas && serr == nil {
		held = l.delta.holds
	}
	body, replaced, digests := scanDeltaBody(it.Body, secs, held)
	sent, err := l.o.Client.PostScan(ctx, body, deltas)
	if errors.Is(err, ErrFullScanRequired) {
		l.o.Log.Warn("platform does not hold a scan section sent as its digest; sending the full scan", "scan_id", scanID, "error", err.Error())
		l.delta.set("", nil)
		deltas, replaced = l.o.Client.ScanDeltas(), 0
		sent, err = l.o.Client.PostScan(ctx, it.Body, deltas)
		if errors.Is(err, ErrFullScanRequired) {
			// A whole scan has no digest to miss: retrying cannot help.
			return fmt.Errorf("full scan refused as incomplete: %v: %w", err, outbox.ErrPermanent)
		}
	}
	if err != nil {
		return err
	}
	l.o.Log.Info("scan uploaded", "scan_id", scanID, "scan_bytes", len(it.Body), "sent_bytes", sent,
		"gzip", deltas, "sections", len(digests), "sections_as_digest", replaced)
	if l.o.Client.ScanDeltas() && serr == nil {
		l.delta.set(scanID, digests)
	} else {
		l.delta.set("", nil)
	}
	return nil
}
