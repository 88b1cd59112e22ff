package pkgtest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Two builds of the committed HEAD (the same commit), in different folders, at different
// times, the second with an empty build cache, give identical binaries
// and packages.
func TestReproducible(t *testing.T) {
	enabled(t)
	sums := func(dir string) map[string]string {
		m := map[string]string{}
		for _, pat := range []string{"*.deb", "*.rpm", "*.apk", "*.msi", "SHA256SUMS", "build/linux_*/*", "build/windows_*/*"} {
			files, _ := filepath.Glob(filepath.Join(dir, pat))
			for _, f := range files {
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.Sum256(b)
				rel, _ := filepath.Rel(dir, f)
				m[rel] = hex.EncodeToString(h[:])
			}
		}
		return m
	}
	// One commit for both builds (HEAD may move while the first one runs).
	head, err := exec.Command("git", "-C", root(t), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v", err)
	}
	commit := strings.TrimSpace(string(head))
	build := func(name string, freshCache bool) map[string]string {
		src := filepath.Join(t.TempDir(), name, "amagent")
		for _, args := range [][]string{
			{"clone", "--quiet", "--shared", "--no-checkout", root(t), src},
			{"-C", src, "checkout", "--quiet", "--detach", commit},
		} {
			if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
		}
		cmd := exec.Command("./scripts/package.sh")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "DIST="+filepath.Join(src, "dist"))
		if freshCache {
			cmd.Env = append(cmd.Env, "GOCACHE="+t.TempDir())
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("package.sh in %s: %v\n%s", src, err, out)
		}
		return sums(filepath.Join(src, "dist"))
	}
	a := build("first", false)
	b := build("second-build", os.Getenv("AMAGENT_REPRO_FRESH_CACHE") != "0")
	if len(a) == 0 {
		t.Fatal("the build made nothing")
	}
	var names []string
	for n := range a {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if b[n] != a[n] {
			t.Errorf("%s differs between the two builds: %s and %s", n, a[n], b[n])
		} else {
			t.Logf("%s %s", a[n], n)
		}
	}
	for n := range b {
		if _, ok := a[n]; !ok {
			t.Errorf("%s only in the second build", n)
		}
	}
}
