package host

import (
	"strings"
	"testing"
	"time"
)

// A manifest limit over the agent's cap is logged as a warning once, not
// at every run (the agent loads the module for each run, so a worklet
// asking 30s under the default 10s cap warned on every scan).
func TestCapWarnedOnce(t *testing.T) {
	e, logs := newTestEngine(t, Limits{MaxTimeout: 10 * time.Second})
	dir := writeWorklet(t, "exit.wasm", "", "[limits]\ntimeout = \"30s\"\n")
	for range 3 {
		w, err := e.Load(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		if w.limits.timeout != 10*time.Second {
			t.Fatalf("timeout %s, want the 10s cap", w.limits.timeout)
		}
	}
	var warn, debug int
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "capped by the agent") {
			switch {
			case strings.Contains(l, "level=WARN"):
				warn++
			case strings.Contains(l, "level=DEBUG"):
				debug++
			}
		}
	}
	if warn != 1 || debug != 2 {
		t.Errorf("%d warnings and %d debug lines, want 1 and 2:\n%s", warn, debug, logs)
	}
}
