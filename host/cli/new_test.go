package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	wasmmodules "github.com/amagent/amagent/wasm-modules"
)

// repoNodeModules is the AssemblyScript SDK's installed compiler in this
// checkout (npm ci there; .ci/run does it), if any.
func repoNodeModules(t *testing.T) string {
	p, err := filepath.Abs(filepath.Join("..", "..", "wasm-modules", "assemblyscript", "node_modules"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p, ".bin", "asc")); err != nil {
		return ""
	}
	return p
}

// TestNewWorkletBuildsAndPasses is the promise of `amagent worklet new`:
// in a folder outside this repository, for every language, the new folder's
// build.sh builds it with nothing edited and `amagent worklet test DIR`
// prints "2 passed, 0 failed". A language whose toolchain is missing is
// skipped with what its build script says to install.
func TestNewWorkletBuildsAndPasses(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("build.sh needs bash")
	}
	nodeModules := repoNodeModules(t)
	type job struct{ lang, kind string }
	var jobs []job
	for _, l := range newLangs {
		jobs = append(jobs, job{l.Name, "worklet"})
	}
	// A policy imports no exec and declares no files: the fast builds cover it.
	jobs = append(jobs, job{"c", "policy"}, job{"wat", "policy"}, job{"assemblyscript", "policy"})
	for _, j := range jobs {
		t.Run(j.lang+"/"+j.kind, func(t *testing.T) {
			t.Parallel()
			if testing.Short() && (j.lang == "go" || j.lang == "rust") {
				t.Skip("-short: a Go or Rust build takes seconds")
			}
			if j.lang == "assemblyscript" && nodeModules == "" {
				t.Skip("the AssemblyScript compiler is not installed: run `npm ci` in wasm-modules/assemblyscript (the test does not use the network)")
			}
			dir := filepath.Join(t.TempDir(), "my-check")
			got, err := NewWorklet(NewOptions{Name: "my-check", Lang: j.lang, Kind: j.kind, Dir: dir})
			if err != nil || got != dir {
				t.Fatalf("NewWorklet = %q, %v", got, err)
			}
			env := append(os.Environ(), "AMAGENT_NODE_MODULES="+nodeModules)
			check := exec.CommandContext(t.Context(), "bash", filepath.Join(dir, "sdk", "build-worklet.sh"), "--check")
			check.Dir, check.Env = dir, env
			if out, err := check.CombinedOutput(); err != nil {
				t.Skipf("no %s toolchain here: %s", j.lang, bytes.TrimSpace(out))
			}
			start := time.Now()
			build := exec.CommandContext(t.Context(), "bash", filepath.Join(dir, "build.sh"))
			build.Dir, build.Env = t.TempDir(), env // build.sh works from any directory
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("build.sh: %v\n%s", err, out)
			}
			t.Logf("%s %s built in %s", j.lang, j.kind, time.Since(start).Round(time.Millisecond))
			var out, errb bytes.Buffer
			code := WorkletCommand(context.Background(), []string{"test", dir, "--cache", ""}, &out, &errb)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if code != 0 || lines[len(lines)-1] != "2 passed, 0 failed" {
				t.Errorf("worklet test: exit %d, last line %q, want \"2 passed, 0 failed\"\n%s\n%s", code, lines[len(lines)-1], out.String(), errb.String())
			}
		})
	}
}

// TestNewVendorsTheSDKAsIs checks that the SDK a new folder gets is exactly
// wasm-modules/<lang> (the embedded files cannot drift from it), and that
// each language gets the files its build needs.
func TestNewVendorsTheSDKAsIs(t *testing.T) {
	need := map[string][]string{
		"go":             {"sdk/go.mod", "sdk/amagent/amagent.go", "sdk/amagent/files.go", "sdk/amagent/scanjson/scanjson.go", "go.mod", "main.go"},
		"c":              {"sdk/amagent.h", "worklet.c"},
		"rust":           {"sdk/amagent/src/lib.rs", "sdk/amagent/src/json.rs", "src/main.rs"},
		"assemblyscript": {"sdk/assembly/amagent.ts", "sdk/assembly/json.ts", "sdk/package.json", "sdk/package-lock.json", "assembly/index.ts", ".gitignore"},
		"wat":            {"sdk/amagent.wat", "worklet.wat"},
	}
	for _, l := range newLangs {
		t.Run(l.Name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "x")
			if _, err := NewWorklet(NewOptions{Name: "x", Lang: l.Name, Dir: dir}); err != nil {
				t.Fatal(err)
			}
			for _, f := range append(need[l.Name], "worklet.toml", "build.sh", "README.md", "sdk/build-worklet.sh",
				"tests/compliant.json", "tests/non-compliant.json") {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("no %s: %v", f, err)
				}
			}
			for _, f := range []string{"build.sh", "sdk/build-worklet.sh"} {
				if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode()&0o111 == 0 {
					t.Errorf("%s is not executable (%v)", f, fi.Mode())
				}
			}
			files, names, err := wasmmodules.SDKFiles(l.Name)
			if err != nil || len(names) == 0 {
				t.Fatalf("SDKFiles(%s) = %d files, %v", l.Name, len(names), err)
			}
			for _, n := range names {
				src, err := os.ReadFile(filepath.Join("..", "..", "wasm-modules", l.Name, filepath.FromSlash(n)))
				if err != nil {
					t.Fatal(err)
				}
				vendored, err := os.ReadFile(filepath.Join(dir, "sdk", filepath.FromSlash(n)))
				if err != nil || !bytes.Equal(src, vendored) || !bytes.Equal(src, files[n]) {
					t.Errorf("sdk/%s differs from wasm-modules/%s/%s (%v)", n, l.Name, n, err)
				}
			}
		})
	}
}

func TestNewRefusesWithTheReason(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"new", "Bad_Name", "--lang", "c"}, `name "Bad_Name" must be 1 to 64 characters of [a-z0-9-]`},
		{[]string{"new", "ok", "--lang", "cobol"}, `--lang "cobol" is not one of go|c|rust|assemblyscript|wat`},
		{[]string{"new", "ok"}, "--lang is missing"},
		{[]string{"new", "ok", "--lang", "c", "--kind", "check"}, `--kind "check" is not worklet or policy`},
		{[]string{"new", "ok", "--lang", "c", "--dir", full}, "already exists and is not empty"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		if code := WorkletCommand(t.Context(), c.args, &out, &errb); code != ExitError || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want %q", c.args, code, errb.String(), c.want)
		}
	}
	// Flags after NAME, and the next steps printed.
	dir := filepath.Join(t.TempDir(), "banner")
	var out, errb bytes.Buffer
	if code := WorkletCommand(t.Context(), []string{"new", "banner", "--dir", dir, "--lang", "wat"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), dir+"/build.sh && amagent worklet test "+dir) {
		t.Errorf("output %q does not give the next command", out.String())
	}
}

func TestDoctorNamesEveryLanguage(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("the checks are bash scripts")
	}
	var out, errb bytes.Buffer
	code := WorkletCommand(t.Context(), []string{"doctor"}, &out, &errb)
	if code != 0 && code != ExitNonCompliant {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, l := range newLangs {
		if !strings.Contains(out.String(), "\n"+l.Name+": ") && !strings.HasPrefix(out.String(), l.Name+": ") {
			t.Errorf("no line for %s in\n%s", l.Name, out.String())
		}
	}
}

// TestSDKReadmesShowTheMotdProgram holds the promise that every SDK README
// shows the same small program: the one `worklet new motd` writes.
func TestSDKReadmesShowTheMotdProgram(t *testing.T) {
	for _, l := range newLangs {
		files, err := newFiles(NewOptions{Name: "motd", Lang: l.Name, Kind: "worklet"}, l)
		if err != nil {
			t.Fatal(err)
		}
		readme, err := os.ReadFile(filepath.Join("..", "..", "wasm-modules", l.Name, "README.md"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(readme, files[l.Source]) {
			t.Errorf("wasm-modules/%s/README.md does not show the program `worklet new motd --lang %s` writes (%s)", l.Name, l.Name, l.Source)
		}
	}
}
