package guardfs

import (
	"errors"
	"io/fs"
	"os"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// file is an experimentalsys.File over an *os.File the guard opened
// itself (inside its grant). Reading, seeking and listing are wazero's
// own fs.File adapter (sysfs.AdaptFS over a one-file fs.FS); the rest is
// here. It never re-opens by name except to rewind a directory, and then
// through the same grant.
type file struct {
	experimentalsys.File
	one    *oneFile
	append bool
}

// oneFile is an fs.FS whose only file is the one the guard opened: its
// first Open returns it; later ones (wazero rewinding a directory) open
// the same directory again through its grant.
type oneFile struct {
	cur    *os.File
	opened bool
	reopen func() (*os.File, error)
}

// Open implements fs.FS.
func (o *oneFile) Open(string) (fs.File, error) {
	if !o.opened {
		o.opened = true
		return o.cur, nil
	}
	if o.reopen == nil {
		return nil, experimentalsys.ENOSYS
	}
	nf, err := o.reopen()
	if err != nil {
		return nil, err
	}
	a, errA := o.cur.Stat()
	b, errB := nf.Stat()
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		nf.Close()
		return nil, errors.New("replaced meanwhile") // the adapter keeps the old one
	}
	o.cur = nf // the adapter closes the old one
	return nf, nil
}

// newFile wraps f; ro makes every change refused.
func newFile(f *os.File, flag experimentalsys.Oflag, ro bool, reopen func() (*os.File, error)) experimentalsys.File {
	one := &oneFile{cur: f, reopen: reopen}
	adapted, errno := (&sysfs.AdaptFS{FS: one}).OpenFile(".", experimentalsys.O_RDONLY, 0)
	if errno != 0 { // cannot happen: the first Open returns f
		f.Close()
		return &readOnly{File: experimentalsys.UnimplementedFile{}}
	}
	out := &file{File: adapted, one: one, append: flag&experimentalsys.O_APPEND != 0}
	if ro {
		return &readOnly{File: out}
	}
	return out
}

// IsAppend implements experimentalsys.File.
func (f *file) IsAppend() bool { return f.append }

// SetAppend implements experimentalsys.File.
func (f *file) SetAppend(enable bool) experimentalsys.Errno {
	if enable == f.append {
		return 0
	}
	if errno := setAppend(f.one.cur, enable); errno != 0 {
		return errno
	}
	f.append = enable
	return 0
}

// Truncate implements experimentalsys.File.
func (f *file) Truncate(size int64) experimentalsys.Errno {
	if size < 0 {
		return experimentalsys.EINVAL
	}
	if isDir, _ := f.IsDir(); isDir {
		return experimentalsys.EISDIR
	}
	return experimentalsys.UnwrapOSError(f.one.cur.Truncate(size))
}

// Sync implements experimentalsys.File.
func (f *file) Sync() experimentalsys.Errno { return experimentalsys.UnwrapOSError(f.one.cur.Sync()) }

// Datasync implements experimentalsys.File.
func (f *file) Datasync() experimentalsys.Errno { return f.Sync() }

// Utimens implements experimentalsys.File (futimens on the open file).
func (f *file) Utimens(atim, mtim int64) experimentalsys.Errno {
	return futimens(f.one.cur, atim, mtim)
}
