package outbox

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/amagent/amagent/agent/state"
)

// fullStore is a state store whose writes fail while full is set, as on a
// full disk.
type fullStore struct {
	*state.MemStore
	mu   sync.Mutex
	full bool
}

func (f *fullStore) Write(key string, b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.full {
		return errors.New("write outbox.json: no space left on device")
	}
	return f.MemStore.Write(key, b)
}

func (f *fullStore) setFull(v bool) { f.mu.Lock(); f.full = v; f.mu.Unlock() }

// Issue 10 findings 3 and 4. Both failed on the code before the fix: a
// report added while the disk was full came back as an error although it
// was then delivered, and a delivered scan whose removal could not be
// saved was sent again after a restart (where it replaced a newer scan).
func TestFullDiskLosesNothingAndSendsNothingTwice(t *testing.T) {
	st := &fullStore{MemStore: state.NewMemStore()}
	var logs strings.Builder
	o, err := Open(st, 0, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	st.setFull(true)
	if err := o.Add(KindScan, "/scan", []byte(`{"scan_id":"old"}`)); err != nil {
		t.Fatalf("a report held in memory was reported as an error: %v", err)
	}
	var sent []string
	send := func(_ context.Context, it Item) error { sent = append(sent, string(it.Body)); return nil }
	if n, err := o.Flush(t.Context(), send); n != 1 || err != nil {
		t.Fatalf("flush on a full disk: n=%d err=%v", n, err)
	}
	// Still full: the delivered scan is not sent again by this process.
	if n, _ := o.Flush(t.Context(), send); n != 0 || o.Len() != 0 {
		t.Fatalf("a delivered scan was sent again (n=%d, waiting %d)", n, o.Len())
	}
	// The disk recovers; a newer report is added and saved: the
	// delivered scan is not in the saved outbox.
	st.setFull(false)
	if err := o.Add(KindScan, "/scan", []byte(`{"scan_id":"new"}`)); err != nil {
		t.Fatal(err)
	}
	o2, err := Open(st, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var after []string
	if _, err := o2.Flush(t.Context(), func(_ context.Context, it Item) error { after = append(after, string(it.Body)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(after, " ") != `{"scan_id":"new"}` {
		t.Errorf("after a restart the outbox sent %v, want only the new scan", after)
	}
	if strings.Join(sent, " ") != `{"scan_id":"old"}` {
		t.Errorf("sent %v", sent)
	}
	if !strings.Contains(logs.String(), "held in memory") {
		t.Errorf("the failed save was not logged: %s", logs.String())
	}
}

// A delivered item whose removal failed is removed by the next flush once
// the disk recovers, without sending it again.
func TestDeliveredRemovedOnceDurable(t *testing.T) {
	st := &fullStore{MemStore: state.NewMemStore()}
	o, _ := Open(st, 0, slog.New(slog.DiscardHandler))
	if err := o.Add(KindResult, "/commands/1/result", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	st.setFull(true)
	n := 0
	send := func(context.Context, Item) error { n++; return nil }
	o.Flush(t.Context(), send)
	st.setFull(false)
	o.Flush(t.Context(), send)
	o2, _ := Open(st, 0, slog.New(slog.DiscardHandler))
	if n != 1 || o2.Len() != 0 {
		t.Errorf("sent %d times; %d left after a restart", n, o2.Len())
	}
}
