// Package guardfs is the file system a guest sees: a wazero sys.FS mounted
// at "/" that shows only the paths a manifest grants, read-only unless
// granted for writing (ABI.md sections 2 and 5).
//
// Paths reach the FS relative to "/" and already cleaned by wazero, which
// refuses any path that climbs above the mount with "..". The guard cleans
// again and decides by name alone which grant covers a path; a path no grant
// covers is refused with EACCES and reported to the run's Deny sink. The
// ancestors of granted paths can be opened as directories whose listing
// shows only the way to the grants.
//
// On the host (Options.HostRoot) a path is then resolved inside its grant,
// never looked up a second time (no check-then-open window):
//
//   - a tree grant is an os.Root opened once per run; reading resolves the
//     path inside it, following a symbolic link only while it stays inside
//     the tree (os.Root walks the path one component at a time, holding
//     each directory open);
//   - a file grant is read with a single open of its own path, which
//     follows the grant's own symbolic link (the admin named that path);
//   - writing, creating, removing, renaming or changing times or modes
//     opens the parent directory (inside the tree, or the grant's own
//     parent) and acts on the last component without following a symbolic
//     link (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW);
//   - any other link that leaves its grant, dangling or not, is EACCES;
//   - a file opened through a read-only grant refuses every change (write,
//     truncate, times), whatever the phase.
//
// When HostRoot is not the machine's root (a tree given with --root, a
// replay's scratch copy), paths resolve in it as in a chroot there: a link
// with an absolute target starts again at HostRoot, never at the host's
// "/" (chroot.go).
//
// In replay without writes (Options.Backend) the files are the recording's,
// in memory, where there are no symbolic links.
package guardfs

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

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

// Why a path was refused, as passed to Options.Deny.
const (
	Undeclared   = "undeclared"
	LeavesGrant  = "symbolic link leaves its grant"
	WriteSymlink = "writing through a symbolic link"
)

// Options configure an FS.
type Options struct {
	Grants []Grant
	// HostRoot is the host directory the guest's "/" is ("/" live, a
	// scratch copy in a replay that writes). Empty: Backend serves.
	HostRoot string
	// Backend serves the files when HostRoot is empty (a recording's
	// files); it must have no symbolic links.
	Backend experimentalsys.FS
	// Deny, when set, is told each refusal of a path: the guest's
	// absolute path ("/etc/shadow") and why (Undeclared, LeavesGrant,
	// WriteSymlink).
	Deny func(path, why string)
}

// FS is the guarded file system of one run. Close it when the run ends.
type FS struct {
	experimentalsys.UnimplementedFS
	grants  []*grant
	host    string
	backend experimentalsys.FS
	deny    func(string, string)

	// chroot: host is not the machine's root, and paths resolve in it
	// as in a chroot there (chroot.go).
	chroot     bool
	chrootOnce sync.Once
	chrootR    *os.Root
	chrootErr  error
}

// grant is a Grant on the host, with its root opened on first use.
type grant struct {
	Grant
	abs string // host path
	g   *FS

	mu   sync.Mutex
	root *os.Root
}

// New makes the guarded FS of one run.
func New(o Options) *FS {
	g := &FS{host: o.HostRoot, backend: o.Backend, deny: o.Deny,
		chroot: o.HostRoot != "" && !isMachineRoot(o.HostRoot)}
	for _, gr := range o.Grants {
		abs := ""
		if o.HostRoot != "" {
			abs = filepath.Join(o.HostRoot, filepath.FromSlash(gr.Path))
		}
		g.grants = append(g.grants, &grant{Grant: gr, abs: abs, g: g})
	}
	return g
}

// Close releases the roots opened for the run's tree grants. Files the
// guest still holds stay usable until wazero closes them.
func (g *FS) Close() error {
	for _, gr := range g.grants {
		gr.mu.Lock()
		if gr.root != nil {
			_ = gr.root.Close()
			gr.root = nil
		}
		gr.mu.Unlock()
	}
	if g.chrootR != nil {
		_ = g.chrootR.Close()
	}
	return nil
}

// openRoot is the grant's tree, opened once per run (following the
// grant's own path: the admin named it).
func (gr *grant) openRoot() (*os.Root, error) {
	gr.mu.Lock()
	defer gr.mu.Unlock()
	if gr.root != nil {
		return gr.root, nil
	}
	r, err := gr.openTop()
	if err != nil {
		return nil, err
	}
	gr.root = r
	return r, nil
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

// covers reports whether gr covers p, and p's path inside it ("." for
// the grant's own path).
func (gr *grant) covers(p string) (string, bool) {
	switch {
	case p == gr.Path:
		return ".", true
	case gr.Tree && strings.HasPrefix(p, gr.Path+"/"):
		return p[len(gr.Path)+1:], true
	}
	return "", false
}

// covering is the grants that cover p (write: the writable ones), the
// most specific first.
func (g *FS) covering(p string, write bool) []*grant {
	if p == "." {
		return nil
	}
	var out []*grant
	for _, gr := range g.grants {
		if write && !gr.Write {
			continue
		}
		if _, ok := gr.covers(p); ok {
			out = append(out, gr)
		}
	}
	if len(out) > 1 {
		// Longest path first: a file grant inside a tree is tried before
		// the tree, so that its own symbolic link is followed.
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && len(out[j].Path) > len(out[j-1].Path); j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
	}
	return out
}

// ancestor reports whether p is a directory on the way to a grant. The
// root always is (with no grants it lists nothing), so that wazero can
// open the mount and every path reaches the guard to be refused.
func (g *FS) ancestor(p string) bool {
	if p == "." {
		return true
	}
	for _, gr := range g.grants {
		if strings.HasPrefix(gr.Path, p+"/") {
			return true
		}
	}
	return false
}

func (g *FS) visible(p string) bool { return len(g.covering(p, false)) > 0 || g.ancestor(p) }

// Readable reports whether the absolute guest path p ("/etc/shadow") is
// declared readable (a read or write grant covers it).
func (g *FS) Readable(p string) bool { return len(g.covering(clean(p), false)) > 0 }

// refuse reports a refused path to the sink and answers EACCES.
func (g *FS) refuse(p, why string) experimentalsys.Errno {
	if g.deny != nil {
		if p == "." {
			p = ""
		}
		g.deny("/"+p, why)
	}
	return experimentalsys.EACCES
}

// errEscape marks an error of a path that leaves its grant.
var errEscape = errors.New("leaves its grant")

// errNoFollow marks a change refused because the last component is a
// symbolic link.
var errNoFollow = errors.New("is a symbolic link")

// isEscape recognises os.Root's refusal of a path that leaves the root.
// (The error is unexported; should its text change, the refusal is still
// an error, only with another errno.)
func isEscape(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, errEscape) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "path escapes from parent" {
			return true
		}
	}
	return false
}

// errno turns an error of an operation on p into the guest's errno,
// reporting refusals.
func (g *FS) errno(p string, err error) experimentalsys.Errno {
	switch {
	case err == nil:
		return 0
	case isEscape(err):
		return g.refuse(p, LeavesGrant)
	case errors.Is(err, errNoFollow):
		return g.refuse(p, WriteSymlink)
	}
	return experimentalsys.UnwrapOSError(err)
}

// each runs op on the grants covering p until one does not refuse p as
// leaving it (a path may be inside two grants, e.g. a file grant inside a
// tree: the file grant follows its own link, the tree does not).
func each[T any](g *FS, p string, write bool, op func(gr *grant, rel string) (T, error)) (T, experimentalsys.Errno) {
	var zero T
	var last error
	for _, gr := range g.covering(p, write) {
		rel, _ := gr.covers(p)
		v, err := op(gr, rel)
		if err == nil {
			return v, 0
		}
		last = err
		if !isEscape(err) {
			break
		}
	}
	return zero, g.errno(p, last)
}

func wantsWrite(flag experimentalsys.Oflag) bool {
	return flag&(experimentalsys.O_RDWR|experimentalsys.O_WRONLY|experimentalsys.O_CREAT|experimentalsys.O_TRUNC|experimentalsys.O_APPEND) != 0
}

// OpenFile implements experimentalsys.FS.
func (g *FS) OpenFile(p string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	p = clean(p)
	write := wantsWrite(flag)
	switch {
	case len(g.covering(p, write)) > 0:
		if g.host == "" {
			f, errno := g.backend.OpenFile(p, flag, perm)
			if errno != 0 {
				return nil, errno
			}
			return &readOnly{File: f}, 0
		}
		return each(g, p, write, func(gr *grant, rel string) (experimentalsys.File, error) {
			return g.openHost(gr, rel, flag, perm)
		})
	case write && g.visible(p):
		return nil, experimentalsys.EROFS
	case !write && g.ancestor(p):
		return g.openAncestor(p)
	}
	return nil, g.refuse(p, Undeclared)
}

// Lstat implements experimentalsys.FS.
func (g *FS) Lstat(p string) (sys.Stat_t, experimentalsys.Errno) { return g.stat(clean(p), false) }

// Stat implements experimentalsys.FS.
func (g *FS) Stat(p string) (sys.Stat_t, experimentalsys.Errno) { return g.stat(clean(p), true) }

func (g *FS) stat(p string, follow bool) (sys.Stat_t, experimentalsys.Errno) {
	switch {
	case len(g.covering(p, false)) > 0:
		if g.host == "" {
			return g.backend.Stat(p)
		}
		fi, errno := each(g, p, false, func(gr *grant, rel string) (fs.FileInfo, error) {
			return g.statHost(gr, rel, follow)
		})
		if errno != 0 {
			return sys.Stat_t{}, errno
		}
		return sys.NewStat_t(fi), 0
	case g.ancestor(p):
		if g.host == "" {
			return g.backend.Stat(p)
		}
		f, err := g.openHostDir(p)
		if err != nil {
			return sys.Stat_t{}, experimentalsys.UnwrapOSError(err)
		}
		fi, err := f.Stat()
		f.Close()
		if err != nil {
			return sys.Stat_t{}, experimentalsys.UnwrapOSError(err)
		}
		return sys.NewStat_t(fi), 0
	}
	return sys.Stat_t{}, g.refuse(p, Undeclared)
}

// LstatInfo is Lstat with the host's own answer (owner included), for the
// path-metadata fact: p must be declared readable (or it is refused), and
// it is resolved inside its grant like any access. Host only.
func (g *FS) LstatInfo(p string) (fs.FileInfo, experimentalsys.Errno) {
	p = clean(p)
	if len(g.covering(p, false)) == 0 {
		return nil, g.refuse(p, Undeclared)
	}
	if g.host == "" {
		return nil, experimentalsys.ENOSYS
	}
	return each(g, p, false, func(gr *grant, rel string) (fs.FileInfo, error) {
		return g.statHost(gr, rel, false)
	})
}

// Readlink implements experimentalsys.FS.
func (g *FS) Readlink(p string) (string, experimentalsys.Errno) {
	p = clean(p)
	switch {
	case len(g.covering(p, false)) > 0:
		if g.host == "" {
			return "", experimentalsys.EINVAL // no links in a recording
		}
		return each(g, p, false, func(gr *grant, rel string) (string, error) {
			if !gr.Tree {
				return gr.readlinkOwn()
			}
			r, err := gr.openRoot()
			if err != nil {
				return "", err
			}
			if rel, err = g.inTree(gr, rel, false); err != nil {
				return "", err
			}
			return r.Readlink(rel)
		})
	case g.ancestor(p):
		return "", experimentalsys.EINVAL
	}
	return "", g.refuse(p, Undeclared)
}

// change runs op for a modification of p, answering EROFS for a visible
// path no writable grant covers, and refusing undeclared ones.
func (g *FS) change(p string, op func(gr *grant, rel string) error) experimentalsys.Errno {
	p = clean(p)
	switch {
	case len(g.covering(p, true)) > 0:
		if g.host == "" {
			return experimentalsys.EROFS
		}
		_, errno := each(g, p, true, func(gr *grant, rel string) (struct{}, error) {
			return struct{}{}, op(gr, rel)
		})
		return errno
	case g.visible(p):
		return experimentalsys.EROFS
	}
	return g.refuse(p, Undeclared)
}

// Mkdir implements experimentalsys.FS.
func (g *FS) Mkdir(p string, perm fs.FileMode) experimentalsys.Errno {
	errno := g.change(p, func(gr *grant, rel string) error {
		return g.atParent(gr, rel, func(d *parentDir, name string) error { return d.mkdir(name, perm) })
	})
	if errno == experimentalsys.ENOTDIR {
		errno = experimentalsys.ENOENT // as wazero's own DirFS answers
	}
	return errno
}

// Chmod implements experimentalsys.FS.
func (g *FS) Chmod(p string, perm fs.FileMode) experimentalsys.Errno {
	return g.change(p, func(gr *grant, rel string) error {
		return g.atParent(gr, rel, func(d *parentDir, name string) error { return d.chmod(name, perm) })
	})
}

// Rmdir implements experimentalsys.FS.
func (g *FS) Rmdir(p string) experimentalsys.Errno {
	return g.change(p, func(gr *grant, rel string) error {
		return g.atParent(gr, rel, func(d *parentDir, name string) error { return d.remove(name, true) })
	})
}

// Unlink implements experimentalsys.FS.
func (g *FS) Unlink(p string) experimentalsys.Errno {
	return g.change(p, func(gr *grant, rel string) error {
		return g.atParent(gr, rel, func(d *parentDir, name string) error { return d.remove(name, false) })
	})
}

// Utimens implements experimentalsys.FS. The times of a symbolic link's
// target are never changed through the link.
func (g *FS) Utimens(p string, atim, mtim int64) experimentalsys.Errno {
	return g.change(p, func(gr *grant, rel string) error {
		return g.atParent(gr, rel, func(d *parentDir, name string) error { return d.utimens(name, atim, mtim) })
	})
}

// Rename implements experimentalsys.FS: both paths must be writable; the
// names are renamed, never what a link points to.
func (g *FS) Rename(from, to string) experimentalsys.Errno {
	var src *parentDir
	var srcName string
	defer func() {
		if src != nil {
			src.close()
		}
	}()
	if errno := g.change(from, func(gr *grant, rel string) error {
		d, name, err := g.parent(gr, rel)
		if err == nil {
			src, srcName = d, name
		}
		return err
	}); errno != 0 {
		return errno
	}
	return g.change(to, func(gr *grant, rel string) error {
		return g.atParent(gr, rel, func(d *parentDir, name string) error { return renameAt(src, srcName, d, name) })
	})
}

// Link implements experimentalsys.FS: never allowed (a hard link could
// expose a file outside the grants).
func (g *FS) Link(_, _ string) experimentalsys.Errno { return experimentalsys.EPERM }

// Symlink implements experimentalsys.FS: never allowed.
func (g *FS) Symlink(_, _ string) experimentalsys.Errno { return experimentalsys.EPERM }

// hostPath is the host path of the guest path p (clean, relative to "/").
func (g *FS) hostPath(p string) string {
	if p == "." {
		return g.host
	}
	return filepath.Join(g.host, filepath.FromSlash(p))
}

// openHost opens rel inside gr.
func (g *FS) openHost(gr *grant, rel string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, error) {
	ro := !gr.Write
	if wantsWrite(flag) || flag&experimentalsys.O_NOFOLLOW != 0 {
		// The last component is never followed: opened from its parent
		// with O_NOFOLLOW. A link there is ELOOP when the guest asked not
		// to follow, and refused when it writes.
		var f *os.File
		err := g.atParent(gr, rel, func(d *parentDir, name string) error {
			var err error
			f, err = d.open(name, osFlag(flag), perm)
			return err
		})
		if err != nil {
			if errors.Is(err, errNoFollow) && !wantsWrite(flag) {
				err = experimentalsys.ELOOP
			}
			return nil, err
		}
		return newFile(f, flag, ro, g.reopener(gr, rel)), nil
	}
	var f *os.File
	var err error
	if !gr.Tree {
		// A file grant is read through its own link, with one open.
		f, err = gr.openOwn(osFlag(flag))
	} else {
		var r *os.Root
		if r, err = gr.openRoot(); err == nil {
			if rel, err = g.inTree(gr, rel, true); err == nil {
				f, err = r.OpenFile(rel, osFlag(flag), 0)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if flag&experimentalsys.O_DIRECTORY != 0 {
		if fi, err := f.Stat(); err == nil && !fi.IsDir() {
			f.Close()
			return nil, experimentalsys.ENOTDIR
		}
	}
	return newFile(f, flag, ro, g.reopener(gr, rel)), nil
}

// reopener re-opens a directory the same way, to rewind it.
func (g *FS) reopener(gr *grant, rel string) func() (*os.File, error) {
	return func() (*os.File, error) {
		if !gr.Tree {
			return gr.openOwn(os.O_RDONLY)
		}
		r, err := gr.openRoot()
		if err != nil {
			return nil, err
		}
		if rel, err = g.inTree(gr, rel, true); err != nil {
			return nil, err
		}
		return r.Open(rel)
	}
}

// statHost is the stat (follow) or lstat of rel inside gr.
func (g *FS) statHost(gr *grant, rel string, follow bool) (fs.FileInfo, error) {
	if !gr.Tree {
		return gr.statOwn(follow)
	}
	r, err := gr.openRoot()
	if err != nil {
		return nil, err
	}
	if rel, err = g.inTree(gr, rel, follow); err != nil {
		return nil, err
	}
	if follow {
		return r.Stat(rel)
	}
	return r.Lstat(rel)
}

// parent opens the directory that holds rel inside gr, and names rel's
// last component in it. The grant's own path (a file grant, or a tree's
// top) is in the directory the admin named it in.
func (g *FS) parent(gr *grant, rel string) (*parentDir, string, error) {
	if !gr.Tree || rel == "." {
		return gr.parentOwn()
	}
	r, err := gr.openRoot()
	if err != nil {
		return nil, "", err
	}
	if rel, err = g.inTree(gr, rel, false); err != nil {
		return nil, "", err
	}
	if rel == "." {
		return gr.parentOwn()
	}
	d, err := openParentIn(r, path.Dir(rel))
	return d, path.Base(rel), err
}

// atParent runs op on rel's parent directory and last component.
func (g *FS) atParent(gr *grant, rel string, op func(d *parentDir, name string) error) error {
	d, name, err := g.parent(gr, rel)
	if err != nil {
		return err
	}
	defer d.close()
	return op(d, name)
}

// openAncestor opens a directory above the grants.
func (g *FS) openAncestor(p string) (experimentalsys.File, experimentalsys.Errno) {
	if g.host == "" {
		f, errno := g.backend.OpenFile(p, experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
		if errno != 0 {
			return nil, errno
		}
		return &ancestorDir{readOnly: readOnly{File: f}, g: g, dir: p}, 0
	}
	f, err := g.openHostDir(p)
	if err != nil {
		return nil, experimentalsys.UnwrapOSError(err)
	}
	if fi, err := f.Stat(); err != nil || !fi.IsDir() {
		f.Close()
		return nil, experimentalsys.ENOTDIR
	}
	file := newFile(f, experimentalsys.O_RDONLY, false, func() (*os.File, error) { return g.openHostDir(p) })
	return &ancestorDir{readOnly: readOnly{File: file}, g: g, dir: p}, 0
}

// ancestorDir is a directory above the grants: listing it shows only the
// entries that lead to a grant.
type ancestorDir struct {
	readOnly
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

// readOnly is a file opened through a read-only grant (or a directory
// above the grants): it refuses every change, in either phase.
type readOnly struct {
	experimentalsys.File
}

// Write implements experimentalsys.File.
func (f *readOnly) Write([]byte) (int, experimentalsys.Errno) { return 0, experimentalsys.EBADF }

// Pwrite implements experimentalsys.File.
func (f *readOnly) Pwrite([]byte, int64) (int, experimentalsys.Errno) {
	return 0, experimentalsys.EBADF
}

// Truncate implements experimentalsys.File.
func (f *readOnly) Truncate(int64) experimentalsys.Errno { return experimentalsys.EBADF }

// Utimens implements experimentalsys.File. (EROFS, not EPERM or ENOSYS,
// which would make wazero retry by path.)
func (f *readOnly) Utimens(int64, int64) experimentalsys.Errno { return experimentalsys.EROFS }

// SetAppend implements experimentalsys.File.
func (f *readOnly) SetAppend(enable bool) experimentalsys.Errno {
	if !enable {
		return 0
	}
	return experimentalsys.EBADF
}
