// Command template is a worklet template in Go: copy the directory, change
// the name in worklet.toml, and write the check. It reports compliant when
// no reboot is pending (fact reboot_required), or when param allow_pending
// is true; not applicable outside Linux.
package main

import (
	"github.com/amagent/amagent/wasm-modules/go/amagent"
)

func main() {
	in, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	if in.Phase == amagent.PhaseRemediate {
		// Run allow-listed programs with amagent.Exec(argv, stdin, timeout),
		// then amagent.Succeeded(...) or amagent.Failed(...).
		amagent.Failed("no remediation: reboot the device in a maintenance window", nil)
	}

	allow, err := in.ParamBool("allow_pending", false)
	if err != nil {
		amagent.Fatal(err)
	}
	family, err := amagent.FactString("os.family")
	if err != nil {
		amagent.Fatal(err)
	}
	if family != "linux" {
		amagent.NotApplicable("only for linux, this is "+family, nil)
	}
	pending, err := amagent.FactBool("reboot_required")
	if err != nil {
		amagent.Fatal(err)
	}
	amagent.Logf(amagent.LevelDebug, "reboot_required=%v allow_pending=%v", pending, allow)
	details := map[string]bool{"reboot_required": pending}
	switch {
	case !pending:
		amagent.Compliant("no reboot pending", details)
	case allow:
		amagent.Compliant("reboot pending, allowed by allow_pending", details)
	default:
		amagent.NonCompliant("reboot pending", details)
	}
}
