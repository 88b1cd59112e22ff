// Package config loads and validates amagent.toml, the agent's only
// configuration file. Every key has a documented default (see Default), so
// an empty file is a valid configuration apart from the server URL.
//
// Adding a section is one struct field on Config plus its defaults in
// Default and its checks in Validate; errors always name the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Config is the content of amagent.toml.
type Config struct {
	// Server is the platform's base URL. https, or plain http to a
	// loopback address only (tests and the local demo).
	Server string `toml:"server"`
	// AccessKey is the organisation key used to enroll the device.
	AccessKey string `toml:"access_key"`
	// StateDir holds the device identity, token, applied platform
	// configuration and outbox.
	StateDir string `toml:"state_dir"`
	// LogFile is amagent.log; it rotates by size.
	LogFile string `toml:"log_file"`
	// LogStderr also writes every log line to stderr (foreground runs).
	LogStderr bool `toml:"log_stderr"`
	// DryRun makes reboot and update commands log what they would do
	// instead of doing it (tests and the demo).
	DryRun bool `toml:"dry_run"`

	Checkin  Checkin  `toml:"checkin"`
	Sandbox  Sandbox  `toml:"sandbox"`
	Scan     Scan     `toml:"scan"`
	Worklets Worklets `toml:"worklets"`
}

// Checkin is the [checkin] section: when the agent checks in.
type Checkin struct {
	// Interval between check-ins; replaced by the platform's
	// checkin_interval once one is received.
	Interval time.Duration `toml:"interval"`
	// Variance is the random spread (±) around each check-in.
	Variance time.Duration `toml:"variance"`
	// RetryInitial is the first wait after a failed check-in; each further
	// failure doubles it up to RetryMax.
	RetryInitial time.Duration `toml:"retry_initial"`
	// RetryMax is the longest wait between attempts.
	RetryMax time.Duration `toml:"retry_max"`
}

// Sandbox is the [sandbox] section: the limits of one wasm run.
type Sandbox struct {
	// MaxMemory is the most linear memory a module may use ("64MiB").
	MaxMemory string `toml:"max_memory"`
	// MaxTimeout is the longest a single run may take.
	MaxTimeout time.Duration `toml:"max_timeout"`
	// MaxOutput is the most output a run may produce ("64KiB").
	MaxOutput string `toml:"max_output"`
	// MaxExecCalls is the most programs one run may execute.
	MaxExecCalls int `toml:"max_exec_calls"`
	// CompileTimeout bounds compiling one module ("30s"); a module over
	// it is refused as "compile limit" until its bytes change.
	CompileTimeout time.Duration `toml:"compile_timeout"`
	// CompileMemory bounds the memory of the process compiling a module
	// ("512MiB"; enforced on Linux).
	CompileMemory string `toml:"compile_memory"`
}

// Scan is the [scan] section.
type Scan struct {
	// AWSEndpoint is the instance metadata service base URL.
	AWSEndpoint string `toml:"aws_endpoint"`
	// Timeout bounds each collector.
	Timeout time.Duration `toml:"timeout"`
	// SkipPending leaves pending updates out of scans (no package-manager
	// simulation): for tests, demos and machines where it is too slow.
	SkipPending bool `toml:"skip_pending"`
}

// Worklets is the [worklets] section.
type Worklets struct {
	// TrustedKeys are the base64 ed25519 public keys whose signatures on
	// worklet bundles are accepted.
	TrustedKeys []string `toml:"trusted_keys"`
}

// Defaults of the keys whose default does not depend on the OS.
const (
	DefaultInterval     = time.Hour
	DefaultVariance     = 5 * time.Minute
	DefaultRetryInitial = time.Minute
	DefaultRetryMax     = 30 * time.Minute

	DefaultSandboxMaxMemory    = "64MiB"
	DefaultSandboxMaxTimeout   = 10 * time.Second
	DefaultSandboxMaxOutput    = "64KiB"
	DefaultSandboxMaxExecCalls = 16
	DefaultSandboxCompileTime  = 30 * time.Second
	DefaultSandboxCompileMem   = "512MiB"

	DefaultAWSEndpoint = "http://169.254.169.254"
	DefaultScanTimeout = 2 * time.Minute
)

// Default returns the configuration used for every key a file leaves out.
func Default() Config {
	return Config{
		StateDir: DefaultStateDir,
		LogFile:  DefaultLogFile,
		Checkin: Checkin{
			Interval:     DefaultInterval,
			Variance:     DefaultVariance,
			RetryInitial: DefaultRetryInitial,
			RetryMax:     DefaultRetryMax,
		},
		Sandbox: Sandbox{
			MaxMemory:    DefaultSandboxMaxMemory,
			MaxTimeout:   DefaultSandboxMaxTimeout,
			MaxOutput:    DefaultSandboxMaxOutput,
			MaxExecCalls: DefaultSandboxMaxExecCalls,

			CompileTimeout: DefaultSandboxCompileTime,
			CompileMemory:  DefaultSandboxCompileMem,
		},
		Scan: Scan{
			AWSEndpoint: DefaultAWSEndpoint,
			Timeout:     DefaultScanTimeout,
		},
	}
}

// ApplyDefaults fills every zero-valued key with its default, so that a
// Config built in code (tests) needs only the keys it cares about.
func (c *Config) ApplyDefaults() {
	d := Default()
	setStr(&c.StateDir, d.StateDir)
	setStr(&c.LogFile, d.LogFile)
	setDur(&c.Checkin.Interval, d.Checkin.Interval)
	setDur(&c.Checkin.Variance, d.Checkin.Variance)
	setDur(&c.Checkin.RetryInitial, d.Checkin.RetryInitial)
	setDur(&c.Checkin.RetryMax, d.Checkin.RetryMax)
	setStr(&c.Sandbox.MaxMemory, d.Sandbox.MaxMemory)
	setDur(&c.Sandbox.MaxTimeout, d.Sandbox.MaxTimeout)
	setStr(&c.Sandbox.MaxOutput, d.Sandbox.MaxOutput)
	if c.Sandbox.MaxExecCalls == 0 {
		c.Sandbox.MaxExecCalls = d.Sandbox.MaxExecCalls
	}
	setDur(&c.Sandbox.CompileTimeout, d.Sandbox.CompileTimeout)
	setStr(&c.Sandbox.CompileMemory, d.Sandbox.CompileMemory)
	setStr(&c.Scan.AWSEndpoint, d.Scan.AWSEndpoint)
	setDur(&c.Scan.Timeout, d.Scan.Timeout)
}

func setStr(p *string, d string) {
	if *p == "" {
		*p = d
	}
}

func setDur(p *time.Duration, d time.Duration) {
	if *p == 0 {
		*p = d
	}
}

// Load reads, parses and validates the file at path.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse parses and validates the TOML text of a configuration. Keys left
// out keep their defaults; unknown keys are errors.
func Parse(b []byte) (Config, error) {
	c := Default()
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&c)
	if err != nil {
		return Config{}, decodeError(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return Config{}, fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// decodeError turns the decoder's error into one that names the key and
// the line where the decoder knows them.
func decodeError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" {
			return fmt.Errorf("key %s (line %d): %s", pe.LastKey, pe.Position.Line, msg)
		}
		return fmt.Errorf("line %d: %s", pe.Position.Line, msg)
	}
	return fmt.Errorf("config: %w", err)
}

// Validate checks every key and returns the first problem, naming the key.
func (c *Config) Validate() error {
	if err := validateServer(c.Server); err != nil {
		return err
	}
	if c.StateDir == "" {
		return errors.New("key state_dir: must not be empty")
	}
	if c.LogFile == "" {
		return errors.New("key log_file: must not be empty")
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{
		{"checkin.interval", c.Checkin.Interval},
		{"checkin.retry_initial", c.Checkin.RetryInitial},
		{"checkin.retry_max", c.Checkin.RetryMax},
		{"sandbox.max_timeout", c.Sandbox.MaxTimeout},
		{"sandbox.compile_timeout", c.Sandbox.CompileTimeout},
		{"scan.timeout", c.Scan.Timeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("key %s: must be a positive duration, got %s", d.key, d.v)
		}
	}
	if c.Checkin.Variance < 0 {
		return fmt.Errorf("key checkin.variance: must not be negative, got %s", c.Checkin.Variance)
	}
	if c.Checkin.Variance >= c.Checkin.Interval {
		return fmt.Errorf("key checkin.variance: %s must be smaller than checkin.interval %s", c.Checkin.Variance, c.Checkin.Interval)
	}
	if c.Checkin.RetryMax < c.Checkin.RetryInitial {
		return fmt.Errorf("key checkin.retry_max: %s is smaller than checkin.retry_initial %s", c.Checkin.RetryMax, c.Checkin.RetryInitial)
	}
	if _, err := ParseSize(c.Sandbox.MaxMemory); err != nil {
		return fmt.Errorf("key sandbox.max_memory: %w", err)
	}
	if _, err := ParseSize(c.Sandbox.MaxOutput); err != nil {
		return fmt.Errorf("key sandbox.max_output: %w", err)
	}
	if n, err := ParseSize(c.Sandbox.CompileMemory); err != nil {
		return fmt.Errorf("key sandbox.compile_memory: %w", err)
	} else if n < 64<<20 {
		return fmt.Errorf("key sandbox.compile_memory: %s is less than the 64MiB a compile needs", c.Sandbox.CompileMemory)
	}
	if c.Sandbox.MaxExecCalls < 0 {
		return fmt.Errorf("key sandbox.max_exec_calls: must not be negative, got %d", c.Sandbox.MaxExecCalls)
	}
	if u, err := url.Parse(c.Scan.AWSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("key scan.aws_endpoint: %q is not an http(s) URL", c.Scan.AWSEndpoint)
	}
	for i, k := range c.Worklets.TrustedKeys {
		if strings.TrimSpace(k) == "" {
			return fmt.Errorf("key worklets.trusted_keys[%d]: empty key", i)
		}
	}
	return nil
}

func validateServer(s string) error {
	if s == "" {
		return errors.New("key server: required (the platform URL, e.g. https://platform.example.com)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("key server: %q is not a URL: %v", s, err)
	}
	if u.Host == "" {
		return fmt.Errorf("key server: %q has no host", s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("key server: %q must not carry credentials, a query or a fragment", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("key server: plain http is only allowed to a loopback address, not %q; use https", u.Hostname())
	default:
		return fmt.Errorf("key server: scheme %q is not https", u.Scheme)
	}
}

// IsLoopback reports whether host (a name or an IP address) is the
// loopback interface.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseSize parses a byte size: a whole number with an optional unit B,
// KiB, MiB, GiB (powers of 1024) or KB, MB, GB (powers of 1000).
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a number with an optional unit (B, KiB, MiB, GiB, KB, MB, GB)", s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %v", s, err)
	}
	mult := map[string]int64{
		"": 1, "B": 1,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
		"KB": 1e3, "MB": 1e6, "GB": 1e9,
	}[strings.TrimSpace(t[i:])]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, KiB, MiB, GiB, KB, MB, GB)", s, strings.TrimSpace(t[i:]))
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// MaxMemoryBytes is Sandbox.MaxMemory in bytes (valid after Validate).
func (s Sandbox) MaxMemoryBytes() int64 { n, _ := ParseSize(s.MaxMemory); return n }

// CompileMemoryBytes is Sandbox.CompileMemory in bytes (valid after Validate).
func (s Sandbox) CompileMemoryBytes() int64 { n, _ := ParseSize(s.CompileMemory); return n }

// MaxOutputBytes is Sandbox.MaxOutput in bytes (valid after Validate).
func (s Sandbox) MaxOutputBytes() int64 { n, _ := ParseSize(s.MaxOutput); return n }
