package guardfs

// This file resolves paths in a host root that is not the machine's own
// "/" (a mounted image or container root given with --root, a replay's
// scratch copy) the way the kernel would inside a chroot there: a symbolic
// link with an absolute target starts again at that root, and ".." stops
// at it. Every look-up goes through an os.Root opened at the root, so
// whatever the tree holds, or however it changes meanwhile, no access
// reaches a file outside it (os.Root refuses absolute links and escapes;
// the resolver hands it paths whose every component it has seen to be no
// link).

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks is how many symbolic links one resolution follows (Linux's
// MAXSYMLINKS).
const maxLinks = 40

// isMachineRoot reports whether dir is the machine's root directory ("/",
// or a volume's root on Windows), where the kernel's own look-up is right.
func isMachineRoot(dir string) bool {
	c := filepath.Clean(dir)
	return c == string(filepath.Separator) || c == filepath.VolumeName(c)+string(filepath.Separator)
}

// Resolve resolves the clean slash path p (relative to r, "." for r
// itself) inside r with chroot semantics and returns a path relative to r
// none of whose components is a symbolic link, except the last when
// follow is false. A component that does not exist ends the walk: the
// rest is appended as it is (so that a file may be created there).
func Resolve(r *os.Root, p string, follow bool) (string, error) {
	var done []string // resolved components, none a link
	todo := splitPath(p)
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cand := strings.Join(append(done[:len(done):len(done)], c), "/")
		if len(todo) == 0 && !follow {
			done = append(done, c)
			break
		}
		fi, err := r.Lstat(cand)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				done = append(done, c)
				done = append(done, todo...)
				todo = nil
				break
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		target, err := r.Readlink(cand)
		if err != nil {
			return "", err
		}
		target = filepath.ToSlash(target)
		if strings.HasPrefix(target, "/") {
			done = done[:0]
		}
		todo = append(splitPath(target), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Clean(strings.Join(done, "/")), nil
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// within is rel (resolved, relative to the root) relative to top (also
// resolved), or errEscape when rel is not top or below it.
func within(top, rel string) (string, error) {
	switch {
	case top == ".":
		return rel, nil
	case rel == top:
		return ".", nil
	case strings.HasPrefix(rel, top+"/"):
		return rel[len(top)+1:], nil
	}
	return "", &fs.PathError{Op: "resolve", Path: rel, Err: errEscape}
}

// chrootRoot is the os.Root at the FS's host root, opened once per run.
func (g *FS) chrootRoot() (*os.Root, error) {
	g.chrootOnce.Do(func() { g.chrootR, g.chrootErr = os.OpenRoot(g.host) })
	return g.chrootR, g.chrootErr
}

// resolvedGrant is where the grant's own path is in the chroot: top
// follows the grant's last link (a file grant is read through its link, a
// tree is the directory it names); name does not (lstat, changes).
func (g *FS) resolvedGrant(gr *grant) (r *os.Root, top, name string, err error) {
	if r, err = g.chrootRoot(); err != nil {
		return nil, "", "", err
	}
	if top, err = Resolve(r, gr.Path, true); err != nil {
		return nil, "", "", err
	}
	dir, err := Resolve(r, path.Dir(gr.Path), true)
	if err != nil {
		return nil, "", "", err
	}
	return r, top, path.Join(dir, path.Base(gr.Path)), nil
}

// inTree maps rel inside a tree grant to the same file as the chroot
// sees it, relative to the tree's resolved top: absolute links resolve in
// the chroot, and a link that ends outside the tree leaves its grant.
// Outside chroot mode rel is returned as it is (os.Root follows relative
// links inside the tree and refuses the rest).
func (g *FS) inTree(gr *grant, rel string, follow bool) (string, error) {
	if !g.chroot || rel == "." {
		return rel, nil
	}
	r, top, _, err := g.resolvedGrant(gr)
	if err != nil {
		return "", err
	}
	full, err := Resolve(r, path.Join(top, rel), follow)
	if err != nil {
		return "", err
	}
	return within(top, full)
}

// ReadFile reads the file at the clean slash path p (relative to dir)
// with chroot semantics: what the path-metadata fact reads of a --root
// tree's /etc/passwd and /etc/group.
func ReadFile(dir, p string) ([]byte, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	rel, err := Resolve(r, p, true)
	if err != nil {
		return nil, err
	}
	return r.ReadFile(rel)
}

// openOwn opens the grant's own path, following its link (in the chroot
// when there is one).
func (gr *grant) openOwn(flag int) (*os.File, error) {
	if !gr.g.chroot {
		return os.OpenFile(gr.abs, flag, 0)
	}
	r, top, _, err := gr.g.resolvedGrant(gr)
	if err != nil {
		return nil, err
	}
	return r.OpenFile(top, flag, 0)
}

// statOwn is the stat (follow) or lstat of the grant's own path.
func (gr *grant) statOwn(follow bool) (fs.FileInfo, error) {
	if !gr.g.chroot {
		if follow {
			return os.Stat(gr.abs)
		}
		return os.Lstat(gr.abs)
	}
	r, top, name, err := gr.g.resolvedGrant(gr)
	if err != nil {
		return nil, err
	}
	if follow {
		return r.Stat(top)
	}
	return r.Lstat(name)
}

// readlinkOwn reads the grant's own path as a link.
func (gr *grant) readlinkOwn() (string, error) {
	if !gr.g.chroot {
		return os.Readlink(gr.abs)
	}
	r, _, name, err := gr.g.resolvedGrant(gr)
	if err != nil {
		return "", err
	}
	return r.Readlink(name)
}

// parentOwn opens the directory that holds the grant's own path and
// names it there.
func (gr *grant) parentOwn() (*parentDir, string, error) {
	if !gr.g.chroot {
		d, err := openParentAbs(filepath.Dir(gr.abs))
		return d, filepath.Base(gr.abs), err
	}
	r, _, name, err := gr.g.resolvedGrant(gr)
	if err != nil {
		return nil, "", err
	}
	d, err := openParentIn(r, path.Dir(name))
	return d, path.Base(name), err
}

// openTop opens the directory a tree grant names as an os.Root.
func (gr *grant) openTop() (*os.Root, error) {
	if !gr.g.chroot {
		return os.OpenRoot(gr.abs)
	}
	r, top, _, err := gr.g.resolvedGrant(gr)
	if err != nil {
		return nil, err
	}
	return r.OpenRoot(top)
}

// openHostDir opens the directory p (clean, relative to "/") above the
// grants.
func (g *FS) openHostDir(p string) (*os.File, error) {
	if !g.chroot {
		return os.Open(g.hostPath(p))
	}
	r, err := g.chrootRoot()
	if err != nil {
		return nil, err
	}
	rel, err := Resolve(r, p, true)
	if err != nil {
		return nil, err
	}
	return r.Open(rel)
}
