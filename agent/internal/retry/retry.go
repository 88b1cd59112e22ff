// Package retry is the agent's one exponential backoff: cenkalti/backoff/v4
// wrapped once, so that every retrying loop waits the same way. Waits start
// at Initial, double up to Max, and carry a jitter that spreads a fleet
// that failed together without ever exceeding Max.
package retry

import (
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// DefaultJitter is the fraction of each wait that is randomised.
const DefaultJitter = 0.2

// Backoff yields the waits between failed attempts. It is not safe for
// concurrent use; each loop owns one.
type Backoff struct {
	exp    *backoff.ExponentialBackOff
	max    time.Duration
	jitter float64
	rand   func() float64
}

// New returns a backoff from initial doubling to max. jitter is the
// fraction of randomness (0 disables it; negative means DefaultJitter);
// rnd returns numbers in [0,1) (nil means math/rand/v2).
func New(initial, max time.Duration, jitter float64, rnd func() float64) *Backoff {
	if jitter < 0 {
		jitter = DefaultJitter
	}
	if jitter > 1 {
		jitter = 1
	}
	if rnd == nil {
		rnd = rand.Float64
	}
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(initial),
		backoff.WithMultiplier(2),
		backoff.WithMaxInterval(max),
		backoff.WithRandomizationFactor(0), // jitter is ours, bounded by max
		backoff.WithMaxElapsedTime(0),      // retry for ever
	)
	return &Backoff{exp: exp, max: max, jitter: jitter, rand: rnd}
}

// Next returns the wait before the next attempt: the exponential value d
// with a jitter drawn in [d(1-j), min(d(1+j), max)].
func (b *Backoff) Next() time.Duration {
	d := b.exp.NextBackOff()
	if d == backoff.Stop || d > b.max { // cannot happen with MaxElapsedTime 0; be safe
		d = b.max
	}
	if b.jitter == 0 {
		return d
	}
	lo := float64(d) * (1 - b.jitter)
	hi := float64(d) * (1 + b.jitter)
	if hi > float64(b.max) {
		hi = float64(b.max)
	}
	return time.Duration(lo + b.rand()*(hi-lo))
}

// Reset starts again from the initial wait (after a success).
func (b *Backoff) Reset() { b.exp.Reset() }
