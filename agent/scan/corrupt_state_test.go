package scan

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/state"
)

// Issue 10 finding 7: a corrupt scan.json was reset without the *.corrupt
// copy the README promises. This test failed on the code before the fix.
func TestCorruptScanStateKeptAside(t *testing.T) {
	st, err := state.NewFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Write(StateKey, []byte(`{"boot_id": tru`)); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := &Scheduler{Store: st, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if _, ok := s.loadState(); ok {
		t.Fatal("a corrupt state was read as good")
	}
	if b, err := os.ReadFile(st.Path(StateKey) + ".corrupt"); err != nil || string(b) != `{"boot_id": tru` {
		t.Errorf("no .corrupt copy with the bad bytes: %q %v", b, err)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "scan.json.corrupt") {
		t.Errorf("not logged once at ERROR with where the bytes went: %s", logs.String())
	}
}
