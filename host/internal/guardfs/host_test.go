package guardfs

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// hostTree is, under a temporary "/":
//
//	secret                 0600, outside every grant
//	tree/a                 in the read tree
//	tree/in -> a           stays inside
//	tree/out -> ../secret  leaves
//	tree/dangle -> ../new  leaves, dangling
//	tree/dir -> ..         a folder outside
//	tree/abs -> /secret    absolute
//	tree/absin -> <root>/tree/a  absolute, to inside
//	file -> secret         a file grant that is a link (read through it)
//	w/                     the write tree
//	w/dangle -> ../created leaves, dangling
//	w/link -> x            inside
//	w/x
func hostTree(t *testing.T) (string, *FS, *[]string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "secret"), []byte("SECRET"), 0o600))
	must(os.MkdirAll(filepath.Join(root, "tree"), 0o755))
	must(os.MkdirAll(filepath.Join(root, "w"), 0o755))
	must(os.WriteFile(filepath.Join(root, "tree", "a"), []byte("a"), 0o644))
	must(os.WriteFile(filepath.Join(root, "w", "x"), []byte("x"), 0o644))
	for link, target := range map[string]string{"tree/in": "a", "tree/out": "../secret", "tree/dangle": "../new",
		"tree/dir": "..", "tree/abs": "/secret", "file": "secret", "w/dangle": "../created", "w/link": "x"} {
		must(os.Symlink(target, filepath.Join(root, filepath.FromSlash(link))))
	}
	// An absolute link counts as leaving, even to a path inside the tree.
	must(os.Symlink(filepath.Join(root, "tree", "a"), filepath.Join(root, "tree", "absin")))
	var denied []string
	g := New(Options{HostRoot: root, Grants: ParseGrants([]string{"/tree/", "/file"}, []string{"/w/"}),
		Deny: func(p, why string) { denied = append(denied, p+" "+why) }})
	t.Cleanup(func() { g.Close() })
	return root, g, &denied
}

func readAll(t *testing.T, g *FS, p string) (string, experimentalsys.Errno) {
	t.Helper()
	f, errno := g.OpenFile(p, experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		return "", errno
	}
	defer f.Close()
	b, _ := io.ReadAll(reader{f})
	return string(b), 0
}

type reader struct{ f experimentalsys.File }

func (r reader) Read(b []byte) (int, error) {
	n, errno := r.f.Read(b)
	if errno != 0 {
		return n, errno
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func TestHostSymlinkRules(t *testing.T) {
	root, g, denied := hostTree(t)
	for p, want := range map[string]string{"tree/a": "a", "tree/in": "a", "file": "SECRET", "w/x": "x", "w/link": "x"} {
		if got, errno := readAll(t, g, p); errno != 0 || got != want {
			t.Errorf("read %s: %q %v, want %q", p, got, errno, want)
		}
	}
	for _, p := range []string{"tree/out", "tree/dangle", "tree/dir/secret", "tree/abs", "tree/absin", "secret", "w/dangle"} {
		if got, errno := readAll(t, g, p); errno != experimentalsys.EACCES {
			t.Errorf("read %s: %q %v, want EACCES", p, got, errno)
		}
	}
	for _, p := range []string{"tree/dir/secret", "tree/out"} {
		if _, errno := g.Lstat(p); p == "tree/dir/secret" && errno != experimentalsys.EACCES {
			t.Errorf("lstat %s: %v, want EACCES", p, errno)
		}
		if _, errno := g.Stat(p); errno != experimentalsys.EACCES {
			t.Errorf("stat %s: %v, want EACCES", p, errno)
		}
	}
	if st, errno := g.Lstat("tree/out"); errno != 0 || st.Mode.Type() != os.ModeSymlink {
		t.Errorf("lstat of the link itself: %v %v", st.Mode, errno)
	}
	// Writing never follows a link, inside the tree or not.
	for _, p := range []string{"w/dangle", "w/link"} {
		f, errno := g.OpenFile(p, experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_TRUNC, 0o644)
		if errno != experimentalsys.EACCES {
			f.Close()
			t.Errorf("write %s: %v, want EACCES", p, errno)
		}
	}
	if _, err := os.Lstat(filepath.Join(root, "created")); err == nil {
		t.Error("a file was created outside the write tree")
	}
	if errno := g.Utimens("w/link", 0, 0); errno != experimentalsys.EACCES {
		t.Errorf("utimens through a link: %v", errno)
	}
	f, errno := g.OpenFile("w/new", experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_EXCL, 0o644)
	if errno != 0 {
		t.Fatalf("create in the write tree: %v", errno)
	}
	if _, errno := f.Write([]byte("new")); errno != 0 {
		t.Fatal(errno)
	}
	f.Close()
	if errno := g.Rename("w/new", "w/renamed"); errno != 0 {
		t.Fatalf("rename: %v", errno)
	}
	if errno := g.Mkdir("w/d", 0o755); errno != 0 {
		t.Fatalf("mkdir: %v", errno)
	}
	if errno := g.Rmdir("w/d"); errno != 0 {
		t.Fatalf("rmdir: %v", errno)
	}
	if errno := g.Unlink("w/renamed"); errno != 0 {
		t.Fatalf("unlink: %v", errno)
	}
	if errno := g.Rename("w/x", "tree/x"); errno != experimentalsys.EROFS {
		t.Errorf("rename into a read tree: %v", errno)
	}
	// A read-only grant allows no change of times, by path or by handle.
	before, _ := os.Stat(filepath.Join(root, "tree", "a"))
	if errno := g.Utimens("tree/a", 0, 0); errno != experimentalsys.EROFS {
		t.Errorf("utimens on a read grant: %v", errno)
	}
	rf, errno := g.OpenFile("tree/a", experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	if errno := rf.Utimens(0, 0); errno == 0 {
		t.Error("futimens on a read grant")
	}
	if _, errno := rf.Write([]byte("x")); errno == 0 {
		t.Error("write on a read grant")
	}
	rf.Close()
	if after, _ := os.Stat(filepath.Join(root, "tree", "a")); !after.ModTime().Equal(before.ModTime()) {
		t.Error("mtime changed")
	}
	// Directories list and rewind through the grant.
	d, errno := g.OpenFile("tree", experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	if errno != 0 {
		t.Fatal(errno)
	}
	defer d.Close()
	names := func() []string {
		ents, errno := d.Readdir(-1)
		if errno != 0 {
			t.Fatal(errno)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name)
		}
		slices.Sort(out)
		return out
	}
	first := names()
	if _, errno := d.Seek(0, io.SeekStart); errno != 0 {
		t.Fatal(errno)
	}
	if again := names(); !slices.Equal(first, again) || len(first) != 7 {
		t.Errorf("readdir %v, after rewind %v", first, again)
	}
	if !slices.Contains(*denied, "/tree/out "+LeavesGrant) || !slices.Contains(*denied, "/w/link "+WriteSymlink) || !slices.Contains(*denied, "/secret "+Undeclared) {
		t.Errorf("denials: %q", *denied)
	}
	if _, errno := g.LstatInfo("/tree/dir/secret"); errno != experimentalsys.EACCES {
		t.Errorf("LstatInfo through a folder outside: %v", errno)
	}
	if fi, errno := g.LstatInfo("/file"); errno != 0 || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("LstatInfo of a file grant is its own lstat: %v", errno)
	}
}

func TestEscapeRecognised(t *testing.T) {
	r, err := os.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Open("../x"); !isEscape(err) {
		t.Fatalf("os.Root's escape error is not recognised: %v", err)
	}
}
