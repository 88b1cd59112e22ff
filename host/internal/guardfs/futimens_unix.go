//go:build unix && !linux

package guardfs

import (
	"os"

	"golang.org/x/sys/unix"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// futimens changes an open file's times (microseconds: futimes).
func futimens(f *os.File, atim, mtim int64) experimentalsys.Errno {
	if atim == experimentalsys.UTIME_OMIT && mtim == experimentalsys.UTIME_OMIT {
		return 0
	}
	if atim == experimentalsys.UTIME_OMIT || mtim == experimentalsys.UTIME_OMIT {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			return experimentalsys.UnwrapOSError(err)
		}
		if atim == experimentalsys.UTIME_OMIT {
			atim = unix.TimespecToNsec(st.Atim)
		}
		if mtim == experimentalsys.UTIME_OMIT {
			mtim = unix.TimespecToNsec(st.Mtim)
		}
	}
	tv := []unix.Timeval{unix.NsecToTimeval(atim), unix.NsecToTimeval(mtim)}
	return experimentalsys.UnwrapOSError(unix.Futimes(int(f.Fd()), tv))
}
