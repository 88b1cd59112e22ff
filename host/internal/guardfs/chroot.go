package guardfs

// This file resolves paths in a host root that is not the machine's own
// "/" (a mounted image or container root given with --root, a replay's
// scratch copy) the way the kernel would inside a chroot there
// (rootfs.Resolve): a symbolic link with an absolute target starts again
// at that root, and ".." stops at it, and no access reaches a file
// outside it.

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/amagent/amagent/host/rootfs"
)

// isMachineRoot reports whether dir is the machine's root directory ("/",
// or a volume's root on Windows), where the kernel's own look-up is right.
func isMachineRoot(dir string) bool {
	c := filepath.Clean(dir)
	return c == string(filepath.Separator) || c == filepath.VolumeName(c)+string(filepath.Separator)
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
	if top, err = rootfs.Resolve(r, gr.Path, true); err != nil {
		return nil, "", "", err
	}
	dir, err := rootfs.Resolve(r, path.Dir(gr.Path), true)
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
	full, err := rootfs.Resolve(r, path.Join(top, rel), follow)
	if err != nil {
		return "", err
	}
	return within(top, full)
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
	rel, err := rootfs.Resolve(r, p, true)
	if err != nil {
		return nil, err
	}
	return r.Open(rel)
}
