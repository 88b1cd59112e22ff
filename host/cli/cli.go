// Package cli is `amagent worklet ...`: the commands a module author runs
// on their own machine. The agent's main wires WorkletCommand in.
package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/amagent/amagent/host"
)

// Exit codes of `amagent worklet test` (ABI.md section 7).
const (
	ExitCompliant     = 0 // or succeeded; in tests mode, all cases passed
	ExitNonCompliant  = 1 // or failed; in tests mode, some case failed
	ExitNotApplicable = 2
	ExitError         = 3 // the run errored, or the command could not run
)

const usage = `usage:
  amagent worklet test DIR --scan FILE [--phase evaluate|remediate] [--param k=v]... [--json]
  amagent worklet test DIR            run every case in DIR/tests/*.json
  amagent worklet run DIR [--phase evaluate|remediate] [--param k=v]... [--json]
                                      run it live on this machine
  amagent worklet new NAME --lang go|c|rust|assemblyscript|wat [--kind worklet|policy] [--dir DIR]
                                      a new worklet folder, SDK included, that builds and passes its tests
  amagent worklet doctor              the toolchain each language would build with, or what to install
`

// Subcommand is one `amagent worklet` subcommand: its arguments (after its
// name) in, the process exit code out.
type Subcommand func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// WorkletCommand runs `amagent worklet SUBCOMMAND ARGS...` (args start with
// the subcommand) and returns the process exit code.
func WorkletCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return WorkletCommandWith(ctx, args, stdout, stderr, nil)
}

// WorkletCommandWith is WorkletCommand with more subcommands (such as
// `verify`, which lives with the bundle code) looked up first in extra.
func WorkletCommandWith(ctx context.Context, args []string, stdout, stderr io.Writer, extra map[string]Subcommand) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return ExitError
	}
	if sub, ok := extra[args[0]]; ok {
		return sub(ctx, args[1:], stdout, stderr)
	}
	switch args[0] {
	case "test":
		return testCommand(ctx, args[1:], stdout, stderr)
	case "new", "doctor":
		return authorCommand(ctx, args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "amagent worklet: unknown subcommand %q\n%s", args[0], usage)
	return ExitError
}

// splitArgs lets flags come before or after the positional DIR.
func splitArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func testCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("amagent worklet test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scanFile := fs.String("scan", "", "recorded scan (JSON) to run against")
	phase := fs.String("phase", host.PhaseEvaluate, "evaluate or remediate")
	asJSON := fs.Bool("json", false, "print the outcome as one JSON object")
	cacheDir := fs.String("cache", defaultCacheDir(), "compilation cache directory (\"\" for none)")
	verbose := fs.Bool("v", false, "log debug messages")
	var params paramFlags
	fs.Var(&params, "param", "set a parameter, `name=value` (repeatable; over a test case's own params)")
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	pos, err := splitArgs(fs, args)
	if err != nil {
		return ExitError
	}
	if len(pos) != 1 {
		fmt.Fprint(stderr, usage)
		return ExitError
	}
	dir := pos[0]
	if *phase != host.PhaseEvaluate && *phase != host.PhaseRemediate {
		fmt.Fprintf(stderr, "amagent worklet test: --phase %q is not evaluate or remediate\n", *phase)
		return ExitError
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "amagent worklet test: %s: no such directory (give the worklet's folder, the one holding worklet.toml)\n", dir)
		return ExitError
	}
	e, err := newEngine(ctx, *cacheDir, *verbose, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "amagent worklet test: %v\n", err)
		return ExitError
	}
	defer e.Close(context.Background())

	if *scanFile == "" {
		return runCases(ctx, e, dir, *asJSON, stdout, stderr)
	}
	w, loadErr := e.Load(ctx, dir)
	var res host.Result
	if loadErr != nil {
		res = host.LoadErrorResult(dirName(dir), *phase, loadErr)
	} else {
		tc, err := readCase(*scanFile)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet test: %v\n", err)
			return ExitError
		}
		over, err := params.resolve(w.Manifest)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet test: %v\n", err)
			return ExitError
		}
		for k, v := range over {
			if tc.Params == nil {
				tc.Params = map[string]any{}
			}
			tc.Params[k] = v
		}
		var wrote *host.WrittenFiles
		res, wrote = runCase(ctx, e, w, *phase, tc)
		if *asJSON {
			writeJSONFiles(stdout, res, filesJSON(wrote))
			return exitCode(res.Status)
		}
		code := report(stdout, res, false)
		writeWritten(stdout, wrote)
		return code
	}
	return report(stdout, res, *asJSON)
}

// writeWritten lists what a remediate replay wrote, for a person.
func writeWritten(w io.Writer, wrote *host.WrittenFiles) {
	if wrote == nil {
		return
	}
	paths := make([]string, 0, len(wrote.Written))
	for p := range wrote.Written {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(w, "wrote: %s (%d bytes)\n", p, len(wrote.Written[p]))
	}
	for _, p := range wrote.Removed {
		fmt.Fprintf(w, "removed: %s\n", p)
	}
}

// dirName names a worklet directory in an error result.
func dirName(dir string) string { return filepath.Base(filepath.Clean(dir)) }

func exitCode(status string) int {
	switch status {
	case host.StatusCompliant, host.StatusSucceeded:
		return ExitCompliant
	case host.StatusNonCompliant, host.StatusFailed:
		return ExitNonCompliant
	case host.StatusNotApplicable:
		return ExitNotApplicable
	}
	return ExitError
}

// jsonResult is the exact object of ABI.md section 7.
type jsonResult struct {
	Status     string          `json:"status"`
	ExitCode   int             `json:"exit_code"`
	Message    string          `json:"message"`
	Details    json.RawMessage `json:"details"`
	Error      string          `json:"error"`
	DurationMS int64           `json:"duration_ms"`
	Truncated  bool            `json:"truncated"`
	Denied     []string        `json:"denied"`
	// Files is what a remediate replay wrote (path -> content, null for
	// removed); left out when it wrote nothing.
	Files map[string]*host.FileContent `json:"files,omitempty"`
}

func writeJSON(w io.Writer, r host.Result) { writeJSONFiles(w, r, nil) }

func writeJSONFiles(w io.Writer, r host.Result, files map[string]*host.FileContent) {
	d := r.Details
	if len(d) == 0 {
		d = json.RawMessage("null")
	}
	denied := r.Denied
	if denied == nil {
		denied = []string{}
	}
	b, _ := json.Marshal(jsonResult{Status: r.Status, ExitCode: r.ExitCode, Message: r.Message, Details: d, Error: r.Error,
		DurationMS: r.DurationMS(), Truncated: r.Truncated, Denied: denied, Files: files})
	fmt.Fprintf(w, "%s\n", b)
}

func writeHuman(w io.Writer, r host.Result) {
	fmt.Fprintf(w, "%s (exit %d) in %s\n", r.Status, r.ExitCode, r.Duration.Round(1000))
	if r.Message != "" {
		fmt.Fprintf(w, "message: %s\n", r.Message)
	}
	if len(r.Details) > 0 && string(r.Details) != "null" {
		fmt.Fprintf(w, "details: %s\n", r.Details)
	}
	if r.Truncated {
		fmt.Fprintln(w, "output: truncated at the output limit")
	}
	if r.Error != "" {
		fmt.Fprintf(w, "error: %s\n", r.Error)
	}
	if r.Hint != "" {
		fmt.Fprintf(w, "hint: %s\n", r.Hint)
	}
	for _, d := range r.Denied {
		fmt.Fprintf(w, "denied: %s (not declared in worklet.toml for this phase)\n", d)
	}
}

// testCase is a recorded scan with optional expectations and params.
type testCase struct {
	rec    *host.Recording
	Expect *expectation
	Params map[string]any
}

// readCase reads a recorded scan (a test case when it has "expect"). A
// directory or a file of another kind is an error that names the format
// wanted.
func readCase(path string) (*testCase, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		hint := ""
		if _, err := os.Stat(filepath.Join(path, "recording.json")); err == nil {
			hint = fmt.Sprintf(" (did you mean %s?)", filepath.Join(path, "recording.json"))
		}
		return nil, fmt.Errorf("%s is a directory; --scan wants a file holding %s%s", path, host.RecordingFormat, hint)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rec, err := host.ParseRecording(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var raw struct {
		Expect json.RawMessage `json:"expect"`
		Params map[string]any  `json:"params"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	x, err := parseExpect(raw.Expect)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &testCase{rec: rec, Expect: x, Params: raw.Params}, nil
}

// runCase runs one phase against the case's recording; wrote is what a
// remediate run left in its scratch copy of the files (nil when the phase
// could not write).
func runCase(ctx context.Context, e *host.Engine, w *host.Worklet, phase string, tc *testCase) (host.Result, *host.WrittenFiles) {
	env, err := host.ReplayEnv(tc.rec)
	if err != nil {
		return host.LoadErrorResult(w.Manifest.Name, phase, err), nil
	}
	var wrote *host.WrittenFiles
	env.OnWritten(func(f host.WrittenFiles) { wrote = &f })
	return e.Run(ctx, w, phase, tc.Params, env), wrote
}

var validStatus = map[string]map[string]bool{
	host.PhaseEvaluate:  {host.StatusCompliant: true, host.StatusNonCompliant: true, host.StatusNotApplicable: true, host.StatusError: true},
	host.PhaseRemediate: {host.StatusSucceeded: true, host.StatusFailed: true, host.StatusError: true},
}

// runCases runs DIR/tests/*.json and ends with "N passed, N failed"; with
// asJSON, one object per case (the result object plus "case", "pass" and
// "problem"), then a summary object {"passed": n, "failed": n}.
func runCases(ctx context.Context, e *host.Engine, dir string, asJSON bool, stdout, stderr io.Writer) int {
	files, _ := filepath.Glob(filepath.Join(dir, "tests", "*.json"))
	sort.Strings(files)
	if len(files) == 0 {
		fmt.Fprintf(stderr, "amagent worklet test: no test cases in %s (add a recorded scan with an \"expect\" object there, or give --scan FILE to run one recorded scan)\n", filepath.Join(dir, "tests"))
		return ExitError
	}
	w, loadErr := e.Load(ctx, dir)
	passed, failed := 0, 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		why, res, wrote := oneCase(ctx, e, w, loadErr, f)
		if why == "" {
			passed++
		} else {
			failed++
		}
		switch {
		case asJSON:
			writeCaseJSON(stdout, name, why, res, filesJSON(wrote))
		case why == "":
			fmt.Fprintf(stdout, "PASS %s: %s (%s)\n", name, res.Status, res.Duration.Round(1000))
		default:
			fmt.Fprintf(stdout, "FAIL %s: %s\n", name, why)
		}
	}
	if asJSON {
		b, _ := json.Marshal(map[string]int{"passed": passed, "failed": failed})
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	}
	if failed > 0 {
		return ExitNonCompliant
	}
	return 0
}

// writeCaseJSON prints one test case's outcome as a JSON line.
func writeCaseJSON(w io.Writer, name, problem string, r host.Result, files map[string]*host.FileContent) {
	d := r.Details
	if len(d) == 0 {
		d = json.RawMessage("null")
	}
	denied := r.Denied
	if denied == nil {
		denied = []string{}
	}
	b, _ := json.Marshal(struct {
		Case    string `json:"case"`
		Pass    bool   `json:"pass"`
		Problem string `json:"problem"`
		jsonResult
	}{name, problem == "", problem, jsonResult{Status: r.Status, ExitCode: r.ExitCode, Message: r.Message, Details: d,
		Error: r.Error, DurationMS: r.DurationMS(), Truncated: r.Truncated, Denied: denied, Files: files}})
	fmt.Fprintf(w, "%s\n", b)
}

func oneCase(ctx context.Context, e *host.Engine, w *host.Worklet, loadErr error, file string) (string, host.Result, *host.WrittenFiles) {
	tc, err := readCase(file)
	if err != nil {
		return err.Error(), host.Result{}, nil
	}
	x := tc.Expect
	phase := x.Phase
	if phase == "" {
		phase = host.PhaseEvaluate
	}
	if validStatus[phase] == nil {
		return fmt.Sprintf("expect.phase %q is not evaluate or remediate", phase), host.Result{}, nil
	}
	if !validStatus[phase][x.Status] {
		return fmt.Sprintf("expect.status %q is not a status of the %s phase", x.Status, phase), host.Result{}, nil
	}
	var res host.Result
	var wrote *host.WrittenFiles
	if loadErr != nil {
		res = host.LoadErrorResult(filepath.Base(filepath.Dir(filepath.Dir(file))), phase, loadErr)
	} else {
		res, wrote = runCase(ctx, e, w, phase, tc)
	}
	problems := x.check(res, tc.rec, wrote)
	if len(problems) > 0 && res.Error != "" {
		problems = append(problems, "error: "+res.Error)
	}
	return strings.Join(problems, "; "), res, wrote
}

func defaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "amagent", "wasm-cache")
}

// newEngine is the engine of a command a module author runs: its log on
// stderr (debug lines with -v), compiled code cached in cacheDir.
func newEngine(ctx context.Context, cacheDir string, verbose bool, stderr io.Writer) (*host.Engine, error) {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return host.NewEngine(ctx, host.Options{CacheDir: cacheDir, Log: log})
}
