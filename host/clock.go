package host

import (
	"context"
	"time"

	"github.com/tetratelabs/wazero/sys"
)

// deadlineSleep is a live run's sleep (poll_oneoff clock subscriptions):
// it sleeps at most until the run's deadline and wakes as soon as the run
// ends, so that a module sleeping for an hour under a one-second limit
// holds nothing for more than that second.
func deadlineSleep(ctx context.Context) sys.Nanosleep {
	return func(ns int64) {
		d := time.Duration(ns)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
			// The sleep would reach the deadline: it ends when the run
			// does, so that the run is already over (a timeout) when
			// the guest wakes, whatever it does next.
			<-ctx.Done()
			return
		}
		if d <= 0 || ctx.Err() != nil {
			return
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
}

// virtualClock is a replay run's clock: it starts at the recording's time
// and moves only by what the guest does (each reading a microsecond, each
// sleep its length), so a run is the same on every machine. A sleep that
// would pass the run's limit ends the run as a timeout, as it would live.
type virtualClock struct {
	base    time.Time
	elapsed int64
	limit   int64  // ns; 0: none
	expire  func() // ends the run as a timeout
}

func (c *virtualClock) walltime() (int64, int32) {
	t := c.base.Add(time.Duration(c.elapsed))
	return t.Unix(), int32(t.Nanosecond())
}

func (c *virtualClock) nanotime() int64 {
	c.elapsed += 1000
	return c.elapsed
}

func (c *virtualClock) sleep(ns int64) {
	if ns < 0 {
		return
	}
	if c.limit > 0 && c.elapsed+ns >= c.limit {
		c.elapsed = c.limit
		if c.expire != nil {
			c.expire()
		}
		return
	}
	c.elapsed += ns
}
