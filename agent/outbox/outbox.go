// Package outbox keeps the results and scans that could not be delivered
// to the platform, in the state directory, and delivers them in order
// later (after the next successful check-in, also across restarts).
//
// The outbox is one JSON file rewritten atomically on every change. It is
// bounded by bytes: when an addition does not fit, the oldest scans are
// dropped first, then the oldest results, each drop logged.
//
// A failed save (a full disk) loses nothing and sends nothing twice from
// this process: an added item whose save failed is held in memory and
// delivered all the same (only a restart before the disk recovers loses
// it, and that is logged); a delivered item whose removal could not be
// saved is marked delivered in memory, never sent again by this process,
// and removed once a later save succeeds. Were the agent restarted before
// that, the platform receives it again and keeps it once (by scan id or
// command id).
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/amagent/amagent/agent/state"
)

// Key is the state key of the outbox file.
const Key = "outbox.json"

// DefaultMaxBytes bounds the outbox when Open is given no bound.
const DefaultMaxBytes = 32 << 20

// Kinds of item.
const (
	KindResult = "result"
	KindScan   = "scan"
)

// itemOverhead approximates the bytes an item costs beyond its body.
const itemOverhead = 128

// Item is one undelivered report: a JSON Body to POST to Path.
type Item struct {
	Seq   uint64          `json:"seq"`
	Kind  string          `json:"kind"`
	Path  string          `json:"path"`
	Body  json.RawMessage `json:"body"`
	Added time.Time       `json:"added"`

	// delivered: sent, but its removal is not saved yet.
	delivered bool
}

func (it Item) size() int64 { return int64(len(it.Body) + len(it.Path) + itemOverhead) }

// ErrPermanent marks a delivery failure that retrying cannot fix (the
// platform rejected the item); Flush drops such an item and goes on.
var ErrPermanent = errors.New("rejected by the platform")

// Outbox is safe for concurrent use.
type Outbox struct {
	store state.Store
	log   *slog.Logger
	max   int64
	now   func() time.Time

	flushMu sync.Mutex // one delivery at a time, so order holds
	mu      sync.Mutex
	items   []Item
	size    int64
	seq     uint64
}

type file struct {
	Seq   uint64 `json:"seq"`
	Items []Item `json:"items"`
}

// Open loads the outbox kept in store. A corrupt file is logged, moved
// aside (when the store can) and replaced by an empty outbox.
func Open(store state.Store, maxBytes int64, log *slog.Logger) (*Outbox, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	o := &Outbox{store: store, log: log, max: maxBytes, now: time.Now}
	b, err := store.Read(Key)
	switch {
	case state.IsNotExist(err):
		return o, nil
	case err != nil:
		return nil, fmt.Errorf("reading outbox: %w", err)
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		state.SetAside(store, Key, "outbox", err, log)
		return o, nil
	}
	o.seq = f.Seq
	for _, it := range f.Items {
		if it.Seq > o.seq {
			o.seq = it.Seq
		}
		o.items = append(o.items, it)
		o.size += it.size()
	}
	if len(o.items) > 0 {
		log.Info("outbox loaded", "items", len(o.items), "bytes", o.size)
	}
	return o, nil
}

// Add appends a report to the outbox and saves it. When the outbox would
// exceed its bound, older items are dropped: scans first, then results.
func (o *Outbox) Add(kind, path string, body []byte) error {
	if !json.Valid(body) {
		return fmt.Errorf("outbox: %s for %s is not valid JSON", kind, path)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	it := Item{Seq: o.seq + 1, Kind: kind, Path: path, Body: append(json.RawMessage(nil), body...), Added: o.now().UTC()}
	if it.size() > o.max {
		o.log.Error("report dropped: larger than the whole outbox", "kind", kind, "path", path, "bytes", len(body), "outbox_max_bytes", o.max)
		return fmt.Errorf("outbox: %s of %d bytes exceeds the outbox bound of %d bytes", kind, len(body), o.max)
	}
	o.seq++
	o.items = append(o.items, it)
	o.size += it.size()
	for o.size > o.max {
		o.dropOldestLocked()
	}
	if err := o.saveLocked(); err != nil {
		// The item is held in memory and delivered as usual; it is only
		// not durable until a later save succeeds.
		o.log.Warn("outbox not saved; the report is held in memory until delivered", "kind", kind, "path", path, "error", err.Error())
	}
	return nil
}

// dropOldestLocked drops the oldest scan, or the oldest result when no
// scan is left (never the item just added, which is last).
func (o *Outbox) dropOldestLocked() {
	idx := 0
	for i, it := range o.items[:len(o.items)-1] {
		if it.delivered {
			idx = i // already delivered: dropping it loses nothing
			break
		}
		if it.Kind == KindScan {
			idx = i
			break
		}
	}
	it := o.items[idx]
	o.items = append(o.items[:idx], o.items[idx+1:]...)
	o.size -= it.size()
	o.log.Warn("outbox full: dropped oldest report", "kind", it.Kind, "path", it.Path, "added", it.Added, "bytes", len(it.Body), "outbox_max_bytes", o.max)
}

// saveLocked writes the items not yet delivered; once that is saved, the
// delivered ones are gone from memory too.
func (o *Outbox) saveLocked() error {
	keep := make([]Item, 0, len(o.items))
	var size int64
	for _, it := range o.items {
		if !it.delivered {
			keep = append(keep, it)
			size += it.size()
		}
	}
	b, err := json.Marshal(file{Seq: o.seq, Items: keep})
	if err != nil {
		return err
	}
	if err := o.store.Write(Key, b); err != nil {
		return fmt.Errorf("saving outbox: %w", err)
	}
	o.items, o.size = keep, size
	return nil
}

// Len is the number of items waiting (not yet delivered).
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, it := range o.items {
		if !it.delivered {
			n++
		}
	}
	return n
}

// Items returns a copy of the waiting items, oldest first.
func (o *Outbox) Items() []Item {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]Item, 0, len(o.items))
	for _, it := range o.items {
		if !it.delivered {
			out = append(out, it)
		}
	}
	return out
}

// Flush delivers the waiting items in order with send, removing each one
// delivered. It stops at the first failure (the item stays, to be retried)
// except for ErrPermanent failures, whose item is dropped and logged. An
// item is removed only once its removal is saved; until then it is kept,
// marked delivered, and not sent again. err reports a failed delivery;
// a failed save is logged and retried at the next change.
func (o *Outbox) Flush(ctx context.Context, send func(context.Context, Item) error) (sent int, err error) {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	o.mu.Lock()
	o.compactLocked()
	o.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		o.mu.Lock()
		it, ok := o.nextLocked()
		o.mu.Unlock()
		if !ok {
			return sent, nil
		}

		serr := send(ctx, it)
		if serr != nil && !errors.Is(serr, ErrPermanent) {
			return sent, serr
		}
		if serr != nil {
			o.log.Error("report rejected by the platform; dropped", "kind", it.Kind, "path", it.Path, "error", serr)
		} else {
			sent++
		}
		o.mu.Lock()
		o.markLocked(it.Seq)
		o.compactLocked()
		o.mu.Unlock()
	}
}

// nextLocked is the oldest item not yet delivered.
func (o *Outbox) nextLocked() (Item, bool) {
	for _, it := range o.items {
		if !it.delivered {
			return it, true
		}
	}
	return Item{}, false
}

func (o *Outbox) markLocked(seq uint64) {
	for i := range o.items {
		if o.items[i].Seq == seq {
			o.items[i].delivered = true
			return
		}
	}
}

// compactLocked removes the delivered items when a save without them
// succeeds; otherwise they stay, marked, and the failure is logged.
func (o *Outbox) compactLocked() {
	for _, it := range o.items {
		if it.delivered {
			if err := o.saveLocked(); err != nil {
				o.log.Warn("outbox: delivered reports could not be removed from the saved outbox yet; they will not be sent again by this process", "error", err.Error())
			}
			return
		}
	}
}
