package cli

// This file is `amagent worklet new` (a complete worklet folder in one
// command, the SDK vendored so that the folder builds anywhere) and
// `amagent worklet doctor` (which toolchains are here, per language).

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	wasmmodules "github.com/amagent/amagent/wasm-modules"
)

//go:embed all:templates
var templates embed.FS

// newLang is what `worklet new` knows of a language.
type newLang struct {
	Name   string // as in --lang
	Title  string // for people
	Source string // the program's file, relative to the folder
}

var newLangs = []newLang{
	{"go", "Go", "main.go"},
	{"c", "C", "worklet.c"},
	{"rust", "Rust", "src/main.rs"},
	{"assemblyscript", "AssemblyScript", "assembly/index.ts"},
	{"wat", "WAT", "worklet.wat"},
}

func findLang(name string) (newLang, bool) {
	for _, l := range newLangs {
		if l.Name == name {
			return l, true
		}
	}
	return newLang{}, false
}

func langNames() string {
	var names []string
	for _, l := range newLangs {
		names = append(names, l.Name)
	}
	return strings.Join(names, "|")
}

var workletNameRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// authorCommand runs `worklet new` and `worklet doctor`.
func authorCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if args[0] == "doctor" {
		return doctorCommand(ctx, args[1:], stdout, stderr)
	}
	return newCommand(args[1:], stdout, stderr)
}

// NewOptions says what `worklet new` writes.
type NewOptions struct {
	Name string // the worklet's name, [a-z0-9-]
	Lang string // go, c, rust, assemblyscript or wat
	Kind string // "worklet" (default) or "policy"
	Dir  string // the folder to create; default ./Name
}

func newCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("amagent worklet new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o NewOptions
	fs.StringVar(&o.Lang, "lang", "", "the language: "+langNames())
	fs.StringVar(&o.Kind, "kind", "worklet", "worklet (evaluates, may remediate) or policy (decides from the scan alone)")
	fs.StringVar(&o.Dir, "dir", "", "the folder to create (default: ./NAME)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: amagent worklet new NAME --lang %s [--kind worklet|policy] [--dir DIR]\n", langNames())
		fs.PrintDefaults()
	}
	pos, err := splitArgs(fs, args)
	if err != nil {
		return ExitError
	}
	if len(pos) != 1 {
		fs.Usage()
		return ExitError
	}
	o.Name = pos[0]
	dir, err := NewWorklet(o)
	if err != nil {
		fmt.Fprintf(stderr, "amagent worklet new: %v\n", err)
		return ExitError
	}
	l, _ := findLang(o.Lang)
	fmt.Fprintf(stdout, "created %s: a %s %s with the SDK in %s\n", dir, l.Title, o.Kind, filepath.Join(dir, "sdk"))
	fmt.Fprintf(stdout, "next:\n  %s/build.sh && amagent worklet test %s     # 2 passed, 0 failed\n", dir, dir)
	fmt.Fprintf(stdout, "then edit %s and worklet.toml into your check, and add a test case per outcome in tests/\n",
		filepath.Join(dir, filepath.FromSlash(l.Source)))
	return 0
}

// NewWorklet writes a complete worklet folder (manifest, source using the
// SDK, build.sh, README, tests/ with a compliant and a non-compliant case,
// and the language's SDK under sdk/) and returns its path.
func NewWorklet(o NewOptions) (string, error) {
	if !workletNameRE.MatchString(o.Name) {
		return "", fmt.Errorf("name %q must be 1 to 64 characters of [a-z0-9-] (it is the worklet's name in worklet.toml)", o.Name)
	}
	l, ok := findLang(o.Lang)
	if !ok {
		if o.Lang == "" {
			return "", fmt.Errorf("--lang is missing: one of %s", langNames())
		}
		return "", fmt.Errorf("--lang %q is not one of %s", o.Lang, langNames())
	}
	if o.Kind == "" {
		o.Kind = "worklet"
	}
	if o.Kind != "worklet" && o.Kind != "policy" {
		return "", fmt.Errorf("--kind %q is not worklet or policy", o.Kind)
	}
	dir := o.Dir
	if dir == "" {
		dir = o.Name
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%s already exists and is not empty: give another --dir or remove it", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	files, err := newFiles(o, l)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		mode := os.FileMode(0o644)
		if path.Ext(n) == ".sh" {
			mode = 0o755
		}
		if err := os.WriteFile(p, files[n], mode); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// newFiles is every file of a new worklet folder, by slash path.
func newFiles(o NewOptions, l newLang) (map[string][]byte, error) {
	data := struct {
		Name, Lang, LangName, Kind, Source string
		Policy                             bool
	}{o.Name, l.Name, l.Title, o.Kind, l.Source, o.Kind == "policy"}
	files := map[string][]byte{}
	for _, root := range []string{"templates/common", "templates/" + l.Name} {
		err := fs.WalkDir(templates, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			src, err := templates.ReadFile(p)
			if err != nil {
				return err
			}
			t, err := template.New(p).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if err := t.Execute(&out, data); err != nil {
				return err
			}
			if b := out.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' {
				out.WriteByte('\n')
			}
			name := strings.TrimSuffix(strings.TrimPrefix(p, root+"/"), ".tmpl")
			if name == "gitignore" {
				name = ".gitignore"
			}
			files[name] = out.Bytes()
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sdk, names, err := wasmmodules.SDKFiles(l.Name)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		// The Go SDK's package is wasm-modules/go/amagent, so its files keep
		// that path under sdk/ (the module github.com/amagent/amagent/wasm-modules/go).
		files["sdk/"+n] = sdk[n]
	}
	return files, nil
}

// doctorCommand lists the toolchain each language's build would use, or
// what to install; it runs each SDK's build-worklet.sh --check.
func doctorCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintln(stderr, "usage: amagent worklet doctor")
		return ExitError
	}
	tmp, err := os.MkdirTemp("", "amagent-doctor-")
	if err != nil {
		fmt.Fprintf(stderr, "amagent worklet doctor: %v\n", err)
		return ExitError
	}
	defer os.RemoveAll(tmp)
	missing := 0
	for _, l := range newLangs {
		files, _, err := wasmmodules.SDKFiles(l.Name)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet doctor: %v\n", err)
			return ExitError
		}
		script := filepath.Join(tmp, l.Name, "build-worklet.sh")
		if err := os.MkdirAll(filepath.Dir(script), 0o755); err != nil {
			fmt.Fprintf(stderr, "amagent worklet doctor: %v\n", err)
			return ExitError
		}
		if err := os.WriteFile(script, files["build-worklet.sh"], 0o755); err != nil {
			fmt.Fprintf(stderr, "amagent worklet doctor: %v\n", err)
			return ExitError
		}
		cmd := exec.CommandContext(ctx, "bash", script, "--check")
		cmd.Dir = tmp
		out, err := cmd.CombinedOutput()
		if err != nil {
			missing++
		}
		text := strings.TrimSpace(string(out))
		if text == "" && err != nil {
			text = fmt.Sprintf("%s: cannot tell (%v)", l.Name, err)
		}
		fmt.Fprintln(stdout, text)
	}
	if missing > 0 {
		fmt.Fprintf(stdout, "%d of %d languages cannot be built here: install what is named above\n", missing, len(newLangs))
		return ExitNonCompliant
	}
	return 0
}
