package sshdconf

import (
	"errors"
	"testing"
	"testing/fstest"
)

const debianMain = `# This is the sshd server system-wide configuration file.
Include /etc/ssh/sshd_config.d/*.conf

#PermitRootLogin prohibit-password
KbdInteractiveAuthentication no
UsePAM yes
Subsystem sftp /usr/lib/openssh/sftp-server
`

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/ssh/sshd_config":                    {Data: []byte(debianMain + "PermitRootLogin yes\nMatch User backup\n  PermitRootLogin yes\n")},
		"etc/ssh/sshd_config.d/50-local.conf":    {Data: []byte("permitrootlogin=\"no\"\r\nPasswordAuthentication no # trailing\n")},
		"etc/ssh/sshd_config.d/10-first.conf":    {Data: []byte("Match Address 10.0.0.0/8\nPasswordAuthentication yes\n")},
		"etc/ssh/sshd_config.d/not-included.txt": {Data: []byte("PermitRootLogin yes\n")},
	}
	cfg, err := Load(fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := cfg.Global("PermitRootLogin")
	if !ok || s.Value != "no" || s.File != "/etc/ssh/sshd_config.d/50-local.conf" || s.Line != 1 {
		t.Errorf("Global(PermitRootLogin) = %+v, %v", s, ok)
	}
	// The Match block of 10-first.conf ends with that file, so the
	// PasswordAuthentication of 50-local.conf is global.
	if s, ok := cfg.Global("passwordauthentication"); !ok || s.Value != "no" {
		t.Errorf("Global(PasswordAuthentication) = %+v, %v", s, ok)
	}
	m := cfg.InMatch("PasswordAuthentication")
	if len(m) != 1 || m[0].Match != "Address 10.0.0.0/8" || m[0].Value != "yes" {
		t.Errorf("InMatch(PasswordAuthentication) = %+v", m)
	}
	if m := cfg.InMatch("PermitRootLogin"); len(m) != 1 || m[0].Match != "User backup" {
		t.Errorf("InMatch(PermitRootLogin) = %+v", m)
	}
	if _, ok := cfg.Global("PubkeyAuthentication"); ok {
		t.Error("PubkeyAuthentication should be unset")
	}
}

func TestOverlayDropIn(t *testing.T) {
	fsys := fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte(debianMain)}}
	cfg, err := Load(fsys, map[string]string{"/etc/ssh/sshd_config.d/00-amagent-root.conf": "PermitRootLogin no\n"})
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := cfg.Global("PermitRootLogin"); !ok || s.Value != "no" {
		t.Errorf("overlay drop-in not applied: %+v %v", s, ok)
	}
	// Without an Include the drop-in has no effect.
	fsys = fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte("PermitRootLogin yes\n")}}
	cfg, err = Load(fsys, map[string]string{"/etc/ssh/sshd_config.d/00-amagent-root.conf": "PermitRootLogin no\n"})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := cfg.Global("PermitRootLogin"); s.Value != "yes" {
		t.Errorf("drop-in applied without Include: %+v", s)
	}
}

func TestMissingAndLoops(t *testing.T) {
	if _, err := Load(fstest.MapFS{}, nil); !errors.Is(err, ErrNoConfig) {
		t.Errorf("Load(empty) = %v, want ErrNoConfig", err)
	}
	loop := fstest.MapFS{"etc/ssh/sshd_config": {Data: []byte("Include sshd_config\n")}}
	if _, err := Load(loop, nil); err == nil {
		t.Error("Include loop: want an error")
	}
}
