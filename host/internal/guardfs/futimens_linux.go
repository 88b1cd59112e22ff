package guardfs

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// futimens changes an open file's times (utimensat with a NULL path acts
// on the descriptor itself on Linux).
func futimens(f *os.File, atim, mtim int64) experimentalsys.Errno {
	if atim == experimentalsys.UTIME_OMIT && mtim == experimentalsys.UTIME_OMIT {
		return 0
	}
	ts := [2]unix.Timespec{unix.NsecToTimespec(atim), unix.NsecToTimespec(mtim)}
	if atim == experimentalsys.UTIME_OMIT {
		ts[0] = unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	if mtim == experimentalsys.UTIME_OMIT {
		ts[1] = unix.Timespec{Nsec: unix.UTIME_OMIT}
	}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, f.Fd(), 0, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if e != 0 {
		return experimentalsys.UnwrapOSError(e)
	}
	return 0
}
