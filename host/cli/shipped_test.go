package cli

import (
	"path/filepath"
	"testing"

	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/host"
)

// overCap are the shipped worklets allowed to ask for more than the
// agent's default [sandbox] caps, and why.
var overCap = map[string]string{
	"no-world-writable": "find walks whole trees (up to 16 of them) and chmod runs in batches: an admin with large trees raises sandbox.max_timeout and max_exec_calls",
}

// No shipped worklet asks for more than the agent's default caps unless
// listed above: two asked for 30s under the 10s default, and the cap was
// logged as a warning on every scan.
func TestShippedLimitsWithinDefaultCaps(t *testing.T) {
	d := config.Default()
	manifests, err := filepath.Glob("../../worklets/*/worklet.toml")
	if err != nil || len(manifests) == 0 {
		t.Fatalf("no shipped worklets: %v", err)
	}
	for _, f := range manifests {
		dir := filepath.Dir(f)
		m, err := host.LoadManifest(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		if _, ok := overCap[m.Name]; ok {
			continue
		}
		l := m.Limits
		if l.Timeout > d.Sandbox.MaxTimeout {
			t.Errorf("%s: limits.timeout %s is over the default sandbox.max_timeout %s", m.Name, l.Timeout, d.Sandbox.MaxTimeout)
		}
		if l.Memory > d.Sandbox.MaxMemoryBytes() {
			t.Errorf("%s: limits.memory %d is over the default sandbox.max_memory %s", m.Name, l.Memory, d.Sandbox.MaxMemory)
		}
		if int64(l.Output) > d.Sandbox.MaxOutputBytes() {
			t.Errorf("%s: limits.output %d is over the default sandbox.max_output %s", m.Name, l.Output, d.Sandbox.MaxOutput)
		}
		if l.ExecCalls > d.Sandbox.MaxExecCalls {
			t.Errorf("%s: limits.exec_calls %d is over the default sandbox.max_exec_calls %d", m.Name, l.ExecCalls, d.Sandbox.MaxExecCalls)
		}
	}
}
