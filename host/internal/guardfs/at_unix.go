//go:build unix

package guardfs

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// parentDir is an open directory in which the guard acts on one name
// without following it (the *at system calls on its descriptor).
type parentDir struct{ f *os.File }

func openParentAbs(dir string) (*parentDir, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	return &parentDir{f: f}, nil
}

func openParentIn(r *os.Root, rel string) (*parentDir, error) {
	f, err := r.OpenFile(rel, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	return &parentDir{f: f}, nil
}

func (d *parentDir) close() { _ = d.f.Close() }

func (d *parentDir) fd() int { return int(d.f.Fd()) }

// noFollow turns the error of an *at call with O_NOFOLLOW or
// AT_SYMLINK_NOFOLLOW into errNoFollow when name is a symbolic link.
func (d *parentDir) noFollow(name string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.EOPNOTSUPP) {
		var st unix.Stat_t
		if unix.Fstatat(d.fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return &fs.PathError{Op: "open", Path: name, Err: errNoFollow}
		}
	}
	return err
}

// open opens name in d, never following a link there.
func (d *parentDir) open(name string, flag int, perm fs.FileMode) (*os.File, error) {
	fd, err := unix.Openat(d.fd(), name, flag|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		return nil, d.noFollow(name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

func (d *parentDir) mkdir(name string, perm fs.FileMode) error {
	return unix.Mkdirat(d.fd(), name, uint32(perm.Perm()))
}

// chmod opens name without following it and changes the open file's
// mode (fchmodat cannot refuse a link on Linux).
func (d *parentDir) chmod(name string, perm fs.FileMode) error {
	f, err := d.open(name, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fchmod(int(f.Fd()), uint32(perm.Perm()))
}

func (d *parentDir) remove(name string, dir bool) error {
	flags := 0
	if dir {
		flags = unix.AT_REMOVEDIR
	}
	err := unix.Unlinkat(d.fd(), name, flags)
	if !dir && errors.Is(err, unix.EISDIR) {
		return unix.EISDIR
	}
	return err
}

// utimens changes name's times; a link's target is never changed (the
// link is refused; should it be swapped in meanwhile, AT_SYMLINK_NOFOLLOW
// changes the link's own times).
func (d *parentDir) utimens(name string, atim, mtim int64) error {
	if atim == experimentalsys.UTIME_OMIT && mtim == experimentalsys.UTIME_OMIT {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstatat(d.fd(), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return &fs.PathError{Op: "utimens", Path: name, Err: errNoFollow}
	}
	ts := [2]unix.Timespec{st.Atim, st.Mtim}
	if atim != experimentalsys.UTIME_OMIT {
		ts[0] = unix.NsecToTimespec(atim)
	}
	if mtim != experimentalsys.UTIME_OMIT {
		ts[1] = unix.NsecToTimespec(mtim)
	}
	return unix.UtimesNanoAt(d.fd(), name, ts[:], unix.AT_SYMLINK_NOFOLLOW)
}

func renameAt(from *parentDir, fromName string, to *parentDir, toName string) error {
	return unix.Renameat(from.fd(), fromName, to.fd(), toName)
}

// setAppend turns O_APPEND on or off on an open file.
func setAppend(f *os.File, enable bool) experimentalsys.Errno {
	fd := int(f.Fd())
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return experimentalsys.UnwrapOSError(err)
	}
	if enable {
		fl |= unix.O_APPEND
	} else {
		fl &^= unix.O_APPEND
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl)
	return experimentalsys.UnwrapOSError(err)
}

// osFlag is the open(2) flag for a wazero flag.
func osFlag(flag experimentalsys.Oflag) int {
	out := 0
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_RDWR | experimentalsys.O_WRONLY) {
	case experimentalsys.O_RDWR:
		out = unix.O_RDWR
	case experimentalsys.O_WRONLY:
		out = unix.O_WRONLY
	}
	for _, m := range [...]struct {
		w experimentalsys.Oflag
		u int
	}{
		{experimentalsys.O_APPEND, unix.O_APPEND}, {experimentalsys.O_CREAT, unix.O_CREAT},
		{experimentalsys.O_EXCL, unix.O_EXCL}, {experimentalsys.O_TRUNC, unix.O_TRUNC},
		{experimentalsys.O_SYNC, unix.O_SYNC}, {experimentalsys.O_DSYNC, unix.O_SYNC},
		{experimentalsys.O_DIRECTORY, unix.O_DIRECTORY}, {experimentalsys.O_NOFOLLOW, unix.O_NOFOLLOW},
		{experimentalsys.O_NONBLOCK, unix.O_NONBLOCK},
	} {
		if flag&m.w != 0 {
			out |= m.u
		}
	}
	return out
}
