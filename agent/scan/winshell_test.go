package scan

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/scan/internal/winparse"
	"github.com/amagent/amagent/agent/sysexec"
)

func psKey(script string) string {
	return strings.Join([]string{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script}, " ")
}

func TestWinPatchesOnRecordedOutputs(t *testing.T) {
	wd := func(name string) string { return testdataFile(t, "winparse", name) }
	t.Setenv("SystemRoot", `C:\Windows`)
	t.Setenv("AMAGENT_TEST_SECRET", "must-not-leak")
	env, f := pmEnv(t, fstest.MapFS{}, map[string]fakeAnswer{
		psKey(winparse.HotFixScript):       out(0, wd("hotfix-ps51.json")),
		psKey(winparse.UpdateSearchScript): out(0, wd("wua-search.json")),
		psKey(biosSerialScript):            out(0, "VMware-56 4d 1a 2b\r\n"),
	})
	patches, pending, err := winPatches(t.Context(), env)
	if err != nil || len(patches) != 4 || len(pending) != 5 || pending[0].KB != "KB5037771" || !pending[0].Security {
		t.Fatalf("patches %d pending %+v err %v", len(patches), pending, err)
	}
	if s, err := winSerial(t.Context(), env); err != nil || s != "VMware-56 4d 1a 2b" {
		t.Errorf("serial %q, %v", s, err)
	}
	for _, req := range f.reqs {
		if !slices.Contains(req.Env, `SystemRoot=C:\Windows`) || !slices.ContainsFunc(req.Env, func(s string) bool { return strings.HasPrefix(s, "PATH=") }) {
			t.Errorf("PowerShell environment lacks SystemRoot or PATH: %q", req.Env)
		}
		for _, kv := range req.Env {
			if strings.Contains(kv, "must-not-leak") {
				t.Errorf("agent environment leaked to PowerShell: %q", kv)
			}
		}
		if req.Timeout != env.Timeout {
			t.Errorf("timeout %s", req.Timeout)
		}
	}
}

func TestWinPatchesFailures(t *testing.T) {
	wd := func(name string) string { return testdataFile(t, "winparse", name) }
	env, _ := pmEnv(t, fstest.MapFS{}, map[string]fakeAnswer{
		psKey(winparse.HotFixScript):       out(0, wd("hotfix-truncated.json")),
		psKey(winparse.UpdateSearchScript): {res: sysexec.Result{ExitCode: 1, Stderr: []byte("Exception from HRESULT: 0x8024402C")}},
		psKey(biosSerialScript):            {res: sysexec.Result{Stdout: []byte("x"), Truncated: true}},
	})
	patches, pending, err := winPatches(t.Context(), env)
	if err == nil || !strings.Contains(err.Error(), "Get-HotFix JSON") || !strings.Contains(err.Error(), "0x8024402C") {
		t.Errorf("err = %v", err)
	}
	if patches == nil || pending == nil || len(patches)+len(pending) != 0 {
		t.Errorf("partial: %v %v", patches, pending)
	}
	if _, err := winSerial(t.Context(), env); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("serial: %v", err)
	}
	synctest.Test(t, func(t *testing.T) {
		env := &Env{Exec: hangRunner, Timeout: 15 * time.Second}
		if _, _, err := winPatches(t.Context(), env); !errors.Is(err, sysexec.ErrTimeout) {
			t.Errorf("hang: %v", err)
		}
	})
}
