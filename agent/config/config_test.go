package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte(`server = "https://platform.example.com"`))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server = "https://platform.example.com"
	if c.Checkin != want.Checkin || c.StateDir != want.StateDir || c.LogFile != want.LogFile || c.Sandbox != want.Sandbox || c.Scan != want.Scan {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if c.Checkin.Interval != time.Hour || c.Checkin.Variance != 5*time.Minute || c.Checkin.RetryInitial != time.Minute || c.Checkin.RetryMax != 30*time.Minute {
		t.Fatalf("checkin defaults: %+v", c.Checkin)
	}
	if c.Sandbox.MaxMemoryBytes() != 64<<20 || c.Sandbox.MaxOutputBytes() != 64<<10 || c.Sandbox.MaxExecCalls != 16 {
		t.Fatalf("sandbox defaults: %+v", c.Sandbox)
	}
}

func TestParseFull(t *testing.T) {
	c, err := Parse([]byte(`
server = "http://127.0.0.1:8080"
access_key = "k"
state_dir = "/tmp/s"
log_file = "/tmp/l/amagent.log"
log_stderr = true
dry_run = true
[checkin]
interval = "2s"
variance = "100ms"
retry_initial = "200ms"
retry_max = "800ms"
[sandbox]
max_memory = "32MiB"
max_timeout = "5s"
max_output = "1KiB"
max_exec_calls = 4
[scan]
aws_endpoint = "http://127.0.0.1:9"
timeout = "3s"
[worklets]
trusted_keys = ["abc"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Checkin.RetryInitial != 200*time.Millisecond || c.Checkin.RetryMax != 800*time.Millisecond || !c.DryRun || !c.LogStderr {
		t.Fatalf("%+v", c)
	}
	if c.Sandbox.MaxOutputBytes() != 1024 || c.Sandbox.MaxMemoryBytes() != 32<<20 || len(c.Worklets.TrustedKeys) != 1 {
		t.Fatalf("%+v", c.Sandbox)
	}
}

func TestParseErrors(t *testing.T) {
	const srv = "server = \"https://p.example.com\"\n"
	cases := []struct {
		name, in, want string
	}{
		{"no server", ``, "key server: required"},
		{"unknown top key", srv + `colour = "red"`, "unknown key colour"},
		{"unknown nested key", srv + "[checkin]\nintervall = \"1h\"", "unknown key checkin.intervall"},
		{"unknown section", srv + "[nope]\na = 1", "unknown key nope"},
		{"bad duration", srv + "[checkin]\ninterval = \"soon\"", "checkin.interval"},
		{"number duration type", srv + "[checkin]\nretry_max = true", "checkin.retry_max"},
		{"negative interval", srv + "[checkin]\ninterval = \"-1s\"", "key checkin.interval: must be a positive duration"},
		{"variance too big", srv + "[checkin]\ninterval = \"1m\"\nvariance = \"1m\"", "key checkin.variance"},
		{"max below initial", srv + "[checkin]\nretry_initial = \"2m\"\nretry_max = \"1m\"", "key checkin.retry_max"},
		{"plain http remote", `server = "http://platform.example.com"`, "plain http is only allowed to a loopback"},
		{"ftp", `server = "ftp://127.0.0.1"`, "key server: scheme"},
		{"no host", `server = "https://"`, "key server"},
		{"bad size", srv + "[sandbox]\nmax_memory = \"lots\"", "key sandbox.max_memory"},
		{"bad unit", srv + "[sandbox]\nmax_output = \"3 parsecs\"", "key sandbox.max_output"},
		{"bad string type", `server = 3`, "server"},
		{"syntax", `server = "x`, "line 1"},
		{"empty trusted key", srv + "[worklets]\ntrusted_keys = [\"\"]", "key worklets.trusted_keys[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("no error for %q", tc.in)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestLoopbackServers(t *testing.T) {
	for _, s := range []string{"http://127.0.0.1:1", "http://[::1]:2", "http://localhost", "http://127.3.4.5"} {
		if err := validateServer(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestLoadNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "amagent.toml")
	if err := os.WriteFile(p, []byte("server = \"https://x\"\nfoo = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "unknown key foo") {
		t.Fatalf("got %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Fatal("missing file accepted")
	}
}

func TestApplyDefaults(t *testing.T) {
	c := Config{Server: "http://127.0.0.1:1"}
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Checkin.RetryMax != DefaultRetryMax || c.Sandbox.MaxExecCalls != 16 {
		t.Fatalf("%+v", c)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "10": 10, "10B": 10, "2KiB": 2048, "1 MiB": 1 << 20, "3GiB": 3 << 30} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1XB", "99999999999GiB", "64MB", "1KB", "3GB", "8M", "2kb"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

// TestExampleIsTheDefaults keeps testdata/amagent.example.toml (quoted in
// the README) valid and equal to the defaults.
func TestExampleIsTheDefaults(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "amagent.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	d := Default()
	d.Server = "https://platform.example.com"
	if c.Checkin != d.Checkin || c.Sandbox != d.Sandbox || c.Scan != d.Scan || c.LogStderr || c.DryRun || c.AccessKey != "" || len(c.Worklets.TrustedKeys) != 0 {
		t.Fatalf("example differs from the defaults: %+v", c)
	}
	if runtime.GOOS != "windows" && (c.StateDir != d.StateDir || c.LogFile != d.LogFile) {
		t.Fatalf("paths: %s %s", c.StateDir, c.LogFile)
	}
}

// The README lists B KiB MiB GiB; "64MB" was read as 64,000,000 bytes. It
// is refused now, with the units and the likely meaning.
func TestSizeUnitsAreTheDocumented(t *testing.T) {
	_, err := Parse([]byte("server = \"https://p.example.com\"\n[sandbox]\nmax_memory = \"64MB\"\n"))
	want := `line 3: key sandbox.max_memory: size "64MB": unit "MB" is not accepted; the units are B, KiB, MiB, GiB (powers of 1024), or none for bytes; did you mean "64MiB"?`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// Every problem is reported at once, in line order, each with its line
// and key, and an unknown key with the nearest known one. Before, Parse
// stopped at the first problem and unknown keys had no line.
func TestParseEveryError(t *testing.T) {
	in := `server = "http://platform.example.com"
colour = "red"
[checkin]
intervall = "1h"
variance = "soon"
retry_max = 30
[sandbox]
max_memory = "64MB"
max_exec_calls = "16"
timeout = "5s"
[scan]
skip_pending = "yes"
[nope]
a = 1
`
	_, err := Parse([]byte(in))
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %T %v, want Errors", err, err)
	}
	want := []string{
		`line 1: key server: plain http is only allowed to a loopback address, not "platform.example.com"; use https`,
		`line 2: unknown key colour`,
		`line 4: unknown key checkin.intervall; did you mean checkin.interval?`,
		`line 5: key checkin.variance: "soon" is not a duration such as "90s" or "1h30m"`,
		`line 6: key checkin.retry_max: want a duration such as "90s" or "1h30m", got an integer`,
		`line 8: key sandbox.max_memory: size "64MB": unit "MB" is not accepted; the units are B, KiB, MiB, GiB (powers of 1024), or none for bytes; did you mean "64MiB"?`,
		`line 9: key sandbox.max_exec_calls: want an integer, got a string`,
		`line 10: unknown key sandbox.timeout; did you mean sandbox.max_timeout?`,
		`line 12: key scan.skip_pending: want true or false, got a string`,
		`line 13: unknown key nope`,
	}
	got := strings.Split(err.Error(), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	p := filepath.Join(t.TempDir(), "amagent.toml")
	if err := os.WriteFile(p, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":1: key server: ") || !strings.Contains(err.Error(), "\n"+p+":13: unknown key nope") {
		t.Errorf("Load: %v", err)
	}
}
