//go:build !windows

package sysexec

import (
	"errors"
	"io/fs"
	"syscall"
	"time"
)

// SystemPath is the fixed path on which bare program names are resolved.
const SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// containedDir is a contained program's working directory.
const containedDir = "/"

// exeSuffixes are tried after a bare program name.
var exeSuffixes = []string{""}

func isExecMode(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o111 != 0 }

// killGroup sends SIGKILL to the process group pgid.
func killGroup(pgid int) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// awaitGroupGone waits, up to a bound, until no process of the group pgid
// is left (a killed member the kernel has not finished, or a zombie its
// new parent has not reaped yet, still counts).
func awaitGroupGone(pgid int) {
	deadline := time.Now().Add(200 * time.Millisecond)
	for pause := 50 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) || time.Now().After(deadline) {
			return
		}
		time.Sleep(pause)
	}
}
