package redteam

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/amagent/amagent/agent/sysexec"
	"github.com/amagent/amagent/host"
)

// procEnded tells whether pid has ended: gone, or a zombie (nothing but
// its exit status is left).
func procEnded(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}

// execStdout runs argv through the host's exec with the exec-argv module
// (evaluate, the pattern being argv itself) and returns the program's
// stdout.
func execStdout(t *testing.T, e *host.Engine, argv []string) string {
	t.Helper()
	pat, _ := json.Marshal(argv)
	dir := worklet(t, "exec-argv", "[evaluate]\nexec = ["+string(pat)+"]\n"+argvParam)
	rc, res := execTry(t, e, dir, host.PhaseEvaluate, argv)
	if strings.HasPrefix(rc, "-") {
		t.Fatalf("%q: exec returned %s", argv, rc)
	}
	var out struct{ Stdout string }
	if err := json.Unmarshal(res.Details, &out); err != nil {
		t.Fatalf("%q: details %s: %v", argv, res.Details, err)
	}
	return out.Stdout
}

func TestExecChildrenEndWithTheCall(t *testing.T) {
	// Failed before the fix: sleep 78 (background) and the setsid child kept running after the run.
	t.Logf("containment: %s (%s)", sysexec.Containment(), sysexec.ContainmentReason())
	e, _ := engine(t, host.Limits{})
	cases := []struct {
		name       string
		argv       []string
		cgroupOnly bool
	}{
		{"background child", []string{"sh", "-c", "sleep 78 & echo $!"}, false},
		{"setsid daemon", []string{"setsid", "-w", "sh", "-c", "sleep 79 & echo $!"}, true},
		{"double fork into a new session", []string{"sh", "-c", "setsid sh -c 'sleep 80 & echo $!' & wait"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.cgroupOnly && sysexec.Containment() != sysexec.ContainmentCgroup {
				t.Skipf("a process that leaves the call's process group ends with the call only under cgroup containment; here: %s", sysexec.ContainmentReason())
			}
			out := execStdout(t, e, c.argv)
			fields := strings.Fields(out)
			if len(fields) == 0 {
				t.Fatalf("%q printed no pid", c.argv)
			}
			for _, f := range fields {
				pid, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("not a pid: %q", out)
				}
				if !procEnded(pid) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					t.Errorf("pid %d started by %q is still running after the run", pid, c.argv)
				}
			}
		})
	}
}

func TestExecChildEnvironment(t *testing.T) {
	// Failed before the fix: the child had NoNewPrivs 0 and the agent's working directory.
	e, _ := engine(t, host.Limits{})
	leak, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // not close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(leak)
	t.Setenv("AMAGENT_TEST_SECRET", "leak")
	out := execStdout(t, e, []string{"sh", "-c", `env; echo "cwd=$(pwd)"; echo fds; ls /proc/$$/fd; grep NoNewPrivs /proc/self/status`})
	for _, want := range []string{"LANG=C\n", "PATH=" + sysexec.SystemPath + "\n", "cwd=/\n", "fds\n0\n1\n2\nNoNewPrivs:\t1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the child's view lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "AMAGENT_TEST_SECRET") {
		t.Errorf("the agent's environment reached the child:\n%s", out)
	}
}
