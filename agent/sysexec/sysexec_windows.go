//go:build windows

package sysexec

import (
	"io/fs"
	"os/exec"
)

// SystemPath is the fixed path on which bare program names are resolved.
const SystemPath = `C:\Windows\System32;C:\Windows;C:\Windows\System32\WindowsPowerShell\v1.0`

func setProcessGroup(cmd *exec.Cmd) {}

func isExecMode(fi fs.FileInfo) bool { return true }
