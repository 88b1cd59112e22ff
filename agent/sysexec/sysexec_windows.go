//go:build windows

package sysexec

import (
	"io/fs"
	"os"
	"os/exec"
)

// SystemPath is the fixed path on which bare program names are resolved.
const SystemPath = `C:\Windows\System32;C:\Windows;C:\Windows\System32\WindowsPowerShell\v1.0`

// containedDir is a contained program's working directory (the agent's).
const containedDir = ""

// exeSuffixes are tried after a bare program name ("shutdown" finds
// shutdown.exe); a name that already has one is tried as it is first.
var exeSuffixes = []string{"", ".exe", ".com"}

func isExecMode(fi fs.FileInfo) bool { return true }

// Containment names how a contained call's processes are ended here:
// "process" (only the started program is killed; no job object yet).
func Containment() string { return ContainmentProcess }

// ContainmentReason says why Containment is what it is.
func ContainmentReason() string {
	return "Windows: the started program is killed at the deadline; its children are not tracked (no job object yet)"
}

// proc is one started program.
type proc struct {
	cmd   *exec.Cmd
	state *os.ProcessState
	err   error
}

func startProcess(cmd *exec.Cmd, contain bool) (*proc, error) {
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &proc{cmd: cmd}, nil
}

func (p *proc) waitExit() { p.state, p.err = p.cmd.Process.Wait() }

func (p *proc) killAll() { _ = p.cmd.Process.Kill() }

func (p *proc) reap() (*os.ProcessState, error) { return p.state, p.err }

func (p *proc) release() {}
