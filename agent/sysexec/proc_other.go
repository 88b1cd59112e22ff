//go:build !linux && !windows

package sysexec

import (
	"os"
	"os/exec"
	"syscall"
)

// Containment names how a contained call's processes are ended here:
// "process-group" (a daemon that leaves the group with setsid escapes).
func Containment() string { return ContainmentProcessGroup }

// ContainmentReason says why Containment is what it is.
func ContainmentReason() string {
	return "cgroups are Linux-only; the call's process group is killed"
}

// proc is one started program.
type proc struct {
	cmd    *exec.Cmd
	state  *os.ProcessState
	err    error
	killed bool
}

func startProcess(cmd *exec.Cmd, contain bool) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &proc{cmd: cmd}, nil
}

// waitExit reaps the program (no waitid WNOWAIT here: the group is killed
// right after, a window in which its id could only be reused if the whole
// group had already ended).
func (p *proc) waitExit() { p.state, p.err = p.cmd.Process.Wait() }

func (p *proc) killAll() {
	p.killed = true
	killGroup(p.cmd.Process.Pid)
}

func (p *proc) reap() (*os.ProcessState, error) { return p.state, p.err }

func (p *proc) release() {
	if p.killed {
		awaitGroupGone(p.cmd.Process.Pid)
	}
}
