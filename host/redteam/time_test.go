package redteam

import (
	"context"
	"testing"
	"time"

	"github.com/amagent/amagent/host"
)

// Finding 2: a sleeping module ignored its deadline. Both tests failed on
// the code before the fix: sleep-once ran its full 15 s live and ended
// "compliant"; sleep-loop never ended.

const sleepManifest = "\n[limits]\ntimeout = \"1s\"\nmemory = \"1MiB\"\n"

// TestSleepEndsAtDeadlineLive runs each sleeper live under a 1 s limit:
// the run is a timeout and ends within its deadline plus one second.
func TestSleepEndsAtDeadlineLive(t *testing.T) {
	for _, name := range []string{"sleep-once", "sleep-loop"} {
		t.Run(name, func(t *testing.T) {
			e, _ := engine(t, host.Limits{})
			dir := worklet(t, name, sleepManifest)
			start := time.Now()
			res := runLive(t, e, dir, host.PhaseEvaluate, nil)
			took := time.Since(start)
			if res.Status != host.StatusError || res.ErrorKind != host.KindTimeout {
				t.Errorf("status %s kind %q error %q, want error timeout", res.Status, res.ErrorKind, res.Error)
			}
			if took > 2*time.Second {
				t.Errorf("the run took %v under a 1s limit", took)
			}
		})
	}
}

// TestSleepEndsAtDeadlineReplay: in replay the sleep moves only virtual
// time, and a sleep past the limit is a timeout there too, so that
// `worklet test` shows what the device would.
func TestSleepEndsAtDeadlineReplay(t *testing.T) {
	for _, name := range []string{"sleep-once", "sleep-loop"} {
		t.Run(name, func(t *testing.T) {
			e, _ := engine(t, host.Limits{})
			w, err := e.Load(context.Background(), worklet(t, name, sleepManifest))
			if err != nil {
				t.Fatal(err)
			}
			rec, err := host.ParseRecording([]byte(`{"abi": 1, "time": "2026-11-25T12:00:00Z", "scan": {"os": {"family": "linux"}}}`))
			if err != nil {
				t.Fatal(err)
			}
			env, err := host.ReplayEnv(rec)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := e.Run(context.Background(), w, host.PhaseEvaluate, nil, env)
			if res.ErrorKind != host.KindTimeout {
				t.Errorf("status %s kind %q error %q, want a timeout", res.Status, res.ErrorKind, res.Error)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("a replayed sleep took %v of real time", took)
			}
		})
	}
}
