// Package pkgtest tests the built packages on this machine: lintian, the
// units, installing, enrolling, running, upgrading, removing and purging,
// and that two builds of one commit are byte-identical. They change the
// machine (dpkg -i as root), so they run only with AMAGENT_PACKAGE_TEST=1
// (`make package-test`, run by .ci/run after `make package`).
package pkgtest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func enabled(t *testing.T) {
	t.Helper()
	if os.Getenv("AMAGENT_PACKAGE_TEST") != "1" {
		t.Skip("package tests change the machine: run them with AMAGENT_PACKAGE_TEST=1 (make package-test)")
	}
}

// needRootDpkg skips (with the reason) where packages cannot be installed.
func needRootDpkg(t *testing.T) {
	t.Helper()
	enabled(t)
	if os.Geteuid() != 0 {
		t.Skip("installing packages needs root")
	}
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg on this machine")
	}
}

func dist(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("AMAGENT_DIST"); d != "" {
		return d
	}
	return filepath.Join(root(t), "dist")
}

// pkg finds the one file in dir matching the glob.
func pkg(t *testing.T, dir, glob string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, glob))
	if len(m) != 1 {
		t.Fatalf("want one %s in %s (run make package), found %v", glob, dir, m)
	}
	return m[0]
}

func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// dpkg runs dpkg, waiting while another dpkg or apt holds the lock.
func dpkg(t *testing.T, args ...string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		cmd := exec.Command("dpkg", append([]string{"--force-confdef", "--force-confold"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		out, err := cmd.CombinedOutput()
		if err == nil {
			return string(out)
		}
		if strings.Contains(string(out), "lock") && time.Now().Before(deadline) {
			time.Sleep(2 * time.Second)
			continue
		}
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func version(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// nextVersion is VERSION with its patch number one higher.
func nextVersion(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(version(t))
	if m == nil {
		t.Fatalf("VERSION %q is not x.y.z", version(t))
	}
	var patch int
	fmt.Sscan(m[3], &patch)
	return fmt.Sprintf("%s.%s.%d", m[1], m[2], patch+1)
}

// buildDebs builds this arch's .deb packages of the given version into a
// temporary folder.
func buildDebs(t *testing.T, ver string) string {
	t.Helper()
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(root(t), "scripts", "package.sh"))
	cmd.Dir = root(t)
	cmd.Env = append(os.Environ(), "VERSION="+ver, "DIST="+out, "ARCHES="+runtime.GOARCH, "FORMATS=deb")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh VERSION=%s: %v\n%s", ver, err, b)
	}
	return out
}

type fileWant struct {
	path       string
	dir        bool
	mode       os.FileMode
	owner, grp string
	linkTarget string
}

func checkFiles(t *testing.T, want []fileWant) {
	t.Helper()
	for _, w := range want {
		st, err := os.Lstat(w.path)
		if err != nil {
			t.Errorf("%s: %v", w.path, err)
			continue
		}
		if w.linkTarget != "" {
			if l, _ := os.Readlink(w.path); l != w.linkTarget {
				t.Errorf("%s -> %q, want -> %q", w.path, l, w.linkTarget)
			}
			continue
		}
		if st.IsDir() != w.dir || st.Mode().Perm() != w.mode {
			t.Errorf("%s: dir %v mode %v, want dir %v mode %v", w.path, st.IsDir(), st.Mode().Perm(), w.dir, w.mode)
		}
		s := st.Sys().(*syscall.Stat_t)
		if u := lookupName("passwd", s.Uid); u != w.owner {
			t.Errorf("%s: owner %s, want %s", w.path, u, w.owner)
		}
		if g := lookupName("group", s.Gid); g != w.grp {
			t.Errorf("%s: group %s, want %s", w.path, g, w.grp)
		}
	}
}

func lookupName(db string, id uint32) string {
	out, err := exec.Command("getent", db, fmt.Sprint(id)).Output()
	if err != nil {
		return fmt.Sprint(id)
	}
	name, _, _ := strings.Cut(string(out), ":")
	return name
}

func gone(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s is left behind", p)
		}
	}
}

// execStart is the ExecStart= command line of an installed unit, with
// $VAR and ${VAR} taken from env the way systemd does.
func execStart(t *testing.T, unit string, env map[string]string) []string {
	t.Helper()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(l, "ExecStart=")
		if !ok {
			continue
		}
		var argv []string
		for _, f := range strings.Fields(rest) {
			if v, ok := strings.CutPrefix(f, "$"); ok && !strings.HasPrefix(v, "{") {
				argv = append(argv, strings.Fields(env[v])...) // $VAR splits at spaces
				continue
			}
			argv = append(argv, os.Expand(f, func(k string) string { return env[k] }))
		}
		return argv
	}
	t.Fatalf("%s has no ExecStart=", unit)
	return nil
}

// envFile reads KEY=value lines (value optionally in double quotes).
func envFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if ok {
			env[k] = strings.Trim(v, `"`)
		}
	}
	return env
}

// verifyUnit runs systemd-analyze verify on an installed unit.
func verifyUnit(t *testing.T, unit string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("systemd-analyze is missing (Debian package systemd)")
		}
		t.Log("no systemd-analyze here: the unit is not verified")
		return
	}
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	t.Logf("systemd-analyze verify %s: %v %s", unit, err, out)
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %v waiting for %s", d, what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
