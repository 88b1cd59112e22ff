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
	g := New(backend, ParseGrants([]string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/"}, nil), "")
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
		"etc/ssh/sshd_config.d/../a":         experimentalsys.ENOENT, // cleans to etc/ssh/a
		"etc/ssh/ssh_host_key":               experimentalsys.ENOENT,
		"etc/ssh/sshd_config.dx/bad":         experimentalsys.ENOENT, // a prefix of the name is not the tree
		"etc/shadow":                         experimentalsys.ENOENT,
		"etc/ssh/sshd_config.d/../../shadow": experimentalsys.ENOENT,
		"var/log/syslog":                     experimentalsys.ENOENT,
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
	if got := open("etc/x", experimentalsys.O_CREAT|experimentalsys.O_WRONLY); got != experimentalsys.ENOENT {
		t.Errorf("create beside a grant: %v", got)
	}
	if got := g.Unlink("etc/shadow"); got != experimentalsys.ENOENT {
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
	if _, errno := g.Stat("etc/shadow"); errno != experimentalsys.ENOENT {
		t.Errorf("stat outside: %v", errno)
	}
	if st, errno := g.Stat("etc"); errno != 0 || !fs.FileMode(st.Mode).IsDir() {
		t.Errorf("stat ancestor: %v", errno)
	}
}

func TestNoGrantsNoRoot(t *testing.T) {
	g := New(&sysfs.AdaptFS{FS: fstest.MapFS{"a": {}}}, nil, "")
	if _, errno := g.OpenFile(".", experimentalsys.O_RDONLY, 0); errno != experimentalsys.ENOENT {
		t.Errorf("root visible without grants: %v", errno)
	}
}
