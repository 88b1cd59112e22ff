//go:build wasip1

// Command ssh-no-root-login is an amagent worklet: sshd must refuse root
// logins (PermitRootLogin no, or with the policy parameter
// permit_root_login = "prohibit-password", key-only root logins). The
// remediation writes /etc/ssh/sshd_config.d/00-amagent-root.conf, checks it
// with `sshd -t` and reloads sshd.
package main

import (
	"fmt"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
	"github.com/amagent/amagent/worklets/internal/sshworklet"
)

func main() {
	doc, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	policy, err := doc.ParamString("permit_root_login", "no")
	if err != nil {
		amagent.Fatal(err)
	}
	rule := sshworklet.Rule{Keyword: "PermitRootLogin", Default: "prohibit-password", Want: policy}
	switch policy {
	case "no":
		rule.Allowed = []string{"no"}
	case "prohibit-password":
		// without-password is the old name; forced-commands-only is stricter.
		rule.Allowed = []string{"no", "prohibit-password", "without-password", "forced-commands-only"}
	default:
		amagent.Fatal(fmt.Errorf("param permit_root_login: %q is not one of \"no\", \"prohibit-password\"", policy))
	}
	sshworklet.Run(doc, sshworklet.Spec{
		What:   "sshd refuses root logins (PermitRootLogin " + policy + ")",
		Fail:   "sshd allows root logins",
		DropIn: "/etc/ssh/sshd_config.d/00-amagent-root.conf",
		Rules:  []sshworklet.Rule{rule},
	})
}
