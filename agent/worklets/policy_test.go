package worklets

import (
	"context"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/protocol"
)

// TestPatchPolicyDecisionChecked: a policy's install list is checked like
// the InstallUpdate command: a name a package manager reads as another
// action never reaches the installer. Failed before the fix (issue 9,
// finding 5): "openssh-server-" went to InstallUpdate as it was.
func TestPatchPolicyDecisionChecked(t *testing.T) {
	p, pub := newPlatform(t)
	m, _, logs := newManager(t, p, pub)
	called := 0
	m.Install = func(context.Context, []string) (bool, error) { called++; return true, nil }
	m.SetAssignments([]protocol.Assignment{p.add("patch-policy", "1", "policy", "immediately", []byte("install:openssh-server-"))})
	m.Evaluate(t.Context(), []byte(`{"pending_updates":[{"name":"openssh-server"}]}`))
	if called != 0 {
		t.Fatal("the installer was called")
	}
	if !strings.Contains(logs.String(), `patch policy decision refused`) || !strings.Contains(logs.String(), `openssh-server-`) {
		t.Fatalf("log: %s", logs.String())
	}
}
