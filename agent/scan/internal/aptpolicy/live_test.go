package aptpolicy

import (
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/amagent/amagent/agent/scan/internal/linux"
)

// installedFrom reads the installed packages of the machine rooted at root.
func installedFrom(t testing.TB, root string) []Installed {
	t.Helper()
	b, err := os.ReadFile(root + "/var/lib/dpkg/status")
	if err != nil {
		t.Skipf("no dpkg status: %v", err)
	}
	pkgs, err := linux.ParseDpkgStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	var out []Installed
	for _, p := range pkgs {
		if p.State == "installed" {
			out = append(out, Installed{Name: p.Name, Arch: p.Architecture, Version: p.Version})
		}
	}
	return out
}

// The Go policy agrees with `apt list --upgradable` on this machine: the
// same packages at the same versions, and the same security flag (a
// "-security" suite in apt's listing).
func TestAgreesWithAptListUpgradable(t *testing.T) {
	if _, err := exec.LookPath("apt"); err != nil {
		t.Skip("no apt on this machine")
	}
	if ents, _ := os.ReadDir("/var/lib/apt/lists"); len(ents) < 3 {
		t.Skip("apt has no package lists here (apt-get update never ran)")
	}
	out, err := exec.Command("apt", "list", "--upgradable").Output()
	if err != nil {
		t.Skipf("apt list --upgradable: %v", err)
	}
	want := map[string]string{}
	wantSec := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		// name/suite[,suite] version arch [upgradable from: x]
		f := strings.Fields(line)
		if len(f) < 3 || !strings.Contains(f[0], "/") {
			continue
		}
		name, suites, _ := strings.Cut(f[0], "/")
		want[name+":"+f[2]] = f[1]
		wantSec[name+":"+f[2]] = strings.Contains(suites, "-security")
	}
	dpkgArch, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		t.Skip("no dpkg")
	}
	native := strings.TrimSpace(string(dpkgArch))
	got, err := Pending(Options{FS: os.DirFS("/"), Arch: native}, installedFrom(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	gotMap := map[string]Update{}
	for _, u := range got {
		gotMap[u.Name+":"+u.Arch] = u
	}
	var problems []string
	for k, v := range want {
		u, ok := gotMap[k]
		switch {
		case !ok:
			problems = append(problems, "missing "+k+" "+v)
		case u.Version != v:
			problems = append(problems, "version of "+k+": "+u.Version+", apt says "+v)
		case u.Security != wantSec[k]:
			problems = append(problems, "security flag of "+k)
		}
	}
	for k, u := range gotMap {
		if _, ok := want[k]; !ok {
			problems = append(problems, "extra "+k+" "+u.Version)
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("%d disagreements with apt list --upgradable (%d pending there):\n%s", len(problems), len(want), strings.Join(problems, "\n"))
	}
	t.Logf("%d pending updates agree with apt list --upgradable", len(want))
}
