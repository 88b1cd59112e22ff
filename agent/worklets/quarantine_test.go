package worklets

import (
	"context"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/host"
)

// Modules of the fake sandbox for quarantine tests.
const (
	// modBlocks runs until the agent stops it, then reports what a real
	// module stopped mid-run may report: an exit code the ABI does not
	// define (the worst case: it reads as the module's failure).
	modBlocks = "blocks-until-canceled"
	// modHostError fails for a reason of the agent's own (a damaged
	// compiled-code cache, a read error).
	modHostError = "host-error"
)

func specialModules(started chan<- struct{}) func(ctx context.Context, module string) (protocol.WorkletResult, bool) {
	return func(ctx context.Context, module string) (protocol.WorkletResult, bool) {
		switch module {
		case modBlocks:
			if started != nil {
				started <- struct{}{}
			}
			<-ctx.Done()
			return protocol.WorkletResult{Status: StatusError, Error: "exit 3", ErrorKind: host.KindExit}, true
		case modHostError:
			return protocol.WorkletResult{Status: StatusError, Error: "load: compilationcache: error reading executable: unexpected EOF", ErrorKind: host.KindHost}, true
		}
		return protocol.WorkletResult{}, false
	}
}

// Issue 10 finding 2: three Ctrl-C's during scans quarantined 6 of 7
// worklets, because every run the shutdown cut short counted as a failed
// run. This test failed on the code before the fix (the fourth scan was
// "quarantined").
func TestShutdownDuringScansNeverQuarantines(t *testing.T) {
	p, pub := newPlatform(t)
	m, sb, _ := newManager(t, p, pub)
	started := make(chan struct{}, 8)
	sb.special = specialModules(started)
	m.SetAssignments([]protocol.Assignment{
		p.add("slow", "1", "worklet", "", []byte(modBlocks)),
	})
	for i := range 3 { // three Ctrl-C's, each during a scan
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan []protocol.WorkletResult)
		go func() { done <- m.Evaluate(ctx, nil) }()
		<-started
		cancel()
		rs := <-done
		if rs[0].ErrorKind != host.KindCanceled {
			t.Fatalf("Ctrl-C %d: result %+v, want error_kind canceled", i+1, rs[0])
		}
	}
	// The module still runs: the fourth scan is not "quarantined".
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan []protocol.WorkletResult)
	go func() { done <- m.Evaluate(ctx, nil) }()
	<-started
	cancel()
	<-done
	if h := m.health["slow"]; h.Quarantined || h.ErrorStreak != 0 {
		t.Fatalf("health after four interrupted scans: %+v, want no streak and no quarantine", *h)
	}
	if len(sb.runs) != 4 {
		t.Fatalf("runs %v, want 4", sb.runs)
	}
}

// Failures of the agent's own (cache, I/O, download) never count, and do
// not reset a streak of the module's own failures either.
func TestAgentFaultsNeverQuarantine(t *testing.T) {
	p, pub := newPlatform(t)
	m, sb, _ := newManager(t, p, pub)
	sb.special = specialModules(nil)
	good := p.add("cachehit", "1", "worklet", "", []byte(modHostError))
	missing := p.add("nodownload", "1", "worklet", "", []byte(StatusCompliant))
	missing.URL = "/bundles/nowhere/1"
	m.SetAssignments([]protocol.Assignment{good, missing})
	for range 5 {
		rs := m.Evaluate(t.Context(), nil)
		for _, r := range rs {
			if r.Status != StatusError || r.ErrorKind != host.KindHost {
				t.Fatalf("result %+v, want error of kind host", r)
			}
		}
	}
	for _, name := range []string{"cachehit", "nodownload"} {
		if h := m.health[name]; h.Quarantined || h.ErrorStreak != 0 {
			t.Fatalf("%s: health %+v after five failures of the agent's own", name, *h)
		}
	}
}

// A quarantined worklet reports status quarantined with the reason; a
// higher release counter in the next config lifts it, a repeated one
// does not, and the counter survives a restart.
func TestReleaseLiftsQuarantine(t *testing.T) {
	p, pub := newPlatform(t)
	m, sb, logs := newManager(t, p, pub)
	a := p.add("crashy", "1", "worklet", "", []byte(StatusError))
	m.SetAssignments([]protocol.Assignment{a})
	for range QuarantineAfter {
		m.Evaluate(t.Context(), nil)
	}
	r := m.Evaluate(t.Context(), nil)[0]
	if r.Status != StatusQuarantined || !strings.Contains(r.Error, "trap: unreachable") || !strings.Contains(r.Error, "amplatform worklet release crashy") {
		t.Fatalf("quarantined result %+v", r)
	}
	runs := len(sb.runs)

	a.Release = 1
	m.SetAssignments([]protocol.Assignment{a})
	if r := m.Evaluate(t.Context(), nil)[0]; r.Status != StatusError || len(sb.runs) != runs+1 {
		t.Fatalf("after release: %+v, runs %d (want the module run again)", r, len(sb.runs)-runs)
	}
	if !strings.Contains(logs.String(), "worklet released from quarantine by the platform") {
		t.Fatal("release not logged")
	}
	// It fails again and is quarantined again; the same counter does not
	// release it, also not after a restart.
	for range QuarantineAfter - 1 {
		m.Evaluate(t.Context(), nil)
	}
	m2 := &Manager{Log: m.Log, Cache: m.Cache, Fetch: p.fetch, TrustedKeys: m.TrustedKeys, Sandbox: sb, Store: m.Store}
	m2.SetAssignments([]protocol.Assignment{a})
	if s := m2.Evaluate(t.Context(), nil)[0].Status; s != StatusQuarantined {
		t.Fatalf("same release counter after restart: %s, want quarantined", s)
	}
	a.Release = 2
	m2.SetAssignments([]protocol.Assignment{a})
	if s := m2.Evaluate(t.Context(), nil)[0].Status; s != StatusError {
		t.Fatalf("release 2 after restart: %s, want the module run (error)", s)
	}
}

// A device that first learns of a worklet with a release counter already
// above 0 (released for other devices long ago) keeps its own quarantine:
// only a counter that grows while the agent watches lifts one.
func TestFirstSeenReleaseDoesNotLift(t *testing.T) {
	p, pub := newPlatform(t)
	m, _, _ := newManager(t, p, pub)
	a := p.add("crashy", "1", "worklet", "", []byte(StatusError))
	m.SetAssignments([]protocol.Assignment{a})
	for range QuarantineAfter {
		m.Evaluate(t.Context(), nil)
	}
	// Simulate a health file from before release counters existed.
	m.health["crashy"].ReleaseSeen = false
	a.Release = 7
	m.SetAssignments([]protocol.Assignment{a})
	if s := m.Evaluate(t.Context(), nil)[0].Status; s != StatusQuarantined {
		t.Fatalf("status %s, want quarantined", s)
	}
}
