package pkgtest

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lintian reports no error on the .deb files, and every warning it gives
// is listed with its reason in packaging/lintian-warnings.txt.
func TestLintian(t *testing.T) {
	enabled(t)
	if _, err := exec.LookPath("lintian"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("lintian is missing (.ci/run installs it)")
		}
		t.Skip("no lintian here (apt-get install lintian)")
	}
	allowed := map[string]bool{}
	f, err := os.Open(filepath.Join(root(t), "packaging", "lintian-warnings.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		// "package: tag: reason"
		parts := strings.SplitN(l, ":", 3)
		if len(parts) < 3 || strings.TrimSpace(parts[2]) == "" {
			t.Errorf("lintian-warnings.txt: %q: want \"package: tag: reason\"", l)
			continue
		}
		allowed[strings.TrimSpace(parts[0])+": "+strings.TrimSpace(parts[1])] = true
	}
	f.Close()
	debs, _ := filepath.Glob(filepath.Join(dist(t), "*.deb"))
	if len(debs) == 0 {
		t.Fatalf("no .deb in %s (run make package)", dist(t))
	}
	for _, deb := range debs {
		out, _ := exec.Command("lintian", "--allow-root", "--no-tag-display-limit", deb).CombinedOutput()
		for _, l := range strings.Split(string(out), "\n") {
			// E: amagent: tag detail...
			sev, rest, ok := strings.Cut(l, ": ")
			if !ok {
				continue
			}
			fields := strings.Fields(rest)
			if len(fields) < 2 {
				continue
			}
			key := strings.TrimSuffix(fields[0], ":") + ": " + fields[1]
			switch sev {
			case "E":
				t.Errorf("%s: lintian error: %s", filepath.Base(deb), l)
			case "W":
				if !allowed[key] {
					t.Errorf("%s: lintian warning not listed in packaging/lintian-warnings.txt: %s", filepath.Base(deb), l)
				}
			}
		}
		t.Logf("%s:\n%s", filepath.Base(deb), out)
	}
}
