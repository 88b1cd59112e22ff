//go:build wasip1

// Command ssh-no-password-login is an amagent worklet: sshd must refuse
// password logins (PasswordAuthentication no and, unless the parameter
// check_keyboard_interactive is false, KbdInteractiveAuthentication no,
// since keyboard-interactive through PAM also asks for the password). The
// remediation writes /etc/ssh/sshd_config.d/00-amagent-password.conf,
// checks it with `sshd -t` and reloads sshd.
package main

import (
	"github.com/amagent/amagent/wasm-modules/go/amagent"
	"github.com/amagent/amagent/worklets/internal/sshworklet"
)

func main() {
	doc, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	kbd, err := doc.ParamBool("check_keyboard_interactive", true)
	if err != nil {
		amagent.Fatal(err)
	}
	rules := []sshworklet.Rule{{Keyword: "PasswordAuthentication", Default: "yes", Allowed: []string{"no"}, Want: "no"}}
	if kbd {
		rules = append(rules, sshworklet.Rule{
			Keyword: "KbdInteractiveAuthentication",
			Aliases: []string{"challengeresponseauthentication"},
			Default: "yes", Allowed: []string{"no"}, Want: "no",
		})
	}
	sshworklet.Run(doc, sshworklet.Spec{
		What:   "sshd refuses password logins",
		Fail:   "sshd allows password logins",
		DropIn: "/etc/ssh/sshd_config.d/00-amagent-password.conf",
		Rules:  rules,
	})
}
