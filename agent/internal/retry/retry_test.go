package retry

import (
	"testing"
	"time"
)

func TestSequenceWithoutJitter(t *testing.T) {
	b := New(time.Minute, 30*time.Minute, 0, nil)
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i, w := range want {
		if got := b.Next(); got != w*time.Minute {
			t.Fatalf("wait %d = %s, want %s", i, got, w*time.Minute)
		}
	}
	b.Reset()
	if got := b.Next(); got != time.Minute {
		t.Fatalf("after reset: %s", got)
	}
}

func TestJitterBoundsAndSpread(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999999} {
		b := New(time.Minute, 30*time.Minute, 0.2, func() float64 { return r })
		for i, base := range []time.Duration{1, 2, 4, 8, 16, 30, 30} {
			got := b.Next()
			lo := time.Duration(float64(base*time.Minute) * 0.8)
			hi := min(time.Duration(float64(base*time.Minute)*1.2), 30*time.Minute)
			if got < lo || got > hi {
				t.Fatalf("r=%v wait %d = %s, outside [%s, %s]", r, i, got, lo, hi)
			}
		}
	}
	// Real randomness spreads a fleet: 50 agents do not all wait the same.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[New(time.Minute, 30*time.Minute, -1, nil).Next()] = true
	}
	if len(seen) < 10 {
		t.Fatalf("only %d distinct first waits out of 50", len(seen))
	}
}
