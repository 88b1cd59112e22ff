package redteam

import (
	"strings"
	"testing"

	"github.com/amagent/amagent/host"
)

// Finding 8 (host side): a secret parameter must appear nowhere but the
// module's stdin. A module that prints its own input put the secret in its
// result and in the agent log; this test failed on the code before the fix.
func TestSecretParamNotInResultOrLog(t *testing.T) {
	const secret = "s3cr3t-VALUE/with\"quote"
	e, logs := engine(t, host.Limits{})
	dir := worklet(t, "echo-stdin", "\n[params.token]\ntype = \"string\"\nsecret = true\n[params.plain]\ntype = \"string\"\ndefault = \"visible-value\"\n")
	res := runLive(t, e, dir, host.PhaseEvaluate, map[string]any{"token": secret})
	if res.Status != host.StatusCompliant {
		t.Fatalf("status %s (%s)", res.Status, res.Error)
	}
	all := res.Message + string(res.Details) + strings.Join(res.Denied, " ") + logs.String()
	for _, form := range []string{secret, `s3cr3t-VALUE/with\"quote`, "s3cr3t-VALUE"} {
		if strings.Contains(all, form) {
			t.Errorf("the secret (%q) shows in the result or the log", form)
		}
	}
	if l := logs.String(); !strings.Contains(l, "visible-value") || !strings.Contains(l, "(secret)") {
		t.Errorf("the module's stderr was not logged with only the secret replaced: %.400q", l)
	}
}
