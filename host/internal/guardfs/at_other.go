//go:build !unix

package guardfs

import (
	"io/fs"
	"os"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// parentDir is an open directory in which the guard acts on one name.
// Without the *at system calls of unix it is an os.Root: a path never
// leaves it, but a link inside it is followed (documented in SECURITY.md).
type parentDir struct{ r *os.Root }

func openParentAbs(dir string) (*parentDir, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &parentDir{r: r}, nil
}

func openParentIn(r *os.Root, rel string) (*parentDir, error) {
	c, err := r.OpenRoot(rel)
	if err != nil {
		return nil, err
	}
	return &parentDir{r: c}, nil
}

func (d *parentDir) close() { _ = d.r.Close() }

// open opens name in d; a link to be followed is refused.
func (d *parentDir) open(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if fi, err := d.r.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNoFollow}
	}
	return d.r.OpenFile(name, flag, perm)
}

func (d *parentDir) mkdir(name string, perm fs.FileMode) error { return d.r.Mkdir(name, perm) }

func (d *parentDir) chmod(name string, perm fs.FileMode) error {
	if fi, err := d.r.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return &fs.PathError{Op: "chmod", Path: name, Err: errNoFollow}
	}
	return d.r.Chmod(name, perm)
}

func (d *parentDir) remove(name string, dir bool) error {
	fi, err := d.r.Lstat(name)
	if err != nil {
		return err
	}
	if dir != fi.IsDir() {
		if dir {
			return experimentalsys.ENOTDIR
		}
		return experimentalsys.EISDIR
	}
	return d.r.Remove(name)
}

func (d *parentDir) utimens(name string, atim, mtim int64) error {
	fi, err := d.r.Lstat(name)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return &fs.PathError{Op: "utimens", Path: name, Err: errNoFollow}
	}
	var a, m time.Time
	if atim != experimentalsys.UTIME_OMIT {
		a = time.Unix(0, atim)
	}
	if mtim != experimentalsys.UTIME_OMIT {
		m = time.Unix(0, mtim)
	}
	return d.r.Chtimes(name, a, m)
}

func renameAt(from *parentDir, fromName string, to *parentDir, toName string) error {
	if from.r.Name() != to.r.Name() {
		return experimentalsys.ENOSYS // across directories: not without renameat
	}
	return from.r.Rename(fromName, toName)
}

// futimens is not available: the change goes by path through the grant.
func futimens(*os.File, int64, int64) experimentalsys.Errno { return experimentalsys.ENOSYS }

func setAppend(*os.File, bool) experimentalsys.Errno { return experimentalsys.ENOSYS }

// osFlag is the os.OpenFile flag for a wazero flag.
func osFlag(flag experimentalsys.Oflag) int {
	out := os.O_RDONLY
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		out = os.O_RDWR
	case experimentalsys.O_WRONLY:
		out = os.O_WRONLY
	}
	for _, m := range [...]struct {
		w experimentalsys.Oflag
		o int
	}{
		{experimentalsys.O_APPEND, os.O_APPEND}, {experimentalsys.O_CREAT, os.O_CREATE},
		{experimentalsys.O_EXCL, os.O_EXCL}, {experimentalsys.O_TRUNC, os.O_TRUNC},
		{experimentalsys.O_SYNC, os.O_SYNC},
	} {
		if flag&m.w != 0 {
			out |= m.o
		}
	}
	return out
}
