//go:build linux

package hardening

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// hardenedSSHD is the base tree's sshd_config (this machine may have no
// sshd): every sshd rule of the pack holds.
const hardenedSSHD = `Include /etc/ssh/sshd_config.d/*.conf
PermitRootLogin no
MaxAuthTries 4
X11Forwarding no
PermitUserEnvironment no
ClientAliveInterval 300
PermitEmptyPasswords no
`

// hardenedSysctl is the base tree's drop-in: every kernel parameter rule
// of the pack holds at boot.
const hardenedSysctl = `kernel.randomize_va_space = 2
fs.protected_hardlinks = 1
fs.protected_symlinks = 1
fs.suid_dumpable = 0
`

// opensshStatus makes openssh-server installed in the tree's dpkg
// database, so that the sshd rules apply.
const opensshStatus = `Package: openssh-server
Status: install ok installed
Priority: optional
Section: net
Architecture: amd64
Version: 1:9.2p1-2+deb12u3
Description: secure shell (SSH) server

`

// baseTree copies this machine's account files (owners and modes kept),
// login.defs, os-release and dpkg database into dir, and adds a hardened
// sshd_config, sysctl drop-in, crontab and grub.cfg.
func baseTree(t *testing.T, dir string) {
	t.Helper()
	for _, p := range []string{"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow",
		"/etc/passwd-", "/etc/shadow-", "/etc/group-", "/etc/gshadow-", "/etc/login.defs", "/usr/lib/os-release", "/etc/hostname"} {
		copyKeep(t, p, dir)
	}
	status, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(status), "\nPackage: openssh-server\n") {
		status = append(status, "\n"+opensshStatus...)
	}
	put(t, dir, "var/lib/dpkg/status", string(status), 0o644)
	link(t, dir, "etc/os-release", "../usr/lib/os-release")
	put(t, dir, "etc/ssh/sshd_config", hardenedSSHD, 0o600)
	mkdir(t, dir, "etc/ssh/sshd_config.d")
	put(t, dir, "etc/sysctl.d/60-hardening.conf", hardenedSysctl, 0o644)
	put(t, dir, "etc/crontab", "# m h dom mon dow user command\n", 0o600)
	put(t, dir, "boot/grub/grub.cfg", "set default=0\n", 0o600)
}

// parityTrees are the trees, each the base with one change.
func parityTrees() []tree {
	return []tree{
		{"base", nil},
		{"passwd-mode-0666", func(t *testing.T, d string) { chmod(t, d, "etc/passwd", 0o666) }},
		{"passwd-owner-1000", func(t *testing.T, d string) { chown(t, d, "etc/passwd", 1000, 0) }},
		{"shadow-group-root", func(t *testing.T, d string) { chown(t, d, "etc/shadow", 0, 0) }},
		{"shadow-owner-1000", func(t *testing.T, d string) { chown(t, d, "etc/shadow", 1000, 42) }},
		{"group-group-1000", func(t *testing.T, d string) { chown(t, d, "etc/group", 0, 1000) }},
		{"gshadow-mode-0644", func(t *testing.T, d string) { chmod(t, d, "etc/gshadow", 0o644) }},
		{"shadow-backup-mode-0644", func(t *testing.T, d string) { chmod(t, d, "etc/shadow-", 0o644) }},
		{"passwd-backup-mode-0664", func(t *testing.T, d string) { chmod(t, d, "etc/passwd-", 0o664) }},
		{"gshadow-backup-abs-symlink", func(t *testing.T, d string) {
			remove(t, d, "etc/gshadow-")
			link(t, d, "etc/gshadow-", "/etc/gshadow")
		}},
		{"no-backups", func(t *testing.T, d string) {
			for _, p := range []string{"etc/passwd-", "etc/shadow-", "etc/group-", "etc/gshadow-"} {
				remove(t, d, p)
			}
		}},
		{"uid0-account", func(t *testing.T, d string) { appendTo(t, d, "etc/passwd", "toor:x:0:0:root twin:/root:/bin/sh\n") }},
		{"empty-password", func(t *testing.T, d string) {
			edit(t, d, "etc/shadow", regexp.MustCompile(`(?m)^daemon:[^:]*:`), "daemon::")
		}},
		{"duplicate-name", func(t *testing.T, d string) {
			appendTo(t, d, "etc/passwd", "daemon:x:1999:1:second daemon:/usr/sbin:/usr/sbin/nologin\n")
		}},
		{"root-gid-1000", func(t *testing.T, d string) {
			edit(t, d, "etc/passwd", regexp.MustCompile(`(?m)^root:x:0:0:`), "root:x:0:1000:")
		}},
		{"group-missing", func(t *testing.T, d string) {
			appendTo(t, d, "etc/passwd", "ghost:x:1998:1998::/nonexistent:/usr/sbin/nologin\n")
		}},
		{"umask-027", func(t *testing.T, d string) {
			edit(t, d, "etc/login.defs", regexp.MustCompile(`(?m)^UMASK.*$`), "UMASK\t\t027")
		}},
		{"sshd-permit-root-login-yes", func(t *testing.T, d string) {
			edit(t, d, "etc/ssh/sshd_config", regexp.MustCompile(`(?m)^PermitRootLogin no$`), "PermitRootLogin yes")
		}},
		{"sysctl-aslr-0", func(t *testing.T, d string) {
			put(t, d, "etc/sysctl.d/99-local.conf", "kernel.randomize_va_space = 0\n", 0o644)
		}},
		{"sysctl-symlinks-unset", func(t *testing.T, d string) {
			edit(t, d, "etc/sysctl.d/60-hardening.conf", regexp.MustCompile(`(?m)^fs.protected_symlinks.*\n`), "")
		}},
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, dir, p string) { must(t, os.MkdirAll(filepath.Join(dir, p), 0o755)) }

func put(t *testing.T, dir, p, content string, mode os.FileMode) {
	t.Helper()
	mkdir(t, dir, filepath.Dir(p))
	must(t, os.WriteFile(filepath.Join(dir, p), []byte(content), mode))
	must(t, os.Chmod(filepath.Join(dir, p), mode))
}

// copyKeep copies the host file p into dir at the same path, with its
// mode and owners; a missing file is left out.
func copyKeep(t *testing.T, p, dir string) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		return
	}
	b, err := os.ReadFile(p)
	must(t, err)
	rel := strings.TrimPrefix(p, "/")
	put(t, dir, rel, string(b), fi.Mode().Perm())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		chown(t, dir, rel, int(st.Uid), int(st.Gid))
	}
}

func link(t *testing.T, dir, p, target string) {
	mkdir(t, dir, filepath.Dir(p))
	must(t, os.Symlink(target, filepath.Join(dir, p)))
}

func chmod(t *testing.T, dir, p string, mode os.FileMode) {
	must(t, os.Chmod(filepath.Join(dir, p), mode))
}

func chown(t *testing.T, dir, p string, uid, gid int) {
	must(t, os.Lchown(filepath.Join(dir, p), uid, gid))
}

func remove(t *testing.T, dir, p string) { must(t, os.Remove(filepath.Join(dir, p))) }

func appendTo(t *testing.T, dir, p, s string) {
	f, err := os.OpenFile(filepath.Join(dir, p), os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(s)
	must(t, err)
	must(t, f.Close())
}

// edit replaces what re matches in the file, keeping its mode and owners.
func edit(t *testing.T, dir, p string, re *regexp.Regexp, repl string) {
	t.Helper()
	full := filepath.Join(dir, p)
	b, err := os.ReadFile(full)
	must(t, err)
	if !re.Match(b) {
		t.Fatalf("%s: %s matches nothing", p, re)
	}
	fi, err := os.Stat(full)
	must(t, err)
	must(t, os.WriteFile(full, re.ReplaceAll(b, []byte(repl)), fi.Mode().Perm()))
}
