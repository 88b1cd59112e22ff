package redteam

import (
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
)

// Finding 9: a module printing 64 KiB of NULs yielded a 393 KB message
// with no truncation flag. This test failed on the code before the fix.
func TestMessageMadeSafe(t *testing.T) {
	e, _ := engine(t, host.Limits{})
	res := runLive(t, e, worklet(t, "nul-flood", "\n[limits]\noutput = \"128KiB\"\n"), host.PhaseEvaluate, nil)
	if res.Status != host.StatusCompliant {
		t.Fatalf("status %s (%s)", res.Status, res.Error)
	}
	if len(res.Message) > 4096 {
		t.Errorf("message is %d bytes, over 4 KiB", len(res.Message))
	}
	if strings.ContainsFunc(res.Message, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }) {
		t.Errorf("message keeps control characters: %q", res.Message)
	}
	if !strings.Contains(res.Message, "]0;pwned") {
		t.Errorf("the printable text was lost: %q", res.Message)
	}
}
