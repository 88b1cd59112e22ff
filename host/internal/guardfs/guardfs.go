// Package guardfs is the file system a guest sees: a wazero sys.FS mounted
// at "/" that shows only the paths a manifest grants, read-only unless
// granted for writing, over a backend (the host's "/" when live, the
// recording's files in replay).
//
// Paths reach the FS relative to "/" and already cleaned by wazero, which
// refuses any path that climbs above the mount with "..". The guard cleans
// again, answers ENOENT for anything not granted (nothing else is visible),
// lets the ancestors of granted paths be opened as directories whose listing
// shows only the way to the grants, and, when the backend is the host,
// resolves symbolic links so that a link inside a grant cannot lead out of it.
package guardfs

import (
	"io/fs"
	"path"
	"path/filepath"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/sys"
)

// Grant is one granted path, relative to "/" and clean ("etc/ssh/sshd_config").
type Grant struct {
	Path  string
	Tree  bool // the path and everything below it
	Write bool
}

// ParseGrants turns manifest paths ("/etc/x", "/etc/dir/") into grants.
func ParseGrants(read, write []string) []Grant {
	var out []Grant
	add := func(p string, w bool) {
		slashed := filepath.ToSlash(p)
		if len(slashed) > 2 && slashed[1] == ':' {
			slashed = slashed[2:]
		}
		tree := strings.HasSuffix(slashed, "/")
		rel := strings.TrimPrefix(path.Clean("/"+slashed), "/")
		if rel == "" {
			return // the whole file system is never granted
		}
		out = append(out, Grant{Path: rel, Tree: tree, Write: w})
	}
	for _, p := range read {
		add(p, false)
	}
	for _, p := range write {
		add(p, true)
	}
	return out
}

// FS is the guarded file system.
type FS struct {
	experimentalsys.UnimplementedFS
	backend experimentalsys.FS
	grants  []Grant
	// hostRoot, when not empty, is the host directory the backend serves;
	// symbolic links are resolved there and must stay inside the grants.
	hostRoot string
}

// New guards backend with grants. hostRoot is the host directory backing
// the FS (for symlink checks), or "" when the backend is not the host.
func New(backend experimentalsys.FS, grants []Grant, hostRoot string) *FS {
	return &FS{backend: backend, grants: grants, hostRoot: hostRoot}
}

func clean(p string) string {
	p = strings.TrimSuffix(p, "/")
	p = path.Clean("/" + p)
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// allowed reports whether p is inside a grant (write: a writable grant).
func (g *FS) allowed(p string, write bool) bool {
	if p == "." {
		return false
	}
	for _, gr := range g.grants {
		if write && !gr.Write {
			continue
		}
		if p == gr.Path || (gr.Tree && strings.HasPrefix(p, gr.Path+"/")) {
			return true
		}
	}
	return false
}

// ancestor reports whether p is a directory on the way to a grant.
func (g *FS) ancestor(p string) bool {
	if p == "." {
		return len(g.grants) > 0
	}
	for _, gr := range g.grants {
		if strings.HasPrefix(gr.Path, p+"/") {
			return true
		}
	}
	return false
}

// linkOK resolves p on the host and checks that the target is allowed too.
func (g *FS) linkOK(p string, write bool) bool {
	if g.hostRoot == "" {
		return true
	}
	host := filepath.Join(g.hostRoot, filepath.FromSlash(p))
	real, err := filepath.EvalSymlinks(host)
	if err != nil {
		// Not there (yet): the parent must resolve inside the grants.
		parent, perr := filepath.EvalSymlinks(filepath.Dir(host))
		if perr != nil {
			return true // the backend will answer ENOENT
		}
		real = filepath.Join(parent, filepath.Base(host))
	}
	rel, err := filepath.Rel(g.hostRoot, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return false
	}
	rel = filepath.ToSlash(rel)
	return rel == p || g.allowed(rel, write)
}

func wantsWrite(flag experimentalsys.Oflag) bool {
	return flag&(experimentalsys.O_RDWR|experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_TRUNC|experimentalsys.O_APPEND) != 0
}

// OpenFile implements experimentalsys.FS.
func (g *FS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	p = clean(p)
	write := wantsWrite(flag)
	switch {
	case g.allowed(p, write):
		if !g.linkOK(p, write) {
			return nil, experimentalsys.EACCES
		}
		return g.backend.OpenFile(p, flag, perm)
	case write && (g.allowed(p, false) || g.ancestor(p)):
		return nil, experimentalsys.EROFS
	case !write && g.ancestor(p):
		f, errno := g.backend.OpenFile(p, experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
		if errno != 0 {
			return nil, errno
		}
		return &ancestorDir{File: f, g: g, dir: p}, 0
	}
	return nil, experimentalsys.ENOENT
}

func (g *FS) visible(p string) bool { return g.allowed(p, false) || g.ancestor(p) }

// Lstat implements experimentalsys.FS.
func (g *FS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) {
	p = clean(p)
	if !g.visible(p) {
		return sys.Stat_t{}, experimentalsys.ENOENT
	}
	return g.backend.Lstat(p)
}

// Stat implements experimentalsys.FS.
func (g *FS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) {
	p = clean(p)
	if !g.visible(p) {
		return sys.Stat_t{}, experimentalsys.ENOENT
	}
	if g.allowed(p, false) && !g.linkOK(p, false) {
		return sys.Stat_t{}, experimentalsys.EACCES
	}
	return g.backend.Stat(p)
}

// Readlink implements experimentalsys.FS.
func (g *FS) Readlink(p string) (string, experimentalsys.Errno) {
	p = clean(p)
	if !g.allowed(p, false) {
		return "", experimentalsys.ENOENT
	}
	return g.backend.Readlink(p)
}

// writeCheck answers the errno for a modification of p, 0 when allowed.
func (g *FS) writeCheck(p string) experimentalsys.Errno {
	if g.allowed(p, true) {
		if !g.linkOK(p, true) {
			return experimentalsys.EACCES
		}
		return 0
	}
	if g.visible(p) {
		return experimentalsys.EROFS
	}
	return experimentalsys.ENOENT
}

// Mkdir implements experimentalsys.FS.
func (g *FS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	p = clean(p)
	if e := g.writeCheck(p); e != 0 {
		return e
	}
	return g.backend.Mkdir(p, perm)
}

// Chmod implements experimentalsys.FS.
func (g *FS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	p = clean(p)
	if e := g.writeCheck(p); e != 0 {
		return e
	}
	return g.backend.Chmod(p, perm)
}

// Rename implements experimentalsys.FS.
func (g *FS) Rename(from, to string) experimentalsys.Errno {
	from, to = clean(from), clean(to)
	if e := g.writeCheck(from); e != 0 {
		return e
	}
	if e := g.writeCheck(to); e != 0 {
		return e
	}
	return g.backend.Rename(from, to)
}

// Rmdir implements experimentalsys.FS.
func (g *FS) Rmdir(p string) experimentalsys.Errno {
	p = clean(p)
	if e := g.writeCheck(p); e != 0 {
		return e
	}
	return g.backend.Rmdir(p)
}

// Unlink implements experimentalsys.FS.
func (g *FS) Unlink(p string) experimentalsys.Errno {
	p = clean(p)
	if e := g.writeCheck(p); e != 0 {
		return e
	}
	return g.backend.Unlink(p)
}

// Link implements experimentalsys.FS: never allowed (a hard link could
// expose a file outside the grants).
func (g *FS) Link(_, _ string) experimentalsys.Errno { return experimentalsys.EPERM }

// Symlink implements experimentalsys.FS: never allowed.
func (g *FS) Symlink(_, _ string) experimentalsys.Errno { return experimentalsys.EPERM }

// Utimens implements experimentalsys.FS.
func (g *FS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	p = clean(p)
	if e := g.writeCheck(p); e != 0 {
		return e
	}
	return g.backend.Utimens(p, atim, mtim)
}

// ancestorDir is a directory above the grants: listing it shows only the
// entries that lead to a grant.
type ancestorDir struct {
	experimentalsys.File
	g   *FS
	dir string
}

func (d *ancestorDir) child(name string) string {
	if d.dir == "." {
		return name
	}
	return d.dir + "/" + name
}

// Readdir implements experimentalsys.File.
func (d *ancestorDir) Readdir(n int) ([]experimentalsys.Dirent, experimentalsys.Errno) {
	for {
		ents, errno := d.File.Readdir(n)
		if errno != 0 || len(ents) == 0 {
			return ents, errno
		}
		out := ents[:0]
		for _, e := range ents {
			if e.Name == "." || e.Name == ".." || d.g.visible(d.child(e.Name)) {
				out = append(out, e)
			}
		}
		if len(out) > 0 || n <= 0 {
			return out, 0
		}
	}
}

// Write, Pwrite, Truncate and Utimens are refused on a directory above the grants.
func (d *ancestorDir) Write([]byte) (int, experimentalsys.Errno) { return 0, experimentalsys.EBADF }

// Pwrite implements experimentalsys.File.
func (d *ancestorDir) Pwrite([]byte, int64) (int, experimentalsys.Errno) {
	return 0, experimentalsys.EBADF
}

// Truncate implements experimentalsys.File.
func (d *ancestorDir) Truncate(int64) experimentalsys.Errno { return experimentalsys.EISDIR }

// Utimens implements experimentalsys.File.
func (d *ancestorDir) Utimens(int64, int64) experimentalsys.Errno { return experimentalsys.EROFS }
