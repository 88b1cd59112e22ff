package guardfs

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/amagent/amagent/host/rootfs"
)

// A --root tree whose links have absolute targets (as every image has:
// /etc/localtime, alternatives, a moved /etc): each resolves inside the
// tree as the kernel would in a chroot there, never to the host's file of
// that name, and a link that ends outside its grant is still refused.
func TestChrootAbsoluteLinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		must(os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		must(os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644))
	}
	link := func(p, target string) {
		must(os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755))
		must(os.Symlink(target, filepath.Join(dir, p)))
	}
	write("real-etc/passwd", "tree passwd")
	write("real-etc/ssh/real.conf", "tree conf")
	write("usr/share/zoneinfo/UTC", "tree zone")
	link("etc", "/real-etc")                              // a whole /etc moved, by an absolute link
	link("real-etc/localtime", "/usr/share/zoneinfo/UTC") // a file grant that is a link
	link("real-etc/ssh/a.conf", "/etc/ssh/real.conf")     // inside its tree, through /etc
	link("real-etc/ssh/up.conf", "../../../../../../etc/passwd")
	link("real-etc/ssh/shadow", "/etc/passwd") // outside the tree grant
	link("real-etc/ssh/host", "/proc/self/environ")
	var denied []string
	g := New(Options{HostRoot: dir, Grants: ParseGrants([]string{"/etc/passwd", "/etc/localtime", "/etc/ssh/"}, nil),
		Deny: func(p, why string) { denied = append(denied, p+" "+why) }})
	defer g.Close()
	for p, want := range map[string]string{"etc/passwd": "tree passwd", "etc/localtime": "tree zone",
		"etc/ssh/real.conf": "tree conf", "etc/ssh/a.conf": "tree conf"} {
		if got, errno := readAll(t, g, p); errno != 0 || got != want {
			t.Errorf("read %s: %q %v, want %q", p, got, errno, want)
		}
	}
	for _, p := range []string{"etc/ssh/shadow", "etc/ssh/up.conf"} {
		if got, errno := readAll(t, g, p); errno != experimentalsys.EACCES {
			t.Errorf("read %s: %q %v, want EACCES (leaves the tree grant)", p, got, errno)
		}
	}
	if got, errno := readAll(t, g, "etc/ssh/host"); errno == 0 {
		t.Errorf("read etc/ssh/host: %q: a host file was read", got)
	}
	fi, errno := g.LstatInfo("/etc/localtime")
	if errno != 0 || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("lstat /etc/localtime: %v %v, want the link itself", fi, errno)
	}
	if target, errno := g.Readlink("etc/localtime"); errno != 0 || target != "/usr/share/zoneinfo/UTC" {
		t.Errorf("readlink: %q %v", target, errno)
	}
	if len(denied) == 0 {
		t.Error("no refusal reported")
	}
	if b, err := rootfs.ReadFile(dir, "etc/passwd"); err != nil || string(b) != "tree passwd" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
}
