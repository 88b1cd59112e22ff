//go:build !linux

package host

import (
	"errors"
	"os/exec"
)

// limitMemory has no portable equivalent of Linux's RLIMIT_AS and
// RLIMIT_DATA: here the compile process is bounded in time only.
func limitMemory(int64) error { return errors.New("not supported on this system") }

func childProcAttr(*exec.Cmd) {}
