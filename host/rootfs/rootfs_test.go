package rootfs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestResolve(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "a/b"), 0o755)
	_ = os.Symlink("/a", filepath.Join(dir, "abs"))
	_ = os.Symlink("loop", filepath.Join(dir, "loop"))
	_ = os.Symlink("../../../..", filepath.Join(dir, "a/up"))
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, c := range []struct {
		in, want string
		follow   bool
	}{
		{"abs/b", "a/b", true}, {"abs", "a", true}, {"abs", "abs", false}, {"a/up/a/b", "a/b", true},
		{"a/../../..", ".", true}, {"abs/new/file", "a/new/file", true}, {".", ".", true},
	} {
		if got, err := Resolve(r, c.in, c.follow); err != nil || got != c.want {
			t.Errorf("Resolve(%q, %v) = %q, %v; want %q", c.in, c.follow, got, err, c.want)
		}
	}
	if _, err := Resolve(r, "loop", true); err == nil {
		t.Error("a link loop resolved")
	}
}

// FS reads a tree with absolute links resolved in it, and Refuse decides
// on the resolved path (a link to /proc is refused as /proc).
func TestFS(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := t.TempDir()
	_ = os.MkdirAll(filepath.Join(dir, "usr/lib"), 0o755)
	_ = os.MkdirAll(filepath.Join(dir, "etc"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "usr/lib/os-release"), []byte("ID=tree\n"), 0o644)
	_ = os.Symlink("/usr/lib/os-release", filepath.Join(dir, "etc/os-release"))
	_ = os.Symlink("/proc/self/mounts", filepath.Join(dir, "etc/mtab"))
	f, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	no := errors.New("refused")
	f.Refuse = func(p string) error {
		if p == "proc" || len(p) > 5 && p[:5] == "proc/" {
			return no
		}
		return nil
	}
	if b, err := fs.ReadFile(f, "etc/os-release"); err != nil || string(b) != "ID=tree\n" {
		t.Errorf("os-release: %q %v", b, err)
	}
	if _, err := fs.ReadFile(f, "etc/mtab"); !errors.Is(err, no) {
		t.Errorf("etc/mtab: %v, want refused", err)
	}
	if fi, err := fs.Lstat(f, "etc/os-release"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("lstat: %v %v", fi, err)
	}
	if ents, err := fs.ReadDir(f, "etc"); err != nil || len(ents) != 2 {
		t.Errorf("readdir: %v %v", ents, err)
	}
}
