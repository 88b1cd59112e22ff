package scan

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/sysexec"
)

// macAnswers are recorded outputs (macparse/testdata) keyed by the argv
// the macOS collectors run.
func macAnswers(t *testing.T) map[string]fakeAnswer {
	md := func(name string) string { return testdataFile(t, "macparse", name) }
	return map[string]fakeAnswer{
		"sw_vers": out(0, md("sw_vers-14.5.txt")),
		"system_profiler -json SPHardwareDataType SPSoftwareDataType": out(0, md("system_profiler-hw-sw-m2.json")),
		"system_profiler -json SPApplicationsDataType":                out(0, md("system_profiler-apps.json")),
		"softwareupdate --history":                                    out(0, md("softwareupdate-history.txt")),
		"softwareupdate -l --no-scan":                                 out(0, md("softwareupdate-l.txt")),
		"last -n 20":                                                  out(0, md("last.txt")),
		"stat -f %Su /dev/console":                                    out(0, "jane\n"),
	}
}

func macEnv(t *testing.T, answers map[string]fakeAnswer) (*Env, *fakeExec) {
	env, f := pmEnv(t, fstest.MapFS{}, answers)
	env.Now = func() time.Time { return time.Date(2024, 5, 16, 12, 0, 0, 0, time.UTC) }
	return env, f
}

func TestMacCollectorsOnRecordedOutputs(t *testing.T) {
	env, f := macEnv(t, macAnswers(t))
	ctx := t.Context()

	o, err := macOSRelease(ctx, env)
	if err != nil || o.Name != "macOS" || o.Version != "14.5" || o.Build != "23F79" || o.VersionName != "Sonoma" || o.Family != "darwin" || o.ID != "macos" {
		t.Errorf("OS = %+v, %v", o, err)
	}
	h, err := macHardwareProfile(ctx, env)
	if err != nil || h.Serial != "C02ZX1ABCD12" || h.CPU.Model != "Apple M2" || h.MemoryBytes != 16<<30 || h.Disks == nil {
		t.Errorf("hardware = %+v, %v", h, err)
	}
	u, err := macUsers(ctx, env)
	if err != nil || u.Name != "jane" || len(u.Current) != 2 {
		t.Errorf("users = %+v, %v", u, err)
	}
	sw, err := macSoftware(ctx, env)
	if err != nil || len(sw) != 4 {
		t.Errorf("software: %d, %v", len(sw), err)
	}
	patches, pending, err := macPatches(ctx, env)
	if err != nil || len(patches) != 5 || len(pending) != 4 || !pending[0].Security {
		t.Errorf("patches %d, pending %+v, %v", len(patches), pending, err)
	}
	r, err := macReboot(ctx, env)
	if err != nil || !r.Required || len(r.Reasons) != 2 || !strings.Contains(r.Reasons[0], "macOS Sonoma 14.6-23G80 installs with a restart") {
		t.Errorf("reboot = %+v, %v", r, err)
	}
	for _, req := range f.reqs {
		if req.Timeout != env.Timeout {
			t.Errorf("%q ran with timeout %s, want the collector's %s", req.Argv, req.Timeout, env.Timeout)
		}
	}
}

func TestMacUsersConsoleOnly(t *testing.T) {
	a := macAnswers(t)
	a["last -n 20"] = out(0, "wtmp begins Mon May  6 08:00:00 2024\n")
	env, _ := macEnv(t, a)
	u, err := macUsers(t.Context(), env)
	if err != nil || u.Name != "jane" || len(u.Current) != 1 || u.Current[0].Terminal != "console" {
		t.Errorf("users = %+v, %v", u, err)
	}
	a["stat -f %Su /dev/console"] = out(0, "root\n") // the login window
	env, _ = macEnv(t, a)
	if u, err := macUsers(t.Context(), env); err != nil || u.Name != "" || len(u.Current) != 0 {
		t.Errorf("login window: %+v, %v", u, err)
	}
}

func TestMacCollectorFailures(t *testing.T) {
	t.Run("no updates", func(t *testing.T) {
		a := macAnswers(t)
		a["softwareupdate -l --no-scan"] = fakeAnswer{res: sysexec.Result{Stderr: []byte("No new software available.\n")}}
		env, _ := macEnv(t, a)
		r, err := macReboot(t.Context(), env)
		if err != nil || r.Required || r.Reasons == nil {
			t.Errorf("reboot = %+v, %v", r, err)
		}
		_, pending, err := macPatches(t.Context(), env)
		if err != nil || pending == nil || len(pending) != 0 {
			t.Errorf("pending = %v, %v", pending, err)
		}
	})
	t.Run("exit code", func(t *testing.T) {
		a := macAnswers(t)
		a["sw_vers"] = fakeAnswer{res: sysexec.Result{ExitCode: 1, Stderr: []byte("sw_vers: unknown error")}}
		env, _ := macEnv(t, a)
		if _, err := macOSRelease(t.Context(), env); err == nil || !strings.Contains(err.Error(), "exit code 1: sw_vers: unknown error") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("garbage and truncated", func(t *testing.T) {
		a := macAnswers(t)
		a["system_profiler -json SPHardwareDataType SPSoftwareDataType"] = out(0, testdataFile(t, "macparse", "system_profiler-truncated.json"))
		a["system_profiler -json SPApplicationsDataType"] = fakeAnswer{res: sysexec.Result{Stdout: []byte(`{"SPApplicationsDataType":[`), Truncated: true}}
		a["softwareupdate --history"] = out(0, "<garbage>\n")
		env, _ := macEnv(t, a)
		if h, err := macHardwareProfile(t.Context(), env); err == nil || h.Disks == nil {
			t.Errorf("truncated JSON: %+v, %v", h, err)
		}
		if _, err := macSoftware(t.Context(), env); err == nil || !strings.Contains(err.Error(), "truncated") {
			t.Errorf("cut output: %v", err)
		}
		patches, pending, err := macPatches(t.Context(), env)
		if err == nil || len(patches) != 0 || len(pending) != 4 {
			t.Errorf("history garbage must not hide pending updates: %d %d %v", len(patches), len(pending), err)
		}
	})
	t.Run("hang", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			env := &Env{FS: fstest.MapFS{}, Exec: hangRunner, Timeout: 20 * time.Second}
			start := time.Now()
			_, _, err := macPatches(t.Context(), env)
			if !errors.Is(err, sysexec.ErrTimeout) {
				t.Fatalf("err = %v", err)
			}
			if d := time.Since(start); d != 40*time.Second { // two programs, each cut at 20s
				t.Errorf("took %s", d)
			}
		})
	})
	t.Run("no runner", func(t *testing.T) {
		if _, err := macOSRelease(context.Background(), &Env{}); err == nil {
			t.Error("no error without a runner")
		}
	})
}

func TestMacOnAWS(t *testing.T) {
	env := &Env{FS: fstest.MapFS{"usr/local/aws/ec2-macos-init/init.toml": {Data: []byte("")}}}
	if on, why := macOnAWS(t.Context(), env); !on || !strings.Contains(why, "ec2-macos-init") {
		t.Errorf("EC2 Mac: %v %q", on, why)
	}
	if on, _ := macOnAWS(t.Context(), &Env{FS: fstest.MapFS{}}); on {
		t.Error("plain Mac taken for EC2")
	}
}
