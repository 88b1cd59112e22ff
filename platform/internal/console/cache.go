package console

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// DefaultAggregateTTL is how long fleet-wide figures are served from
// memory.
const DefaultAggregateTTL = 10 * time.Second

// refreshWait is how long a request waits for a figure being computed
// again before it is served the one before.
const refreshWait = 200 * time.Millisecond

// refreshFactor spaces refreshes of a figure by at least this many times
// the last computation's duration, so that figures which take a second at
// 100,000 devices cost at most a tenth of a core in the background.
const refreshFactor = 10

// settings is where an aggregate keeps its newest value (the store's
// platform settings).
type settings interface {
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
}

// aggregate holds one fleet-wide figure (the fleet summary, pending
// updates, operating systems) that costs a pass over every device. It is
// computed at most once per TTL, by one goroutine at a time; a request
// that finds it stale waits for the next one at most refreshWait, then
// is served the stale one (get). With a
// key, the newest value is also kept in the store's settings, so that a
// console that starts serves the value its predecessor computed (pages
// show how old figures are) instead of making the first request wait; only
// a store that never had one makes the first request wait, and it waits
// for the computation Warm started, not for a second one.
type aggregate[T any] struct {
	key     string
	st      settings
	ttl     time.Duration
	compute func(context.Context) (T, error)

	mu      sync.Mutex
	val     T
	at      time.Time
	ok      bool
	looked  bool          // the kept value was looked for
	running chan struct{} // closed when the computation in flight ends
	err     error         // that computation's error
	took    time.Duration // the last computation's duration
}

// newAggregate makes an aggregate kept under key in st (not kept when key
// is empty). A negative ttl computes the figure for every request.
func newAggregate[T any](key string, st settings, ttl time.Duration, compute func(context.Context) (T, error)) *aggregate[T] {
	return &aggregate[T]{key: key, st: st, ttl: ttl, compute: compute}
}

// kept is an aggregate's value as stored in the settings, with how long
// it took to compute.
type kept[T any] struct {
	At     time.Time `json:"at"`
	TookMS int64     `json:"took_ms"`
	Value  T         `json:"value"`
}

const aggregateKeyPrefix = "console.aggregate."

// get returns the figure and when it was computed. A figure older than
// the TTL is computed again and, when its last computation took less than
// refreshWait, waited for up to refreshWait: a small fleet's figures are
// always fresh, a large fleet's page does not wait for its pass over
// every device but shows the figures it has, with their age, until the
// pass ends.
func (a *aggregate[T]) get(ctx context.Context) (T, time.Time, error) {
	if a.ttl < 0 {
		v, err := a.compute(ctx)
		return v, time.Now(), err
	}
	done := a.prefetch(ctx)
	a.mu.Lock()
	had, took := a.ok, a.took
	a.mu.Unlock()
	if done == nil || (had && took >= refreshWait) {
		// Fresh, or a pass that would not end in time: what is held.
		return a.stale()
	}
	var timeout <-chan time.Time
	if had {
		t := time.NewTimer(refreshWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-done:
	case <-timeout:
	case <-ctx.Done():
		var zero T
		return zero, time.Time{}, ctx.Err()
	}
	return a.stale()
}

// stale returns the value held, or the last computation's error when
// there is none.
func (a *aggregate[T]) stale() (T, time.Time, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.ok {
		var zero T
		return zero, time.Time{}, a.err
	}
	return a.val, a.at, nil
}

// prefetch loads the kept value once and, when the figure is due, starts
// computing it unless a computation is in flight; it returns that
// computation, nil when the figure is fresh. Console.Warm and a page that
// reads several figures call it first, so that their passes overlap.
func (a *aggregate[T]) prefetch(ctx context.Context) <-chan struct{} {
	if a.ttl < 0 {
		return nil
	}
	a.load(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ok && time.Since(a.at) < max(a.ttl, refreshFactor*a.took) {
		return nil
	}
	if a.running == nil {
		a.start(ctx)
	}
	return a.running
}

// load reads the kept value once, unless a value is already computed.
func (a *aggregate[T]) load(ctx context.Context) {
	a.mu.Lock()
	if a.looked || a.key == "" || a.st == nil {
		a.looked = true
		a.mu.Unlock()
		return
	}
	a.looked = true
	a.mu.Unlock()
	s, found, err := a.st.Setting(ctx, aggregateKeyPrefix+a.key)
	if err != nil || !found {
		return
	}
	var k kept[T]
	if json.Unmarshal([]byte(s), &k) != nil || k.At.IsZero() {
		return // a value of an older shape: computed afresh
	}
	a.mu.Lock()
	if !a.ok {
		a.val, a.at, a.ok = k.Value, k.At, true
		a.took = time.Duration(k.TookMS) * time.Millisecond
	}
	a.mu.Unlock()
}

// start runs one computation in the background; a.mu is held.
func (a *aggregate[T]) start(ctx context.Context) {
	done := make(chan struct{})
	a.running = done
	go func() {
		defer close(done)
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		t0 := time.Now()
		v, err := a.compute(cctx)
		took := time.Since(t0)
		at := time.Now()
		a.mu.Lock()
		a.running, a.err, a.took = nil, err, took
		if err == nil {
			a.val, a.at, a.ok = v, at, true
		}
		a.mu.Unlock()
		if err == nil && a.key != "" && a.st != nil {
			if b, err := json.Marshal(kept[T]{At: at, TookMS: took.Milliseconds(), Value: v}); err == nil {
				// Best effort: a value not kept is computed again by the
				// next console to start.
				_ = a.st.SetSetting(cctx, aggregateKeyPrefix+a.key, string(b))
			}
		}
	}()
}
