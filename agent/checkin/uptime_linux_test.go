package checkin

import (
	"testing"
	"time"
)

func TestParseProcUptime(t *testing.T) {
	if d, err := parseProcUptime("350735.47 234388.90\n"); err != nil || d.Truncate(time.Second) != 350735*time.Second {
		t.Fatalf("%s %v", d, err)
	}
	for _, bad := range []string{"", "abc 1", "-5 1"} {
		if _, err := parseProcUptime(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if d, err := SystemUptime(t.Context()); err != nil || d <= 0 {
		t.Fatalf("live uptime %s %v", d, err)
	}
}
