package store

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type pruneCounter struct {
	Store
	mu    sync.Mutex
	calls []time.Time
}

func (p *pruneCounter) PruneHistory(ctx context.Context, before time.Time, perDevice int, now time.Time) (HistoryPruned, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, before)
	return HistoryPruned{Scans: 1}, nil
}

// The pruner prunes at start and then every 10 minutes, keeping 30 days by
// default, and stops with its context.
func TestHistoryPrunerSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &pruneCounter{}
		ctx, cancel := context.WithCancel(t.Context())
		var reported int
		done := make(chan error)
		go func() {
			done <- HistoryPruner{Store: st, Report: func(p HistoryPruned, err error) { reported++ }}.Run(ctx)
		}()
		start := time.Now()
		time.Sleep(25 * time.Minute)
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if len(st.calls) != 3 || reported != 3 {
			t.Fatalf("%d prunes, %d reports in 25 minutes, want 3 (at 0, 10 and 20 minutes)", len(st.calls), reported)
		}
		if got := start.Sub(st.calls[0]); got != DefaultHistoryRetention {
			t.Fatalf("first prune keeps %s, want %s", got, DefaultHistoryRetention)
		}
	})
}
