package host

import (
	"strings"
	"testing"
)

func TestArgvAllowed(t *testing.T) {
	// Failed before the fix: every "denied" row with extra arguments was allowed as a prefix.
	evaluate := Capabilities{
		Read: []string{"/etc/", "/var/log/syslog", "C:/ProgramData/app/"},
		Exec: [][]string{
			{"sshd", "-T"},
			{"find", "{path}", "-xdev", "-type", "f", "-perm", "-0002", "-print"},
			{"systemctl", "is-enabled", "{word}"},
			{"dpkg-query", "-W", "{word}..."},
			{"stat", "-c", "%a", "{path}..."},
			{"journalctl", "-n", "{int}"},
			{"/usr/sbin/nft", "list", "ruleset"},
		},
	}
	remediate := Capabilities{
		Read:  []string{"/etc/ssh/sshd_config"},
		Write: []string{"/etc/ssh/sshd_config.d/"},
		Exec:  [][]string{{"chmod", "o-w", "{path}..."}, {"systemctl", "enable", "--now", "auditd"}},
	}
	long := strings.Repeat("a", 256)
	cases := []struct {
		caps Capabilities
		argv []string
		want bool
	}{
		// literal: whole argv, nothing more, nothing less
		{evaluate, []string{"sshd", "-T"}, true},
		{evaluate, []string{"sshd", "-T", "-C", "user=root"}, false},
		{evaluate, []string{"sshd"}, false},
		{evaluate, []string{"sshd", "-t"}, false},
		{evaluate, []string{"/usr/sbin/sshd", "-T"}, false}, // a program is matched as listed
		{evaluate, []string{"/usr/sbin/nft", "list", "ruleset"}, true},
		{evaluate, []string{"nft", "list", "ruleset"}, false},
		{remediate, []string{"systemctl", "enable", "--now", "auditd"}, true},
		{remediate, []string{"systemctl", "enable", "--now", "auditd", "debug-shell.service"}, false},
		// {path}: absolute, clean, no control characters, inside a grant
		{evaluate, []string{"find", "/etc", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, true},
		{evaluate, []string{"find", "/etc/ssh", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, true},
		{evaluate, []string{"find", "/etc", "-xdev", "-type", "f", "-perm", "-0002", "-o", "-name", "hostname", "-exec", "sh", "-c", "id > F", ";"}, false},
		{evaluate, []string{"find", "/etc", "-xdev", "-type", "f", "-perm", "-0002", "-delete"}, false},
		{evaluate, []string{"find", "/etc", "-xdev", "-type", "f", "-perm", "-0002", "-fprintf", "/tmp/x", "%p"}, false},
		{evaluate, []string{"find", "/usr", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "/etcetera", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "/etc/../root", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "/etc/", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "/etc//ssh", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "/etc/./ssh", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "etc", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "/etc/a\nb", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "/etc/a\x7fb", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"find", "-L", "-xdev", "-type", "f", "-perm", "-0002", "-print"}, false},
		{evaluate, []string{"stat", "-c", "%a", "/var/log/syslog"}, true}, // a file grant: itself
		{evaluate, []string{"stat", "-c", "%a", "/var/log/syslog.1"}, false},
		{evaluate, []string{"stat", "-c", "%a", "/var/log"}, false},
		{evaluate, []string{"stat", "-c", "%a", "/etc/passwd", "/etc/group", "/var/log/syslog"}, true},
		{evaluate, []string{"stat", "-c", "%a", "/etc/passwd", "--format=%n"}, false},
		{evaluate, []string{"stat", "-c", "%a"}, false}, // "..." is one or more
		{evaluate, []string{"stat", "-c", "%a", "C:/ProgramData/app/x.ini"}, true},
		{evaluate, []string{"stat", "-c", "%a", `C:\ProgramData\app\x.ini`}, true},
		{evaluate, []string{"stat", "-c", "%a", `C:\ProgramData\app\..\..\secret`}, false},
		// {path} in remediate: read or write grants; in evaluate never write
		{remediate, []string{"chmod", "o-w", "/etc/ssh/sshd_config.d/a.conf", "/etc/ssh/sshd_config"}, true},
		{remediate, []string{"chmod", "o-w", "--reference=/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/a.conf"}, false},
		{remediate, []string{"chmod", "o-w", "/etc/shadow"}, false},
		{remediate, []string{"chmod", "o+w", "/etc/ssh/sshd_config"}, false},
		// {word}
		{evaluate, []string{"systemctl", "is-enabled", "apt-daily.timer"}, true},
		{evaluate, []string{"systemctl", "is-enabled", "user@1000.service"}, true},
		{evaluate, []string{"systemctl", "is-enabled", "a_b:c+d=e"}, true},
		{evaluate, []string{"systemctl", "is-enabled", long}, true},
		{evaluate, []string{"systemctl", "is-enabled", long + "a"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "--global"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "-H"}, false},
		{evaluate, []string{"systemctl", "is-enabled", ""}, false},
		{evaluate, []string{"systemctl", "is-enabled", "/etc/passwd"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "a/b"}, false},
		{evaluate, []string{"systemctl", "is-enabled", ".."}, false},
		{evaluate, []string{"systemctl", "is-enabled", "a b"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "a;b"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "$(id)"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "*"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "é"}, false},
		{evaluate, []string{"systemctl", "is-enabled", "ssh", "sshd"}, false},
		{evaluate, []string{"dpkg-query", "-W", "openssh-server", "libc6"}, true},
		{evaluate, []string{"dpkg-query", "-W", "openssh-server", "-f=${Package}"}, false},
		// {int}
		{evaluate, []string{"journalctl", "-n", "100"}, true},
		{evaluate, []string{"journalctl", "-n", "0"}, true},
		{evaluate, []string{"journalctl", "-n", "-1"}, false},
		{evaluate, []string{"journalctl", "-n", "+1"}, false},
		{evaluate, []string{"journalctl", "-n", "1e3"}, false},
		{evaluate, []string{"journalctl", "-n", "0x10"}, false},
		{evaluate, []string{"journalctl", "-n", ""}, false},
		{evaluate, []string{"journalctl", "-n", "12345678901234567890"}, false},
		{evaluate, []string{"journalctl", "-n", "1234567890123456789"}, true},
		// a phase's patterns are its own
		{remediate, []string{"sshd", "-T"}, false},
		{Capabilities{}, []string{"true"}, false},
	}
	for _, c := range cases {
		if got := argvAllowed(c.caps, c.argv); got != c.want {
			t.Errorf("argvAllowed(%q) = %v, want %v", c.argv, got, c.want)
		}
	}
}

func TestEvaluateCapsHaveNoWrite(t *testing.T) {
	// "{path}" in evaluate covers read grants only, even when the manifest
	// writes the same path in remediate.
	m, err := ParseManifest([]byte(`abi = 1
kind = "worklet"
name = "x"
version = "1"
module = "m.wasm"
[evaluate]
exec = [["cat", "{path}"]]
[remediate]
write = ["/etc/x.d/"]
exec = [["cat", "{path}"]]
`))
	if err != nil {
		t.Fatal(err)
	}
	if argvAllowed(m.Caps(PhaseEvaluate), []string{"cat", "/etc/x.d/a"}) {
		t.Error("evaluate: {path} allowed a path granted only for writing in remediate")
	}
	if !argvAllowed(m.Caps(PhaseRemediate), []string{"cat", "/etc/x.d/a"}) {
		t.Error("remediate: {path} refused a path under a write grant")
	}
}
