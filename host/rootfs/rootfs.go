// Package rootfs reads another system's tree (a mounted disk image, a
// container's root, a chroot) the way that system would see it: paths
// resolve inside the tree as the kernel would resolve them in a chroot
// there. A symbolic link with an absolute target starts again at the
// tree's root, and ".." stops at it. Every look-up goes through an
// os.Root opened at the tree, so whatever the tree holds, or however it
// changes meanwhile, nothing outside it is read: os.Root refuses absolute
// links and escapes, and Resolve hands it paths whose every component it
// has seen not to be a link.
//
// The sandbox's file system (host/internal/guardfs) uses Resolve for
// `amagent worklet run --root`; the scan's collectors read a tree through
// FS for `amagent scan --once --root`.
package rootfs

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

// Resolve resolves the slash path p (relative to r, "." for r itself)
// inside r with chroot semantics and returns a clean path relative to r
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

// ReadFile reads the file at the slash path p of the tree dir.
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

// FS is a tree as an fs.FS (with Stat, ReadFile, ReadDir, Lstat and
// ReadLink), every path resolved with Resolve.
type FS struct {
	r *os.Root
	// Refuse, when set, is asked about each resolved path before it is
	// used; an error it returns is the operation's error (the scan
	// refuses /proc and /sys: they describe the running kernel, not the
	// tree).
	Refuse func(resolved string) error
}

// Open opens the tree at dir. Close it when done.
func Open(dir string) (*FS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &FS{r: r}, nil
}

// Close releases the tree.
func (f *FS) Close() error { return f.r.Close() }

func (f *FS) resolve(op, name string, follow bool) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	rel, err := Resolve(f.r, name, follow)
	if err != nil {
		return "", err
	}
	if f.Refuse != nil {
		if err := f.Refuse(rel); err != nil {
			return "", &fs.PathError{Op: op, Path: name, Err: err}
		}
	}
	return rel, nil
}

// Open implements fs.FS.
func (f *FS) Open(name string) (fs.File, error) {
	rel, err := f.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	return f.r.Open(rel)
}

// Stat implements fs.StatFS.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	rel, err := f.resolve("stat", name, true)
	if err != nil {
		return nil, err
	}
	return f.r.Stat(rel)
}

// Lstat implements fs.ReadLinkFS.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	rel, err := f.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return f.r.Lstat(rel)
}

// ReadLink implements fs.ReadLinkFS.
func (f *FS) ReadLink(name string) (string, error) {
	rel, err := f.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	return f.r.Readlink(rel)
}

// ReadFile implements fs.ReadFileFS.
func (f *FS) ReadFile(name string) ([]byte, error) {
	rel, err := f.resolve("read", name, true)
	if err != nil {
		return nil, err
	}
	return f.r.ReadFile(rel)
}

// ReadDir implements fs.ReadDirFS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	rel, err := f.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	return fs.ReadDir(f.r.FS(), rel)
}
