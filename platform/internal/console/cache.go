package console

import (
	"context"
	"sync"
	"time"
)

// DefaultAggregateTTL is how long fleet-wide figures are served from
// memory.
const DefaultAggregateTTL = 10 * time.Second

// aggregate holds one fleet-wide figure (the fleet summary, pending
// updates, the trend) that costs a pass over every device. It is computed
// at most once per TTL: a stale value is served while one goroutine
// computes the next, so that only the first request after start waits
// for it. Pages show how old the figures are.
type aggregate[T any] struct {
	mu         sync.Mutex
	val        T
	at         time.Time
	ok         bool
	refreshing bool
}

func (a *aggregate[T]) get(ctx context.Context, ttl time.Duration, compute func(context.Context) (T, error)) (T, time.Time, error) {
	if ttl < 0 {
		v, err := compute(ctx)
		return v, time.Now(), err
	}
	a.mu.Lock()
	if a.ok && (time.Since(a.at) < ttl || a.refreshing) {
		v, at := a.val, a.at
		a.mu.Unlock()
		return v, at, nil
	}
	if a.ok {
		a.refreshing = true
		v, at := a.val, a.at
		a.mu.Unlock()
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			nv, err := compute(cctx)
			a.mu.Lock()
			if err == nil {
				a.val, a.at = nv, time.Now()
			}
			a.refreshing = false
			a.mu.Unlock()
		}()
		return v, at, nil
	}
	a.mu.Unlock()
	v, err := compute(ctx)
	if err != nil {
		return v, time.Time{}, err
	}
	a.mu.Lock()
	a.val, a.at, a.ok = v, time.Now(), true
	a.mu.Unlock()
	return v, time.Now(), nil
}
