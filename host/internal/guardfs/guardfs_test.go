package guardfs

import (
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

func TestGuard(t *testing.T) {
	backend := &sysfs.AdaptFS{FS: fstest.MapFS{
		"etc/ssh/sshd_config":        {Data: []byte("x")},
		"etc/ssh/ssh_host_key":       {Data: []byte("secret")},
		"etc/ssh/sshd_config.d/a":    {Data: []byte("a")},
		"etc/shadow":                 {Data: []byte("root")},
		"var/log/syslog":             {Data: []byte("log")},
		"etc/ssh/sshd_config.d/b/c":  {Data: []byte("c")},
		"etc/ssh/sshd_config.dx/bad": {Data: []byte("no")},
	}}
	var denied []string
	g := New(Options{Backend: backend, Grants: ParseGrants([]string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/"}, nil),
		Deny: func(p, why string) { denied = append(denied, p+" "+why) }})
	open := func(p string, flag experimentalsys.Oflag) experimentalsys.Errno {
		f, errno := g.OpenFile(p, flag, 0)
		if f != nil {
			f.Close()
		}
		return errno
	}
	for p, want := range map[string]experimentalsys.Errno{
		"etc/ssh/sshd_config":                0,
		"etc/ssh/sshd_config.d/a":            0,
		"etc/ssh/sshd_config.d/b/c":          0,
		"etc/ssh/sshd_config.d/../a":         experimentalsys.EACCES, // cleans to etc/ssh/a
		"etc/ssh/ssh_host_key":               experimentalsys.EACCES,
		"etc/ssh/sshd_config.dx/bad":         experimentalsys.EACCES, // a prefix of the name is not the tree
		"etc/shadow":                         experimentalsys.EACCES,
		"etc/ssh/sshd_config.d/../../shadow": experimentalsys.EACCES,
		"var/log/syslog":                     experimentalsys.EACCES,
	} {
		if got := open(p, experimentalsys.O_RDONLY); got != want {
			t.Errorf("open %s: %v, want %v", p, got, want)
		}
	}
	if got := open("etc/ssh/sshd_config", experimentalsys.O_RDWR); got != experimentalsys.EROFS {
		t.Errorf("write to a read grant: %v", got)
	}
	if got := open("etc/ssh/sshd_config.d/new", experimentalsys.O_CREAT|experimentalsys.O_WRONLY); got != experimentalsys.EROFS {
		t.Errorf("create in a read tree: %v", got)
	}
	if got := open("etc/x", experimentalsys.O_CREAT|experimentalsys.O_WRONLY); got != experimentalsys.EACCES {
		t.Errorf("create beside a grant: %v", got)
	}
	if got := g.Unlink("etc/shadow"); got != experimentalsys.EACCES {
		t.Errorf("unlink outside: %v", got)
	}
	if g.Symlink("etc/shadow", "etc/ssh/sshd_config.d/l") != experimentalsys.EPERM || g.Link("etc/shadow", "etc/ssh/sshd_config.d/l") != experimentalsys.EPERM {
		t.Error("links allowed")
	}
	// Directories above the grants list only the way to them.
	for dir, want := range map[string][]string{".": {"etc"}, "etc": {"ssh"}, "etc/ssh": {"sshd_config", "sshd_config.d"}} {
		f, errno := g.OpenFile(dir, experimentalsys.O_RDONLY, 0)
		if errno != 0 {
			t.Fatalf("open %s: %v", dir, errno)
		}
		ents, errno := f.Readdir(-1)
		f.Close()
		var names []string
		for _, e := range ents {
			names = append(names, e.Name)
		}
		slices.Sort(names)
		if errno != 0 || !slices.Equal(names, want) {
			t.Errorf("readdir %s: %v %v, want %v", dir, names, errno, want)
		}
	}
	if _, errno := g.Stat("etc/shadow"); errno != experimentalsys.EACCES {
		t.Errorf("stat outside: %v", errno)
	}
	if !slices.Contains(denied, "/etc/shadow undeclared") || !slices.Contains(denied, "/var/log/syslog undeclared") {
		t.Errorf("denials: %q", denied)
	}
	// A read-only grant's file refuses every change.
	f, errno := g.OpenFile("etc/ssh/sshd_config", experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer f.Close()
	if _, e := f.Write([]byte("x")); e == 0 {
		t.Error("write to a read-only file")
	}
	if e := f.Utimens(1, 1); e == 0 || e == experimentalsys.EPERM || e == experimentalsys.ENOSYS {
		t.Errorf("utimens on a read-only file: %v", e)
	}
	if st, errno := g.Stat("etc"); errno != 0 || !fs.FileMode(st.Mode).IsDir() {
		t.Errorf("stat ancestor: %v", errno)
	}
}

func TestNoGrantsEmptyRoot(t *testing.T) {
	g := New(Options{Backend: &sysfs.AdaptFS{FS: fstest.MapFS{"a": {}}}})
	d, errno := g.OpenFile(".", experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		t.Fatalf("the root cannot be opened: %v", errno)
	}
	defer d.Close()
	if ents, errno := d.Readdir(-1); errno != 0 || len(ents) != 0 {
		t.Errorf("root lists %v %v without grants", ents, errno)
	}
	if _, errno := g.OpenFile("a", experimentalsys.O_RDONLY, 0); errno != experimentalsys.EACCES {
		t.Errorf("a file without grants: %v", errno)
	}
}
