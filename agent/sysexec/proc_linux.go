//go:build linux

package sysexec

// Containment on Linux: every call runs in a process group of its own;
// a contained call also runs in a cgroup v2 of its own when the agent may
// create one beside itself (its own cgroup, found from /proc/self/cgroup
// under the cgroup2 mount, is writable and its children have cgroup.kill,
// Linux 5.14). The child starts inside that cgroup (clone3
// CLONE_INTO_CGROUP: no moment outside it), and when the call ends, in
// any way, the cgroup is killed whole, awaited empty and removed. A
// contained child also starts with no_new_privs, set on a locked OS
// thread that is thrown away afterwards (the flag is per thread, inherited
// by a fork and can never be cleared), and every descriptor above 2 is
// marked close-on-exec first (close_range; Go opens its own that way
// already, this covers any other code's).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupPrefix names the per-call cgroups: <prefix><agent pid>-<n>.
const cgroupPrefix = "amagent-exec-"

var containment struct {
	once   sync.Once
	mu     sync.Mutex
	dir    string // the agent's own cgroup directory; "" without cgroups
	reason string
	seq    atomic.Uint64
}

// Containment names how a contained call's processes are ended on this
// machine: "cgroup" or "process-group" (then a daemon that leaves the group
// with setsid escapes; ContainmentReason says why there is no cgroup).
func Containment() string {
	if cgroupBase() != "" {
		return ContainmentCgroup
	}
	return ContainmentProcessGroup
}

// ContainmentReason says why Containment is what it is.
func ContainmentReason() string {
	cgroupBase()
	containment.mu.Lock()
	defer containment.mu.Unlock()
	return containment.reason
}

// cgroupBase is the agent's own cgroup directory when per-call cgroups can
// be made in it, found once.
func cgroupBase() string {
	containment.once.Do(func() {
		dir, err := probeCgroup()
		containment.mu.Lock()
		defer containment.mu.Unlock()
		if err != nil {
			containment.reason = "no cgroup v2 per call: " + err.Error() + "; the call's process group is killed"
			return
		}
		containment.dir = dir
		containment.reason = "each call in its own cgroup v2 under " + dir
	})
	containment.mu.Lock()
	defer containment.mu.Unlock()
	return containment.dir
}

// disableCgroups falls back to process groups for good.
func disableCgroups(why error) {
	containment.mu.Lock()
	defer containment.mu.Unlock()
	containment.dir = ""
	containment.reason = "no cgroup v2 per call: " + why.Error() + "; the call's process group is killed"
}

// probeCgroup finds the agent's cgroup v2 directory and checks that a
// child cgroup with cgroup.kill can be made there; it also removes the
// cgroups of agents that are gone.
func probeCgroup() (string, error) {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var rel string
	found := false
	for line := range strings.Lines(string(self)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			rel, found = p, true
		}
	}
	if !found {
		return "", errors.New("/proc/self/cgroup has no cgroup v2 entry")
	}
	mount, root, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	if root != "/" {
		r, ok := strings.CutPrefix(rel, root)
		if !ok {
			return "", fmt.Errorf("our cgroup %s is outside the cgroup2 mount's root %s", rel, root)
		}
		rel = r
	}
	dir := filepath.Join(mount, filepath.Clean("/"+rel))
	removeStale(dir)
	probe := filepath.Join(dir, fmt.Sprintf("%sprobe-%d", cgroupPrefix, os.Getpid()))
	if err := os.Mkdir(probe, 0o700); err != nil {
		return "", fmt.Errorf("cannot create a cgroup in %s: %w", dir, err)
	}
	defer os.Remove(probe)
	if _, err := os.Stat(filepath.Join(probe, "cgroup.kill")); err != nil {
		return "", fmt.Errorf("cgroup.kill missing (Linux before 5.14): %w", err)
	}
	return dir, nil
}

// cgroup2Mount returns the mount point and root of the cgroup2 file
// system from /proc/self/mountinfo.
func cgroup2Mount() (mount, root string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		fields := strings.Fields(pre)
		if len(fields) < 5 {
			continue
		}
		return unescapeMount(fields[4]), unescapeMount(fields[3]), nil
	}
	return "", "", errors.New("no cgroup2 file system is mounted")
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// removeStale kills and removes per-call cgroups left by an agent that is
// no longer running (it crashed during a call).
func removeStale(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), cgroupPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		rest = strings.TrimPrefix(rest, "probe-")
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
			continue
		}
		cg := &cgroup{dir: filepath.Join(dir, e.Name())}
		cg.kill()
		cg.remove()
	}
}

// cgroup is one call's cgroup.
type cgroup struct {
	dir string
	fd  *os.File
}

func newCgroup(base string) (*cgroup, error) {
	dir := filepath.Join(base, fmt.Sprintf("%s%d-%d", cgroupPrefix, os.Getpid(), containment.seq.Add(1)))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	fd, err := os.Open(dir)
	if err != nil {
		_ = os.Remove(dir)
		return nil, err
	}
	return &cgroup{dir: dir, fd: fd}, nil
}

func (c *cgroup) kill() {
	_ = os.WriteFile(filepath.Join(c.dir, "cgroup.kill"), []byte("1"), 0)
}

// remove waits, up to a bound, until the cgroup has no live process, then
// removes it.
func (c *cgroup) remove() {
	if c.fd != nil {
		_ = c.fd.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for pause := 20 * time.Microsecond; ; pause = min(2*pause, 5*time.Millisecond) {
		ev, err := os.ReadFile(filepath.Join(c.dir, "cgroup.events"))
		if err != nil || bytes.Contains(ev, []byte("populated 0")) || time.Now().After(deadline) {
			break
		}
		time.Sleep(pause)
	}
	_ = os.Remove(c.dir)
}

// proc is one started program.
type proc struct {
	cmd    *exec.Cmd
	pid    int
	cg     *cgroup // nil: process group only
	killed bool
}

func startProcess(cmd *exec.Cmd, contain bool) (*proc, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !contain {
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return &proc{cmd: cmd, pid: cmd.Process.Pid}, nil
	}
	// Descriptors above 2 that some code opened without close-on-exec
	// would reach the child: mark them all (Go marks its own already).
	_ = unix.CloseRange(3, math.MaxUint32, unix.CLOSE_RANGE_CLOEXEC)
	var cg *cgroup
	if base := cgroupBase(); base != "" {
		c, err := newCgroup(base)
		if err != nil {
			disableCgroups(fmt.Errorf("creating a cgroup in %s: %w", base, err))
		} else {
			cg = c
			cmd.SysProcAttr.UseCgroupFD = true
			cmd.SysProcAttr.CgroupFD = int(c.fd.Fd())
		}
	}
	err := startNoNewPrivs(cmd)
	if err != nil && cg != nil {
		// Nothing ran (Start failed before exec, or exec failed and
		// will fail the same again): try once without the cgroup.
		cg.remove()
		cg = nil
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = false, 0
		if err2 := startNoNewPrivs(cmd); err2 == nil {
			disableCgroups(fmt.Errorf("starting into a cgroup: %w", err))
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	return &proc{cmd: cmd, pid: cmd.Process.Pid, cg: cg}, nil
}

// startNoNewPrivs starts cmd from a locked OS thread that has no_new_privs
// set; the thread is never unlocked, so the runtime ends it with its
// goroutine and the flag never reaches the agent's other work. The main
// thread is the exception (the runtime parks it for good instead of ending
// it), so a goroutine that lands there holds it while another one, which
// cannot land there then, does the work.
func startNoNewPrivs(cmd *exec.Cmd) error {
	done := make(chan error, 1)
	for {
		onMain := make(chan bool, 1)
		release := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			if unix.Gettid() == unix.Getpid() {
				onMain <- true
				<-release
				runtime.UnlockOSThread()
				return
			}
			onMain <- false
			if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
				done <- fmt.Errorf("setting no_new_privs: %w", err)
				return
			}
			done <- cmd.Start()
		}()
		if !<-onMain {
			break
		}
		defer close(release)
	}
	return <-done
}

// waitExit waits until the program has exited without reaping it, so that
// its pid (and the group id) stay taken until killAll has run.
func (p *proc) waitExit() {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, p.pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

func (p *proc) killAll() {
	p.killed = true
	if p.cg != nil {
		p.cg.kill()
	}
	killGroup(p.pid)
}

func (p *proc) reap() (*os.ProcessState, error) { return p.cmd.Process.Wait() }

func (p *proc) release() {
	if p.cg != nil {
		p.cg.remove()
		return
	}
	if p.killed {
		awaitGroupGone(p.pid)
	}
}
