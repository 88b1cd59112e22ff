//go:build windows

package sysexec

import (
	"io/fs"
	"os/exec"
)

// SystemPath is the fixed path on which bare program names are resolved.
const SystemPath = `C:\Windows\System32;C:\Windows;C:\Windows\System32\WindowsPowerShell\v1.0`

func setProcessGroup(cmd *exec.Cmd) {}

// exeSuffixes are tried after a bare program name ("shutdown" finds
// shutdown.exe); a name that already has one is tried as it is first.
var exeSuffixes = []string{"", ".exe", ".com"}

func isExecMode(fi fs.FileInfo) bool { return true }
