//go:build !windows

package main

import (
	"io/fs"
	"os"
	"syscall"
)

// sameOwner gives f the owner and group of the file st describes.
func sameOwner(f *os.File, st fs.FileInfo) error {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok || (int(s.Uid) == os.Geteuid() && int(s.Gid) == os.Getegid()) {
		return nil
	}
	return f.Chown(int(s.Uid), int(s.Gid))
}

// prepareConfigDir makes the configuration's folder (0755: the file
// itself is 0640).
func prepareConfigDir(dir string) error { return os.MkdirAll(dir, 0o755) }
