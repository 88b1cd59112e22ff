//go:build unix

package host

import (
	"io/fs"
	"syscall"
)

// owner is fi's uid and gid.
func owner(fi fs.FileInfo) (uid, gid int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Uid), int64(st.Gid)
	}
	return 0, 0
}
