package host

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// limitMemory bounds the process to budget bytes more than it maps now: its
// address space (RLIMIT_AS) and its writable private memory (RLIMIT_DATA),
// each from its current size. Go reserves address space at start that it
// never touches, so the budget is counted from there.
func limitMemory(budget int64) error {
	vm, data, err := vmSizes()
	if err != nil {
		return err
	}
	for _, l := range []struct {
		res int
		cur uint64
	}{{unix.RLIMIT_AS, vm}, {unix.RLIMIT_DATA, data}} {
		lim := l.cur + uint64(budget)
		if err := unix.Setrlimit(l.res, &unix.Rlimit{Cur: lim, Max: lim}); err != nil {
			return err
		}
	}
	return nil
}

// vmSizes reads VmSize and VmData of /proc/self/status, in bytes.
func vmSizes() (vm, data uint64, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if !ok || (k != "VmSize" && k != "VmData") {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmSize" {
			vm = n << 10
		} else {
			data = n << 10
		}
	}
	return vm, data, s.Err()
}

// childProcAttr kills the compile process if the agent dies first.
func childProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
