package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// damagedState damages each agent state file in turn (the agent stopped
// by kill -9 first): the agent keeps running and answering, keeps its
// UUID (identity rules: agent/identity), and keeps the bad bytes as
// <file>.corrupt, logged once.
func (f *faults) damagedState(t *testing.T) {
	p := &platform{t: t, bin: f.platBin, data: t.TempDir(), port: freePort(t)}
	t.Cleanup(p.stop)
	// A worklet assigned, so that worklets-health.json exists.
	p.cli("worklet", "add", filepath.Join(moduleRoot(t), "worklets", "disk-usage-threshold"))
	p.cli("groups", "assign", "default", "disk-usage-threshold", "--param", "max_percent=99")
	key := strings.TrimSpace(p.cli("key"))
	p.fStart("", "--command-timeout", "3s")
	a := fAgent(t, f.agentBin, agentOpts{server: p.url(), trusted: []string{key}})
	a.start()
	dev := enrolled(t, p, a, "")
	state := stateDirOf(a)
	waitFor(t, 60*time.Second, "worklets-health.json after the first assigned scan", func() bool {
		_, err := os.Stat(filepath.Join(state, "worklets-health.json"))
		return err == nil
	}, func() string { return tail(fLog(a), 3000) })

	// device_token comes twice: before device_key (the device enrolls
	// again with its key), and after it, when the platform still has the
	// old key bound: enrolling is refused (409) until an admin resets the
	// device (the identity rules), which the step does.
	files := []string{"device_uuid", "device_token", "device_key", "device_token", "outbox.json", "scan.json", "worklets-health.json", "platform_config.json"}
	var kept, corrupt, answered []string
	newKey := false
	resets := 0
	for _, name := range files {
		garbage := []byte("\x00\xffdamaged " + name + " {\"")
		a.kill9()
		if err := os.WriteFile(filepath.Join(state, name), garbage, 0o600); err != nil {
			t.Fatal(err)
		}
		logFrom := len(fLog(a))
		a.start()
		if name == "device_key" {
			newKey = true
		}
		if name == "device_token" && newKey {
			waitFor(t, 20*time.Second, "the 409 for the new key", func() bool {
				return strings.Contains(fLog(a)[logFrom:], "enrollment refused (409)")
			})
			p.cli("devices", "reset", dev)
			resets++
		}
		id := mustQueue(t, p, "", dev, "execCmd", "GetOS")
		cs := waitAnswered(t, p, "", dev, []int64{id}, 30*time.Second, func() string { l := fLog(a)[logFrom:]; return l[:min(len(l), 6000)] + a.out.String() })
		if cs[id].Status == "ok" && a.running() {
			answered = append(answered, name)
		} else {
			t.Errorf("%s damaged: command %d %s %q, agent running %v", name, id, cs[id].Status, cs[id].Error, a.running())
		}
		if got := strings.TrimSpace(readFile(filepath.Join(state, "device_uuid"))); got == dev {
			kept = append(kept, name)
		} else {
			t.Errorf("%s damaged: device_uuid is now %q, was %s", name, got, dev)
		}
		if n := countDevices(t, p); n != 1 {
			t.Errorf("%s damaged: the platform has %d devices, want 1 (the same device)", name, n)
		}
		b, err := os.ReadFile(filepath.Join(state, name+".corrupt"))
		switch {
		case err != nil:
			t.Errorf("%s damaged: no %s.corrupt: %v", name, name, err)
		case string(b) != string(garbage):
			t.Errorf("%s damaged: %s.corrupt holds %q, not the damaged bytes", name, name, b)
		default:
			corrupt = append(corrupt, name)
		}
		log := fLog(a)[logFrom:]
		if n := strings.Count(log, "moved_to="+filepath.Join(state, name+".corrupt")); n != 1 {
			t.Errorf("%s damaged: logged %d times with moved_to=...%s.corrupt, want once:\n%s", name, n, name, log)
		}
		os.Remove(filepath.Join(state, name+".corrupt"))
	}
	f.tb.add("damaged state files", "7 files, one at a time (device_token twice)", fmt.Sprint(len(files)), fmt.Sprint(len(answered)), fmt.Sprint(len(files)-len(answered)), "0",
		fmt.Sprintf("UUID kept after %d of %d; *.corrupt kept for %d of %d (%s); a damaged token after a new device key: 409 until `amplatform devices reset` (%d reset)", len(kept), len(files), len(corrupt), len(files), strings.Join(files, ", "), resets))
}

func countDevices(t *testing.T, p *platform) int {
	t.Helper()
	return len(p.devices())
}
