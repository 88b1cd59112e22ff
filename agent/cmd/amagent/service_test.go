package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updatePlist = flag.Bool("update-plist", false, "rewrite testdata/com.amagent.amagent.plist")

// The macOS install, carried out in a folder: the launchd daemon
// definition and the folders, with their modes.
func TestDarwinInstallWrites(t *testing.T) {
	root := t.TempDir()
	p := darwinInstallPlan("/usr/local/bin/amagent", "/etc/amagent/amagent.toml")
	if err := applyPlanFiles(root, p.Dirs, p.Files); err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]os.FileMode{
		"/etc/amagent":     0o755,
		"/var/lib/amagent": 0o700,
		"/var/log/amagent": 0o750,
		launchdPlistPath:   0o644,
	} {
		st, err := os.Stat(filepath.Join(root, path))
		if err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v; want %v", path, err, st.Mode().Perm(), mode)
		}
	}
	got, _ := os.ReadFile(filepath.Join(root, launchdPlistPath))
	if *updatePlist {
		os.WriteFile("testdata/com.amagent.amagent.plist", got, 0o644)
	}
	want, err := os.ReadFile("testdata/com.amagent.amagent.plist")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("plist:\n%s\nwant (testdata/com.amagent.amagent.plist):\n%s", got, want)
	}
	if strings.Join(p.Load, " ") != "launchctl bootstrap system "+launchdPlistPath {
		t.Errorf("load command %q", p.Load)
	}
	// Arguments are XML-escaped.
	if s := string(launchdPlist("/opt/a&b/amagent", "/etc/<x>.toml")); !strings.Contains(s, "<string>/opt/a&amp;b/amagent</string>") || !strings.Contains(s, "<string>/etc/&lt;x&gt;.toml</string>") {
		t.Errorf("escaping:\n%s", s)
	}
}

// The Windows install: what the service manager is told.
func TestWindowsInstallPlan(t *testing.T) {
	p := windowsInstallPlan(`C:\Program Files\amagent\amagent.exe`, `C:\ProgramData\amagent\amagent.toml`)
	if p.Name != "amagent" || p.Exe != `C:\Program Files\amagent\amagent.exe` || !p.DelayedAutoStart {
		t.Errorf("plan %+v", p)
	}
	if got := strings.Join(p.Args, " "); got != `service run --config C:\ProgramData\amagent\amagent.toml` {
		t.Errorf("args %q", got)
	}
	if len(p.Recovery) != 3 || p.Recovery[0] != 10*time.Second || p.ResetPeriod != 24*time.Hour {
		t.Errorf("recovery %v reset %v", p.Recovery, p.ResetPeriod)
	}
	if strings.Join(p.Dirs, ",") != `C:\ProgramData\amagent,C:\ProgramData\amagent\state` {
		t.Errorf("dirs %q", p.Dirs)
	}
	// SYSTEM and Administrators only, protected from ProgramData's Users.
	if p.DirSDDL != "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)" {
		t.Errorf("SDDL %q", p.DirSDDL)
	}
}

// The MSI registers the same service as `amagent service install`.
func TestMSIMatchesServicePlan(t *testing.T) {
	wxs, err := os.ReadFile("../../../packaging/windows/amagent.wxs")
	if err != nil {
		t.Fatal(err)
	}
	p := windowsInstallPlan(`[INSTALLDIR]amagent.exe`, windowsDataDir+`\amagent.toml`)
	for _, want := range []string{
		`Name="` + p.Name + `"`,
		`DisplayName="` + p.DisplayName + `"`,
		`Description="` + p.Description + `"`,
		`Arguments="` + strings.Join(p.Args, " ") + `"`,
		`Start="auto"`,
	} {
		if !strings.Contains(string(wxs), want) {
			t.Errorf("amagent.wxs lacks %s", want)
		}
	}
}
