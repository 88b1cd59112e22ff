package abitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// agent is the path of the amagent binary built by TestMain, or "" with
// buildErr set when it could not be built.
var (
	agent    string
	buildErr error
)

// TestMain builds the agent once, unless ABITEST_AMAGENT names a binary.
func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "abitest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if bin := os.Getenv("ABITEST_AMAGENT"); bin != "" {
		agent = bin // an agent built elsewhere, e.g. by make build
	} else {
		agent, buildErr = buildAgent(tmp)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// root is the module root, two levels above this package.
func root() string { return filepath.Join("..", "..") }

func buildAgent(tmp string) (string, error) {
	bin := filepath.Join(tmp, "amagent")
	cmd := exec.Command("go", "build", "-o", bin, "./agent/cmd/amagent")
	cmd.Dir = root()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./agent/cmd/amagent: %v\n%s", err, out)
	}
	return bin, nil
}

// result is the `worklet test --json` object of ABI.md section 7.
type result struct {
	Status     string          `json:"status"`
	ExitCode   int             `json:"exit_code"`
	Message    string          `json:"message"`
	Details    json.RawMessage `json:"details"`
	Error      string          `json:"error"`
	DurationMS int64           `json:"duration_ms"`
}

// run is one invocation of the agent.
type run struct {
	res     result
	code    int // the command's own exit code
	stdout  []byte
	stderr  []byte
	elapsed time.Duration
}

// expectation is the lead's case format: a recorded scan plus "expect"
// and "params".
type expectation struct {
	Expect struct {
		Phase   string `json:"phase"`
		Status  string `json:"status"`
		Message string `json:"message"`
	} `json:"expect"`
	Time time.Time `json:"time"`
	Scan struct {
		Software json.RawMessage `json:"software"`
	} `json:"scan"`
	Files map[string]string `json:"files"`
	Exec  []struct {
		Argv     []string `json:"argv"`
		ExitCode int      `json:"exit_code"`
		Stdout   string   `json:"stdout"`
		Stderr   string   `json:"stderr"`
	} `json:"exec"`
}

func needAgent(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// invoke runs the agent with args and returns what it did; the process is
// killed after limit.
func invoke(t *testing.T, limit time.Duration, args ...string) run {
	t.Helper()
	needAgent(t)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), agent, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(limit, func() { cmd.Process.Kill() })
	err := cmd.Wait()
	timer.Stop()
	r := run{stdout: stdout.Bytes(), stderr: stderr.Bytes(), elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("amagent %s: %v", strings.Join(args, " "), err)
	}
	if r.elapsed >= limit {
		t.Fatalf("amagent %s: still running after %v (killed)", strings.Join(args, " "), limit)
	}
	return r
}

// testJSON runs `amagent worklet test DIR --scan CASE --json [--phase P]`
// and decodes its one object, checking that every field of section 7 is
// there.
func testJSON(t *testing.T, limit time.Duration, dir, scan, phase string) run {
	t.Helper()
	args := []string{"worklet", "test", dir, "--scan", scan, "--json"}
	if phase != "" {
		args = append(args, "--phase", phase)
	}
	r := invoke(t, limit, args...)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(r.stdout), &fields); err != nil {
		t.Fatalf("amagent %s: stdout is not one JSON object: %v\nstdout: %s\nstderr: %s",
			strings.Join(args, " "), err, r.stdout, tail(r.stderr))
	}
	for _, k := range []string{"status", "exit_code", "message", "details", "error", "duration_ms"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("result lacks %q: %s", k, r.stdout)
		}
	}
	if err := json.Unmarshal(bytes.TrimSpace(r.stdout), &r.res); err != nil {
		t.Fatalf("result fields have the wrong types: %v: %s", err, r.stdout)
	}
	return r
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// commandCode is the command's exit code for a status (section 7).
var commandCode = map[string]int{
	"compliant": 0, "succeeded": 0,
	"non-compliant": 1, "failed": 1,
	"not-applicable": 2,
	"error":          3,
}

// moduleCode is the module's exit code behind a non-error status.
var moduleCode = map[string]int{
	"compliant": 0, "succeeded": 0, "non-compliant": 1, "failed": 1, "not-applicable": 2,
}

// limitFor is how long one run of a module may take end to end, building
// nothing: generous for CI, tight where the module's own limit is the point.
func limitFor(dir string) time.Duration {
	switch filepath.Base(dir) {
	case "loop":
		return 5 * time.Second // timeout "200ms" in its manifest
	case "flood", "memgrow", "c-malloc", "recursion", "c-recursion":
		return 15 * time.Second
	}
	return 60 * time.Second
}

// worklets lists every worklet directory with cases under testdata/abi and
// testdata/hostile.
func worklets(t *testing.T) []string {
	t.Helper()
	var dirs []string
	for _, set := range []string{"abi", "hostile"} {
		matches, err := filepath.Glob(filepath.Join(root(), "testdata", set, "*", "worklet.toml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			dirs = append(dirs, filepath.Dir(m))
		}
	}
	if len(dirs) < 30 {
		t.Fatalf("found only %d worklet directories under testdata/abi and testdata/hostile", len(dirs))
	}
	return dirs
}

func cases(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "tests", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no tests/*.json (%v)", dir, err)
	}
	return files
}

func readCase(t *testing.T, file string) expectation {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var e expectation
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if _, ok := commandCode[e.Expect.Status]; !ok {
		t.Fatalf("%s: bad expect.status %q", file, e.Expect.Status)
	}
	return e
}

func caseName(dir, file string) string {
	return filepath.Base(filepath.Dir(dir)) + "/" + filepath.Base(dir) + "/" + strings.TrimSuffix(filepath.Base(file), ".json")
}

// TestCases runs every case on its own with --scan and --json and checks
// status, message, error and both exit codes, then the case's own checks.
func TestCases(t *testing.T) {
	needAgent(t)
	for _, dir := range worklets(t) {
		for _, file := range cases(t, dir) {
			name := caseName(dir, file)
			t.Run(name, func(t *testing.T) {
				if testing.Short() && strings.HasPrefix(name, "abi/go-probe/") && !shortGo[name] {
					t.Skip("-short: a Go module compiles for seconds per run; TestDirMode still runs every case")
				}
				t.Parallel()
				e := readCase(t, file)
				r := testJSON(t, limitFor(dir), dir, file, e.Expect.Phase)
				t.Logf("%s -> %s (%v)", name, r.stdout, r.elapsed.Round(time.Millisecond))
				if r.res.Status != e.Expect.Status {
					t.Errorf("status %q, want %q (error %q, message %q)\nstderr: %s",
						r.res.Status, e.Expect.Status, r.res.Error, r.res.Message, tail(r.stderr))
				}
				if !strings.Contains(r.res.Message, e.Expect.Message) {
					t.Errorf("message %q does not contain %q", r.res.Message, e.Expect.Message)
				}
				if want := commandCode[e.Expect.Status]; r.code != want {
					t.Errorf("command exit code %d, want %d for %s", r.code, want, e.Expect.Status)
				}
				if e.Expect.Status == "error" {
					if r.res.Error == "" {
						t.Error("status error with an empty error field")
					}
				} else {
					if r.res.Error != "" {
						t.Errorf("error %q on a %s run", r.res.Error, r.res.Status)
					}
					// A worklet skipped by its manifest's os list never ran.
					if want := moduleCode[e.Expect.Status]; r.res.ExitCode != want && !strings.HasPrefix(name, "abi/wat-os/") {
						t.Errorf("exit_code %d, want %d", r.res.ExitCode, want)
					}
				}
				if r.res.DurationMS < 0 || time.Duration(r.res.DurationMS)*time.Millisecond > r.elapsed+time.Second {
					t.Errorf("duration_ms %d, but the command took %v", r.res.DurationMS, r.elapsed)
				}
				if check := checks[name]; check != nil {
					check(t, r, e)
				}
			})
		}
	}
}

// shortGo are the go-probe cases that run one by one even with -short.
var shortGo = map[string]bool{
	"abi/go-probe/env-evaluate": true, "abi/go-probe/stdin": true,
	"abi/go-probe/slot": true, "abi/go-probe/exec-allowed": true,
}

// TestDirMode runs `amagent worklet test DIR` on every worklet: all cases
// pass and the last line is "N passed, 0 failed".
func TestDirMode(t *testing.T) {
	needAgent(t)
	for _, dir := range worklets(t) {
		n := len(cases(t, dir))
		t.Run(filepath.Base(filepath.Dir(dir))+"/"+filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			r := invoke(t, time.Duration(n)*limitFor(dir), "worklet", "test", dir)
			want := fmt.Sprintf("%d passed, 0 failed", n)
			if got := lastLine(r.stdout); got != want {
				t.Errorf("last line %q, want %q\nstdout: %s\nstderr: %s", got, want, tail(r.stdout), tail(r.stderr))
			}
			if r.code != 0 {
				t.Errorf("exit code %d with every case passing", r.code)
			}
		})
	}
}

// TestDirModeFailure checks that dir mode can fail: a case that expects the
// wrong status is counted as failed and the command does not exit 0.
func TestDirModeFailure(t *testing.T) {
	needAgent(t)
	src := filepath.Join(root(), "testdata", "abi", "wat-reboot")
	dir := t.TempDir()
	for _, f := range []string{"worklet.toml", "worklet.wasm", "tests/no-reboot.json", "tests/reboot-pending.json"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "tests/reboot-pending.json" {
			b = bytes.Replace(b, []byte(`"status": "non-compliant"`), []byte(`"status": "compliant"`), 1)
		}
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := invoke(t, time.Minute, "worklet", "test", dir)
	if got := lastLine(r.stdout); got != "1 passed, 1 failed" {
		t.Errorf("last line %q, want %q\nstdout: %s", got, "1 passed, 1 failed", r.stdout)
	}
	if r.code == 0 {
		t.Error("exit code 0 with a failed case")
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TestErrorKinds checks the error kind that each hostile module ends with.
func TestErrorKinds(t *testing.T) {
	needAgent(t)
	tests := []struct {
		dir    string
		prefix string   // the error starts with this ("": see memory-min)
		has    []string // and contains these
	}{
		{"loop", "timeout", nil},
		{"memgrow", "memory limit", nil},
		// Rejected before it runs: "memory limit" or a load error about memory.
		{"memory-min", "", []string{"memory"}},
		{"c-malloc", "memory limit", nil},
		{"recursion", "trap:", nil},
		{"c-recursion", "trap:", nil},
		{"unreachable", "trap:", []string{"unreachable"}},
		{"exit7", "exit 7", nil},
		{"c-exit7", "exit 7", nil},
		{"unknown-import", "load", []string{"shell"}},
		{"unknown-module", "load", []string{"system"}},
		{"bad-signature", "load", []string{"fact"}},
		{"policy-exec", "load", []string{"exec", "polic"}},
		{"bad-sha", "load", []string{"sha256"}},
		{"no-start", "load", []string{"_start"}},
		{"bad-manifest", "load", []string{"evalute"}},
	}
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root(), "testdata", "hostile", tc.dir)
			r := testJSON(t, limitFor(dir), dir, filepath.Join(dir, "tests", "expect.json"), "")
			if r.res.Status != "error" || r.code != 3 {
				t.Fatalf("status %q, command exit %d; want error, 3: %s", r.res.Status, r.code, r.stdout)
			}
			if tc.prefix == "" && !strings.HasPrefix(r.res.Error, "memory limit") && !strings.HasPrefix(r.res.Error, "load") {
				t.Errorf("error %q is neither a memory limit nor a load error", r.res.Error)
			}
			if !strings.HasPrefix(r.res.Error, tc.prefix) {
				t.Errorf("error %q does not start with %q", r.res.Error, tc.prefix)
			}
			for _, s := range tc.has {
				if !strings.Contains(strings.ToLower(r.res.Error), s) {
					t.Errorf("error %q does not mention %q", r.res.Error, s)
				}
			}
			if strings.HasPrefix(tc.dir, "exit") || strings.HasPrefix(tc.dir, "c-exit") {
				if r.res.ExitCode != 7 {
					t.Errorf("exit_code %d, want 7", r.res.ExitCode)
				}
			}
		})
	}
}

// TestTimeoutIsHonoured: the endless loop runs about as long as its
// manifest's "200ms", not much less and not much more.
func TestTimeoutIsHonoured(t *testing.T) {
	dir := filepath.Join(root(), "testdata", "hostile", "loop")
	r := testJSON(t, 5*time.Second, dir, filepath.Join(dir, "tests", "expect.json"), "")
	if r.res.Error != "timeout" && !strings.HasPrefix(r.res.Error, "timeout") {
		t.Fatalf("error %q, want timeout", r.res.Error)
	}
	if r.res.DurationMS < 150 || r.res.DurationMS > 3000 {
		t.Errorf("duration_ms %d for a 200ms timeout", r.res.DurationMS)
	}
}

// TestOutputIsBounded: floods of stdout and stderr are cut at the output
// limit (4 KiB in these manifests), with some room for a truncation flag.
func TestOutputIsBounded(t *testing.T) {
	const limit, slack = 4096, 256
	for _, name := range []string{"flood", "c-flood-exit", "c-stderr-flood"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(root(), "testdata", "hostile", name)
			r := testJSON(t, limitFor(dir), dir, filepath.Join(dir, "tests", "expect.json"), "")
			if len(r.res.Message) > limit+slack {
				t.Errorf("message of %d bytes, output limit %d", len(r.res.Message), limit)
			}
			if len(r.stdout) > 2*(limit+slack) {
				t.Errorf("the command printed %d bytes", len(r.stdout))
			}
			// stderr goes to the agent's log: capped too, never the whole MiB.
			if len(r.stderr) > 256<<10 {
				t.Errorf("the command's log has %d bytes for a 4 KiB limit", len(r.stderr))
			}
			switch name {
			case "flood":
				if r.res.Status != "error" {
					t.Errorf("status %q, want error", r.res.Status)
				}
			case "c-flood-exit":
				if r.res.Status != "compliant" || !strings.HasPrefix(r.res.Message, "BBBB") {
					t.Errorf("status %q message %.40q: want compliant with the head of the output", r.res.Status, r.res.Message)
				}
			}
		})
	}
}

// TestReplayIsDeterministic: the same module and recording give the same
// result, apart from the duration.
func TestReplayIsDeterministic(t *testing.T) {
	for _, c := range []string{"abi/c-probe/tests/stdin.json", "abi/wat-slot/tests/slot.json", "abi/c-probe/tests/exec-allowed.json"} {
		file := filepath.Join(root(), "testdata", filepath.FromSlash(c))
		dir := filepath.Dir(filepath.Dir(file))
		a := testJSON(t, time.Minute, dir, file, "").res
		b := testJSON(t, time.Minute, dir, file, "").res
		a.DurationMS, b.DurationMS = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs differ:\n%+v\n%+v", c, a, b)
		}
	}
}

// TestPolicyHasNoRemediate: a policy runs in evaluate only.
func TestPolicyHasNoRemediate(t *testing.T) {
	dir := filepath.Join(root(), "testdata", "abi", "wat-policy")
	r := invoke(t, time.Minute, "worklet", "test", dir, "--scan", filepath.Join(dir, "tests", "linux.json"), "--json", "--phase", "remediate")
	if r.code != 3 {
		t.Errorf("remediate on a policy: exit code %d, want 3 (error)\nstdout: %s\nstderr: %s", r.code, r.stdout, tail(r.stderr))
	}
}

// checks are per-case assertions beyond status and message, keyed by
// caseName.
var checks = caseChecks()

func caseChecks() map[string]func(t *testing.T, r run, e expectation) {
	checks := map[string]func(t *testing.T, r run, e expectation){}
	for _, probe := range []string{"c-probe", "go-probe"} {
		p := "abi/" + probe + "/"
		checks[p+"env-evaluate"] = envCheck(probe, "evaluate")
		checks[p+"env-remediate"] = envCheck(probe, "remediate")
		checks[p+"stdin"] = func(t *testing.T, r run, e expectation) {
			want := `{"abi":1,"worklet":{"name":"` + probe + `","version":"1.0.0"},` +
				`"params":{"mode":"stdin","code":0,"key":"","argv":[],"path":"","text":""},"hostname":"web-01"}`
			sameJSON(t, "details", r.res.Details, want)
		}
		checks[p+"fact-os-version"] = detailsAre(`"12"`)
		checks[p+"fact-reboot-required"] = detailsAre(`false`)
		checks[p+"fact-software"] = func(t *testing.T, r run, e expectation) {
			sameJSON(t, "details", r.res.Details, string(e.Scan.Software))
		}
		checks[p+"fact-missing"] = detailsAre(`null`)
		checks[p+"slot"] = detailsAre(`{"len":4,"short":3,"full":4,"replaced":5,"copied":5,"missing":-1,"value":"12","replaced_value":false}`)
		checks[p+"exec-allowed"] = detailsAre(`{"exit_code":0,"stdout":"port 22\npermitrootlogin no\n","stderr":""}`)
		checks[p+"exec-prefix"] = detailsAre(`{"exit_code":0,"stdout":"openssh-server\n","stderr":""}`)
		checks[p+"exec-remediate"] = detailsAre(`{"exit_code":0,"stdout":"","stderr":""}`)
		checks[p+"read-declared"] = detailsAre(`"PermitRootLogin no\nPort 22\n"`)
		checks[p+"read-declared-dir"] = detailsAre(`"PasswordAuthentication no\n"`)
		// The agent's log (the command's stderr) names what a run did.
		checks[p+"exec-denied"] = logHas("rm", "-rf")
		checks[p+"exec-missing"] = logHas("user=root")
		checks[p+"log"] = logHas("probe info", "probe warn", "probe error")
		checks[p+"stderr"] = logHas("a line for the agent log")
		checks[p+"write-remediate"] = func(t *testing.T, r run, e expectation) {
			// Replay has no host access: the write went to no real file.
			if _, err := os.Stat("/etc/ssh/sshd_config.d/50-probe.conf"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after a replayed remediation, /etc/ssh/sshd_config.d/50-probe.conf: %v", err)
			}
		}
		checks[p+"exit-7-error"] = func(t *testing.T, r run, e expectation) {
			if r.res.ExitCode != 7 || r.res.Error != "exit 7" {
				t.Errorf("exit_code %d error %q, want 7 and \"exit 7\"", r.res.ExitCode, r.res.Error)
			}
		}
		checks[p+"remediate-2-error"] = func(t *testing.T, r run, e expectation) {
			if r.res.ExitCode != 2 || r.res.Error != "exit 2" {
				t.Errorf("exit_code %d error %q, want 2 and \"exit 2\" (2 means nothing in remediate)", r.res.ExitCode, r.res.Error)
			}
		}
		checks[p+"plain-text"] = func(t *testing.T, r run, e expectation) {
			if r.res.Message != "plain text result" {
				t.Errorf("message %q, want the plain stdout exactly", r.res.Message)
			}
			sameJSON(t, "details", r.res.Details, "null")
		}
		checks[p+"time"] = func(t *testing.T, r run, e expectation) {
			got, err := time.Parse(time.RFC3339, r.res.Message)
			if err != nil {
				t.Fatalf("message %q: %v", r.res.Message, err)
			}
			if got.Before(e.Time) || got.After(e.Time.Add(time.Minute)) {
				t.Errorf("the guest's clock says %v, the recording %v", got, e.Time)
			}
		}
	}
	checks["abi/wat-minimal/compliant"] = func(t *testing.T, r run, e expectation) {
		if r.res.Message != "" || r.res.ExitCode != 0 {
			t.Errorf("message %q exit_code %d, want empty and 0", r.res.Message, r.res.ExitCode)
		}
		sameJSON(t, "details", r.res.Details, "null")
	}
	checks["abi/wat-slot/slot"] = detailsAre(`{"len":4,"short":3,"full":4,"zero":0,"replaced":5,"copied":5,"missing":-1}`)
	checks["abi/wat-exec/evaluate"] = counts(map[string]string{"missing": "-1", "denied": "-2", "malformed": "-3", "systemctl": "-2", "ok": ">0"})
	checks["abi/wat-exec/remediate"] = counts(map[string]string{"missing": "-2", "denied": "-2", "malformed": "-3", "systemctl": ">0", "ok": "-2"})
	checks["hostile/exec-limit/expect"] = counts(map[string]string{"first": ">0", "second": ">0", "third": "-5"})
	checks["hostile/oob/expect"] = func(t *testing.T, r run, e expectation) {
		if want := "fact=-3,-3,-3,-3 response=-3,-3,-3 exec=-3,-3,-3 log=survived after=8"; r.res.Message != want {
			t.Errorf("message %q, want %q", r.res.Message, want)
		}
	}
	checks["hostile/c-exec-denied/expect"] = messageIs("denied 13/13 allowed 2/2")
	checks["hostile/c-write-evaluate/expect"] = func(t *testing.T, r run, e expectation) {
		if !regexp.MustCompile(`^refused (\d+)/(\d+) intact$`).MatchString(r.res.Message) {
			t.Errorf("message %q: some write went through", r.res.Message)
		}
	}
	checks["hostile/c-read-escape/expect"] = func(t *testing.T, r run, e expectation) {
		m := regexp.MustCompile(`^blocked (\d+)/(\d+) readable 2/2$`).FindStringSubmatch(r.res.Message)
		if m == nil || m[1] != m[2] {
			t.Errorf("message %q: something undeclared was readable or listed", r.res.Message)
		}
	}
	checks["hostile/big/expect"] = messageIs("big ok")
	return checks
}

func envCheck(name, phase string) func(*testing.T, run, expectation) {
	return func(t *testing.T, r run, e expectation) {
		var d struct {
			Argv []string `json:"argv"`
			Env  []string `json:"env"`
		}
		if err := json.Unmarshal(r.res.Details, &d); err != nil {
			t.Fatalf("details %s: %v", r.res.Details, err)
		}
		if want := []string{name, phase}; !slices.Equal(d.Argv, want) {
			t.Errorf("argv %q, want %q", d.Argv, want)
		}
		slices.Sort(d.Env)
		if want := []string{"AMAGENT_ABI=1", "AMAGENT_PHASE=" + phase}; !slices.Equal(d.Env, want) {
			t.Errorf("env %q, want exactly %q", d.Env, want)
		}
	}
}

// logHas checks that the agent's log, its stderr, contains every string.
func logHas(want ...string) func(*testing.T, run, expectation) {
	return func(t *testing.T, r run, e expectation) {
		for _, w := range want {
			if !bytes.Contains(r.stderr, []byte(w)) {
				t.Errorf("the agent's log lacks %q:\n%s", w, tail(r.stderr))
			}
		}
	}
}

func detailsAre(want string) func(*testing.T, run, expectation) {
	return func(t *testing.T, r run, e expectation) { sameJSON(t, "details", r.res.Details, want) }
}

func messageIs(want string) func(*testing.T, run, expectation) {
	return func(t *testing.T, r run, e expectation) {
		if r.res.Message != want {
			t.Errorf("message %q, want %q", r.res.Message, want)
		}
	}
}

// counts checks a plain-text message of "key=value" words: each value is
// a number equal to want, or positive when want is ">0".
func counts(want map[string]string) func(*testing.T, run, expectation) {
	return func(t *testing.T, r run, e expectation) {
		got := map[string]string{}
		for _, w := range strings.Fields(r.res.Message) {
			k, v, _ := strings.Cut(w, "=")
			got[k] = v
		}
		for k, w := range want {
			v, ok := got[k]
			n, err := strconv.Atoi(v)
			switch {
			case !ok || err != nil:
				t.Errorf("message %q has no number for %s", r.res.Message, k)
			case w == ">0" && n <= 0:
				t.Errorf("%s=%d, want > 0 (message %q)", k, n, r.res.Message)
			case w != ">0" && v != w:
				t.Errorf("%s=%s, want %s (message %q)", k, v, w, r.res.Message)
			}
		}
	}
}

// sameJSON compares two JSON texts by value.
func sameJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if len(got) == 0 {
		got = json.RawMessage("null")
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s %s: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}
