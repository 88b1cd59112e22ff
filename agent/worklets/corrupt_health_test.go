package worklets

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/state"
)

// Issue 10 finding 7: a corrupt worklets-health.json was reset without the
// *.corrupt copy the README promises. This test failed on the code before
// the fix.
func TestCorruptHealthKeptAside(t *testing.T) {
	st, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Write(healthKey, []byte("\x00\x00garbage")); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := &Manager{Store: st, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	m.loadHealth()
	if b, err := os.ReadFile(st.Path(healthKey) + ".corrupt"); err != nil || string(b) != "\x00\x00garbage" {
		t.Errorf("no .corrupt copy with the bad bytes: %q %v", b, err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("not logged at ERROR: %s", logs.String())
	}
}
