package sshworklet

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/amagent/amagent/worklets/internal/sshdconf"
)

var passwordSpec = Spec{
	What:   "sshd refuses password logins",
	DropIn: "/etc/ssh/sshd_config.d/00-amagent-password.conf",
	Rules: []Rule{
		{Keyword: "PasswordAuthentication", Default: "yes", Allowed: []string{"no"}, Want: "no"},
		{Keyword: "KbdInteractiveAuthentication", Aliases: []string{"challengeresponseauthentication"}, Default: "yes", Allowed: []string{"no"}, Want: "no"},
	},
}

func load(t *testing.T, main string, overlay map[string]string) *sshdconf.Config {
	t.Helper()
	cfg, err := sshdconf.Load(fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte(main)}}, overlay)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name, main string
		violations []string
	}{
		{"defaults", "UsePAM yes\n", []string{"PasswordAuthentication yes (default)", "KbdInteractiveAuthentication yes (default)"}},
		{"alias counts", "PasswordAuthentication no\nChallengeResponseAuthentication no\n", nil},
		{"first value wins", "PasswordAuthentication no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n", nil},
		{"match block", "PasswordAuthentication no\nKbdInteractiveAuthentication no\nMatch User alice\n PasswordAuthentication yes\n",
			[]string{"PasswordAuthentication yes in Match User alice (/etc/ssh/sshd_config:4)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := passwordSpec.check(load(t, tt.main, nil))
			if strings.Join(d.Violations, "|") != strings.Join(tt.violations, "|") {
				t.Errorf("violations = %q, want %q", d.Violations, tt.violations)
			}
			if got := matchViolations(d); got != strings.Contains(tt.name, "match") {
				t.Errorf("matchViolations = %v", got)
			}
		})
	}
}

func TestDropInTakesEffectOnlyWithInclude(t *testing.T) {
	content := passwordSpec.dropIn("ssh-no-password-login")
	if !strings.Contains(content, "PasswordAuthentication no\nKbdInteractiveAuthentication no\n") || !strings.HasPrefix(content, "# Written by the amagent worklet ssh-no-password-login") {
		t.Errorf("drop-in = %q", content)
	}
	overlay := map[string]string{passwordSpec.DropIn: content}
	with := passwordSpec.check(load(t, "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication yes\n", overlay))
	if len(with.Violations) != 0 {
		t.Errorf("with Include: %q", with.Violations)
	}
	without := passwordSpec.check(load(t, "PasswordAuthentication yes\n", overlay))
	if len(without.Violations) == 0 {
		t.Error("without Include the drop-in must not count")
	}
}
