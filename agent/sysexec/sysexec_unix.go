//go:build !windows

package sysexec

import (
	"io/fs"
	"os/exec"
	"syscall"
)

// SystemPath is the fixed path on which bare program names are resolved.
const SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// Kill the whole group so that children of the program die too.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// exeSuffixes are tried after a bare program name.
var exeSuffixes = []string{""}

func isExecMode(fi fs.FileInfo) bool { return fi.Mode().Perm()&0o111 != 0 }
