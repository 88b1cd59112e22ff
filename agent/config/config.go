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
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/amagent/amagent/internal/tomlkeys"
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

// Error is one problem in a configuration file.
type Error struct {
	File string // set by Load
	Line int    // from 1; 0 when the key is not written in the file
	Key  string // dotted ("checkin.interval"); "" when the problem is not one key's
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		fmt.Fprintf(&b, "%s: ", e.File)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, "key %s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in a configuration file, in the order of
// their lines (problems of keys left out last). Parse and Load return it.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads, parses and validates the file at path. A read error wraps
// the fs error; problems in the file are Errors, each naming path and line.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	var es Errors
	if errors.As(err, &es) {
		for _, e := range es {
			e.File = path
		}
		return Config{}, es
	}
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse parses and validates the TOML text of a configuration. Keys left
// out keep their defaults; unknown keys are errors. It reports every
// problem at once (Errors), each with its line and key, and the nearest
// known key for an unknown one.
func Parse(b []byte) (Config, error) {
	c := Default()
	var prims map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&prims)
	if err != nil {
		return Config{}, Errors{decodeError(err)}
	}
	lines := tomlkeys.Lines(b)
	var errs Errors
	bad := map[string]bool{}
	add := func(key, msg string) {
		bad[key] = true
		errs = append(errs, &Error{Line: lines[key], Key: key, Msg: msg})
	}
	decodeTable(md, prims, reflect.ValueOf(&c).Elem(), nil, add)

	known := knownKeys(reflect.TypeOf(c), nil, map[string]bool{})
	var knownList []string
	for k, leaf := range known {
		if leaf {
			knownList = append(knownList, k)
		}
	}
	sort.Strings(knownList)
	reported := map[string]bool{}
	for _, k := range md.Keys() {
		if _, ok := known[k.String()]; ok || underAny(k, known, reported) {
			continue
		}
		name := k.String()
		reported[name] = true
		msg := "unknown key " + name
		if near := tomlkeys.Nearest(name, knownList); near != "" {
			msg += "; did you mean " + near + "?"
		}
		errs = append(errs, &Error{Line: lines[name], Msg: msg})
	}
	for _, e := range c.problems() {
		if bad[strings.SplitN(e.Key, "[", 2)[0]] {
			continue // its value was not taken: the check would be about the default
		}
		e.Line = lines[strings.SplitN(e.Key, "[", 2)[0]]
		errs = append(errs, e)
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool {
			li, lj := errs[i].Line, errs[j].Line
			return li != 0 && (lj == 0 || li < lj)
		})
		return Config{}, errs
	}
	return c, nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// decodeTable sets the fields of the struct v (by their toml tags) from
// the table prims, each key on its own, so that one bad value does not
// hide the next; add is called for each value that does not fit.
func decodeTable(md toml.MetaData, prims map[string]toml.Primitive, v reflect.Value, prefix []string, add func(key, msg string)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("toml")
		prim, ok := prims[name]
		if name == "" || !ok {
			continue
		}
		path := append(append([]string{}, prefix...), name)
		key := toml.Key(path).String()
		got := tomlkeys.TypeName(md.Type(path...))
		switch {
		case f.Type == durationType:
			var s string
			if err := md.PrimitiveDecode(prim, &s); err != nil {
				add(key, fmt.Sprintf(`want a duration such as "90s" or "1h30m", got %s`, got))
				continue
			}
			d, err := time.ParseDuration(s)
			if err != nil {
				add(key, fmt.Sprintf(`%q is not a duration such as "90s" or "1h30m"`, s))
				continue
			}
			v.Field(i).SetInt(int64(d))
		case f.Type.Kind() == reflect.Struct:
			var sub map[string]toml.Primitive
			if err := md.PrimitiveDecode(prim, &sub); err != nil {
				add(key, fmt.Sprintf("want a table [%s], got %s", key, got))
				continue
			}
			decodeTable(md, sub, v.Field(i), path, add)
		default:
			p := reflect.New(f.Type)
			if err := md.PrimitiveDecode(prim, p.Interface()); err != nil {
				add(key, fmt.Sprintf("want %s, got %s", goTypeName(f.Type), got))
				continue
			}
			v.Field(i).Set(p.Elem())
		}
	}
}

// knownKeys maps every key of the struct type t to whether it is a value
// (true) or a table (false).
func knownKeys(t reflect.Type, prefix []string, out map[string]bool) map[string]bool {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("toml")
		if name == "" {
			continue
		}
		path := append(append([]string{}, prefix...), name)
		if f.Type.Kind() == reflect.Struct && f.Type != durationType {
			out[toml.Key(path).String()] = false
			knownKeys(f.Type, path, out)
		} else {
			out[toml.Key(path).String()] = true
		}
	}
	return out
}

// underAny reports whether k is inside a known value (a table written
// where a value belongs, already an error) or inside an unknown key
// already reported.
func underAny(k toml.Key, known, reported map[string]bool) bool {
	for i := 1; i < len(k); i++ {
		p := k[:i].String()
		if known[p] || reported[p] {
			return true
		}
	}
	return false
}

func goTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(goTypeName(t.Elem()), "a ") + "s"
	}
	return t.String()
}

// decodeError turns the decoder's syntax error into one with its line.
func decodeError(err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.Message}
	}
	return &Error{Msg: err.Error()}
}

// Validate checks every key and returns every problem (Errors), each
// naming its key.
func (c *Config) Validate() error {
	if es := c.problems(); len(es) > 0 {
		return es
	}
	return nil
}

// problems are the checks of Validate, all of them.
func (c *Config) problems() Errors {
	var es Errors
	add := func(key, format string, a ...any) {
		es = append(es, &Error{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	if err := validateServer(c.Server); err != nil {
		add("server", "%s", strings.TrimPrefix(err.Error(), "key server: "))
	}
	if c.StateDir == "" {
		add("state_dir", "must not be empty")
	}
	if c.LogFile == "" {
		add("log_file", "must not be empty")
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
			add(d.key, "must be a positive duration, got %s", d.v)
		}
	}
	if c.Checkin.Variance < 0 {
		add("checkin.variance", "must not be negative, got %s", c.Checkin.Variance)
	} else if c.Checkin.Interval > 0 && c.Checkin.Variance >= c.Checkin.Interval {
		add("checkin.variance", "%s must be smaller than checkin.interval %s", c.Checkin.Variance, c.Checkin.Interval)
	}
	if c.Checkin.RetryInitial > 0 && c.Checkin.RetryMax > 0 && c.Checkin.RetryMax < c.Checkin.RetryInitial {
		add("checkin.retry_max", "%s is smaller than checkin.retry_initial %s", c.Checkin.RetryMax, c.Checkin.RetryInitial)
	}
	if _, err := ParseSize(c.Sandbox.MaxMemory); err != nil {
		add("sandbox.max_memory", "%v", err)
	}
	if _, err := ParseSize(c.Sandbox.MaxOutput); err != nil {
		add("sandbox.max_output", "%v", err)
	}
	if n, err := ParseSize(c.Sandbox.CompileMemory); err != nil {
		add("sandbox.compile_memory", "%v", err)
	} else if n < 64<<20 {
		add("sandbox.compile_memory", "%s is less than the 64MiB a compile needs", c.Sandbox.CompileMemory)
	}
	if c.Sandbox.MaxExecCalls < 0 {
		add("sandbox.max_exec_calls", "must not be negative, got %d", c.Sandbox.MaxExecCalls)
	}
	if u, err := url.Parse(c.Scan.AWSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		add("scan.aws_endpoint", "%q is not an http(s) URL", c.Scan.AWSEndpoint)
	}
	for i, k := range c.Worklets.TrustedKeys {
		if strings.TrimSpace(k) == "" {
			add(fmt.Sprintf("worklets.trusted_keys[%d]", i), "empty key")
		}
	}
	return es
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

// SizeUnits are the units a size takes, as the README lists them.
const SizeUnits = "B, KiB, MiB, GiB (powers of 1024), or none for bytes"

// ParseSize parses a byte size: a whole number with an optional unit B,
// KiB, MiB or GiB (powers of 1024), as the README documents. KB, MB and GB
// are refused, not read as powers of 1000: "64MB" is not 64MiB.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a whole number with a unit: %s", s, SizeUnits)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size %q: %v", s, err)
	}
	unit := strings.TrimSpace(t[i:])
	mult := map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
	if mult == 0 {
		hint := ""
		if bin, ok := map[string]string{"KB": "KiB", "MB": "MiB", "GB": "GiB", "kB": "KiB", "kb": "KiB", "mb": "MiB", "gb": "GiB", "K": "KiB", "M": "MiB", "G": "GiB"}[unit]; ok {
			hint = fmt.Sprintf("; did you mean %q?", t[:i]+bin)
		}
		return 0, fmt.Errorf("size %q: unit %q is not accepted; the units are %s%s", s, unit, SizeUnits, hint)
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
