//go:build linux

package sysexec

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// pidAlive tells whether pid is a process that has not ended (a zombie has
// ended: only its exit status is left for its parent).
func pidAlive(t testing.TB, pid int) bool {
	t.Helper()
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		t.Fatalf("/proc/%d/stat: %q", pid, s)
	}
	return s[i+2] != 'Z' && s[i+2] != 'X'
}

// pidsIn parses the decimal pids a program printed, one a line.
func pidsIn(t testing.TB, out []byte) []int {
	t.Helper()
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			t.Fatalf("not a pid: %q in %q", f, out)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		t.Fatalf("the program printed no pid: %q", out)
	}
	return pids
}

// killLater ends pid after the test in case containment failed, so that a
// failing run leaves nothing behind.
func killLater(t *testing.T, pids []int) {
	t.Cleanup(func() {
		for _, pid := range pids {
			if pidAlive(t, pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

func TestContainedCallLeavesNoProcess(t *testing.T) {
	// Failed before the fix: sh -c 'sleep 78 &' left sleep running after Run returned.
	t.Logf("containment: %s (%s)", Containment(), ContainmentReason())
	cases := []struct {
		name     string
		argv     []string
		needsCgr bool
	}{
		{"background child", []string{"sh", "-c", "sleep 78 & echo $!"}, false},
		{"background children, non-zero exit", []string{"sh", "-c", "sleep 77 & echo $!; sleep 76 & echo $!; exit 3"}, false},
		{"setsid daemon", []string{"setsid", "-w", "sh", "-c", "sleep 79 & echo $!"}, true},
		{"own process group", []string{"sh", "-c", "set -m; sleep 75 & echo $!"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.needsCgr && Containment() != ContainmentCgroup {
				t.Skipf("a process that leaves the call's process group is ended only with cgroup containment: %s", ContainmentReason())
			}
			res, err := Run(t.Context(), Request{Argv: c.argv, Contain: true})
			if err != nil {
				t.Fatal(err)
			}
			pids := pidsIn(t, res.Stdout)
			killLater(t, pids)
			for _, pid := range pids {
				if pidAlive(t, pid) {
					t.Errorf("pid %d (started by %q) is still running after Run returned", pid, c.argv)
				}
			}
		})
	}
}

func TestContainedTimeoutLeavesNoProcess(t *testing.T) {
	// Failed before the fix: a setsid child survived the group kill at the deadline.
	if Containment() != ContainmentCgroup {
		t.Skipf("needs cgroup containment: %s", ContainmentReason())
	}
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	_, err := Run(t.Context(), Request{
		Argv:    []string{"sh", "-c", "setsid sh -c 'sleep 74 & echo $! > " + pidFile + "; wait' & sleep 73"},
		Timeout: 300 * time.Millisecond, Contain: true,
	})
	if err == nil {
		t.Fatal("no timeout")
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Skipf("the daemon had not started within the timeout: %v", rerr)
	}
	pids := pidsIn(t, b)
	killLater(t, pids)
	for _, pid := range pids {
		if pidAlive(t, pid) {
			t.Errorf("pid %d still running after the timeout", pid)
		}
	}
}

func TestContainedEnvironmentAndDescriptors(t *testing.T) {
	// Failed before the fix: the child had NoNewPrivs 0 and the agent's working directory.
	leak, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // no O_CLOEXEC on purpose
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(leak)
	t.Setenv("AMAGENT_SECRET", "leak")
	res, err := Run(t.Context(), Request{Contain: true, Argv: []string{"sh", "-c",
		`env; echo "cwd=$(pwd)"; echo fds; ls /proc/$$/fd; grep NoNewPrivs /proc/self/status`}})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Stdout)
	for _, want := range []string{"LANG=C\n", "PATH=" + SystemPath + "\n", "cwd=/\n", "fds\n0\n1\n2\nNoNewPrivs:\t1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
	for line := range strings.Lines(out) {
		name, _, _ := strings.Cut(line, "=")
		switch name {
		case "LANG", "LC_ALL", "PATH", "PWD", "SHLVL", "_", "cwd", "OLDPWD", "fds\n", "0\n", "1\n", "2\n":
		default:
			if !strings.HasPrefix(line, "NoNewPrivs") {
				t.Errorf("unexpected environment or output line %q", line)
			}
		}
	}
	// The flag was set on a thread that ends with its goroutine (the
	// runtime ends it right after): none of ours keeps it.
	deadline := time.Now().Add(2 * time.Second)
	for {
		marked := threadsWithNoNewPrivs()
		if len(marked) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads of the agent with no_new_privs: %v", marked)
		}
		time.Sleep(time.Millisecond)
	}
}

func threadsWithNoNewPrivs() []string {
	var marked []string
	tasks, _ := filepath.Glob("/proc/self/task/*/status")
	for _, st := range tasks {
		b, err := os.ReadFile(st)
		if err == nil && strings.Contains(string(b), "NoNewPrivs:\t1") {
			marked = append(marked, st)
		}
	}
	return marked
}

func TestUncontainedCallKeepsItsDaemons(t *testing.T) {
	// The agent's own work (an installer's postinst starting a service)
	// is not contained: a background child survives a normal exit.
	res, err := Run(t.Context(), Request{Argv: []string{"sh", "-c", "sleep 72 >/dev/null 2>&1 & echo $!"}})
	if err != nil {
		t.Fatal(err)
	}
	pids := pidsIn(t, res.Stdout)
	killLater(t, pids)
	if !pidAlive(t, pids[0]) {
		t.Fatal("an uncontained call's background child was killed")
	}
}

func BenchmarkRunBare(b *testing.B) {
	for b.Loop() {
		if _, err := Run(b.Context(), Request{Argv: []string{"/bin/true"}}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRunContained(b *testing.B) {
	b.Logf("containment: %s", Containment())
	for b.Loop() {
		if _, err := Run(b.Context(), Request{Argv: []string{"/bin/true"}, Contain: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestProcessGroupFallback(t *testing.T) {
	// Without a cgroup (forced here, in a child test process), a
	// background child still ends with the call; Containment says so.
	if os.Getenv("AMAGENT_SYSEXEC_NO_CGROUP") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProcessGroupFallback$", "-test.v")
		cmd.Env = append(os.Environ(), "AMAGENT_SYSEXEC_NO_CGROUP=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestProcessGroupFallback") {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	cgroupBase()
	disableCgroups(errors.New("disabled by the test"))
	if Containment() != ContainmentProcessGroup || !strings.Contains(ContainmentReason(), "disabled by the test") {
		t.Fatalf("containment %s (%s)", Containment(), ContainmentReason())
	}
	res, err := Run(t.Context(), Request{Argv: []string{"sh", "-c", "sleep 71 & echo $!"}, Contain: true})
	if err != nil {
		t.Fatal(err)
	}
	pids := pidsIn(t, res.Stdout)
	killLater(t, pids)
	if pidAlive(t, pids[0]) {
		t.Errorf("pid %d still running after Run returned (process-group containment)", pids[0])
	}
}
