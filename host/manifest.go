package host

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// ABIVersion is the guest ABI version this host implements (shared/ABI.md).
const ABIVersion = 1

// Kinds of module.
const (
	KindWorklet = "worklet"
	KindPolicy  = "policy"
)

// Phases of a run.
const (
	PhaseEvaluate  = "evaluate"
	PhaseRemediate = "remediate"
)

// ManifestFile is the manifest's file name inside a worklet directory.
const ManifestFile = "worklet.toml"

// Manifest is a parsed, validated worklet.toml (ABI.md section 5).
type Manifest struct {
	ABI         int
	Kind        string
	Name        string
	Version     string
	Description string
	Module      string // path relative to the manifest
	SHA256      string // lower-case hex, "" when not given
	OS          []string
	// References are the benchmark rules the module implements
	// ("xccdf_org.ssgproject.content_rule_..."); informational only.
	References []string
	Evaluate   Capabilities
	Remediate  Capabilities
	Limits     ManifestLimits
	Params     map[string]Param
}

// Capabilities are what one phase may touch.
type Capabilities struct {
	Read  []string   // absolute paths; a trailing "/" grants the tree below
	Write []string   // as Read; only honoured in the remediate phase
	Exec  [][]string // allowed argv patterns, matched whole (see exec.go)
}

// ManifestLimits are the limits a manifest asks for; zero means the default.
type ManifestLimits struct {
	Memory    int64 // bytes
	Timeout   time.Duration
	Output    int // bytes
	ExecCalls int
	// execCallsSet tells an explicit exec_calls = 0 from an absent one.
	execCallsSet bool
}

// Param is one declared parameter.
type Param struct {
	Type    string // string, int, bool, list
	Default any    // typed: string, int64, bool, []any; nil when none
	Secret  bool
}

// Param types.
const (
	ParamString = "string"
	ParamInt    = "int"
	ParamBool   = "bool"
	ParamList   = "list"
)

// Defaults applied when a manifest does not set a limit (before capping).
const (
	DefaultMemory    = 64 << 20
	DefaultTimeout   = 10 * time.Second
	DefaultOutput    = 64 << 10
	DefaultExecCalls = 16
)

var nameRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// rawManifest mirrors the TOML; pointers and primitives tell absent keys.
type rawManifest struct {
	ABI         *int                      `toml:"abi"`
	Kind        string                    `toml:"kind"`
	Name        string                    `toml:"name"`
	Version     string                    `toml:"version"`
	Description string                    `toml:"description"`
	Module      string                    `toml:"module"`
	SHA256      string                    `toml:"sha256"`
	OS          []string                  `toml:"os"`
	References  []string                  `toml:"references"`
	Evaluate    *rawCaps                  `toml:"evaluate"`
	Remediate   *rawCaps                  `toml:"remediate"`
	Limits      *rawLimits                `toml:"limits"`
	Params      map[string]toml.Primitive `toml:"params"`
}

type rawCaps struct {
	Read  []string   `toml:"read"`
	Write []string   `toml:"write"`
	Exec  [][]string `toml:"exec"`
}

type rawLimits struct {
	Memory    toml.Primitive `toml:"memory"`
	Timeout   toml.Primitive `toml:"timeout"`
	Output    toml.Primitive `toml:"output"`
	ExecCalls *int64         `toml:"exec_calls"`
}

type rawParam struct {
	Type    string         `toml:"type"`
	Default toml.Primitive `toml:"default"`
	Secret  bool           `toml:"secret"`
}

// ParseManifest parses and validates a manifest. Errors name the key.
func ParseManifest(data []byte) (*Manifest, error) {
	var raw rawManifest
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	m := &Manifest{
		Kind: raw.Kind, Name: raw.Name, Version: raw.Version,
		Description: raw.Description, Module: raw.Module,
		SHA256: strings.ToLower(raw.SHA256), OS: raw.OS,
		References: raw.References, Params: map[string]Param{},
	}
	for i, r := range m.References {
		if strings.TrimSpace(r) == "" || strings.ContainsAny(r, " \t\n") {
			return nil, fmt.Errorf("manifest: key references[%d]: %q is not a rule id (no spaces)", i, r)
		}
	}
	if raw.ABI == nil {
		return nil, errors.New("manifest: key abi is missing (want abi = 1)")
	}
	m.ABI = *raw.ABI
	if m.ABI != ABIVersion {
		return nil, fmt.Errorf("manifest: key abi: unsupported version %d (this agent runs abi = %d)", m.ABI, ABIVersion)
	}
	switch m.Kind {
	case KindWorklet, KindPolicy:
	case "":
		return nil, errors.New(`manifest: key kind is missing (want "worklet" or "policy")`)
	default:
		return nil, fmt.Errorf(`manifest: key kind: %q is not "worklet" or "policy"`, m.Kind)
	}
	if !nameRE.MatchString(m.Name) {
		return nil, fmt.Errorf("manifest: key name: %q must be 1 to 64 characters of [a-z0-9-]", m.Name)
	}
	if m.Version == "" {
		return nil, errors.New("manifest: key version is missing")
	}
	if m.Module == "" {
		return nil, errors.New("manifest: key module is missing")
	}
	if filepath.IsAbs(m.Module) || strings.HasPrefix(path.Clean(filepath.ToSlash(m.Module)), "../") || path.Clean(filepath.ToSlash(m.Module)) == ".." {
		return nil, fmt.Errorf("manifest: key module: %q must be a path inside the worklet directory", m.Module)
	}
	if m.SHA256 != "" {
		if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("manifest: key sha256: %q is not 64 hex digits", raw.SHA256)
		}
	}
	for i, o := range m.OS {
		switch o {
		case "linux", "windows", "darwin":
		default:
			return nil, fmt.Errorf(`manifest: key os[%d]: %q is not "linux", "windows" or "darwin"`, i, o)
		}
	}
	if raw.Evaluate != nil {
		if m.Evaluate, err = checkCaps("evaluate", raw.Evaluate); err != nil {
			return nil, err
		}
		if len(m.Evaluate.Write) > 0 {
			return nil, errors.New("manifest: key evaluate.write: the evaluate phase cannot write; declare writable paths under [remediate]")
		}
	}
	if raw.Remediate != nil {
		if m.Kind == KindPolicy {
			return nil, errors.New("manifest: key remediate: a policy has no remediate phase")
		}
		if m.Remediate, err = checkCaps("remediate", raw.Remediate); err != nil {
			return nil, err
		}
	}
	if m.Kind == KindPolicy {
		c := m.Evaluate
		switch {
		case len(c.Read) > 0:
			return nil, errors.New("manifest: key evaluate.read: a policy declares no read, write or exec")
		case len(c.Exec) > 0:
			return nil, errors.New("manifest: key evaluate.exec: a policy declares no read, write or exec")
		}
	}
	if raw.Limits != nil {
		if m.Limits, err = parseLimits(md, raw.Limits); err != nil {
			return nil, err
		}
	}
	for name, prim := range raw.Params {
		if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`).MatchString(name) {
			return nil, fmt.Errorf("manifest: key params.%s: a parameter name is letters, digits, '_' and '-'", name)
		}
		var rp rawParam
		if err := md.PrimitiveDecode(prim, &rp); err != nil {
			return nil, fmt.Errorf("manifest: key params.%s: %w", name, err)
		}
		p := Param{Type: rp.Type, Secret: rp.Secret}
		switch p.Type {
		case ParamString, ParamInt, ParamBool, ParamList:
		case "":
			return nil, fmt.Errorf("manifest: key params.%s.type is missing (string, int, bool or list)", name)
		default:
			return nil, fmt.Errorf("manifest: key params.%s.type: %q is not string, int, bool or list", name, p.Type)
		}
		if md.IsDefined("params", name, "default") {
			var v any
			if err := md.PrimitiveDecode(rp.Default, &v); err != nil {
				return nil, fmt.Errorf("manifest: key params.%s.default: %w", name, err)
			}
			if p.Default, err = coerceParam(p.Type, v); err != nil {
				return nil, fmt.Errorf("manifest: key params.%s.default: %w", name, err)
			}
		}
		m.Params[name] = p
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("manifest: unknown key %s", strings.Join(keys, ", "))
	}
	return m, nil
}

func checkCaps(section string, c *rawCaps) (Capabilities, error) {
	out := Capabilities{Read: c.Read, Write: c.Write, Exec: c.Exec}
	for _, list := range []struct {
		key   string
		paths []string
	}{{"read", c.Read}, {"write", c.Write}} {
		for i, p := range list.paths {
			if err := checkGrantPath(p); err != nil {
				return out, fmt.Errorf("manifest: key %s.%s[%d]: %w", section, list.key, i, err)
			}
		}
	}
	for i, pattern := range c.Exec {
		if err := checkExecPattern(pattern); err != nil {
			return out, fmt.Errorf("manifest: key %s.exec[%d]%w", section, i, err)
		}
	}
	return out, nil
}

// Placeholders of an exec pattern (ABI.md section 5): each stands for
// exactly one argument; a last element may add "..." for one or more.
const (
	placeholderPath = "{path}"
	placeholderWord = "{word}"
	placeholderInt  = "{int}"
	placeholderMore = "..."
)

// placeholderRE is what looks like a placeholder: "{name}" or "{name}...".
// A literal such as find's "{}" or an awk program does not.
var placeholderRE = regexp.MustCompile(`^\{[A-Za-z_]+\}(\.\.\.)?$`)

// checkExecPattern validates one argv pattern; an error starts with the
// element's index ("[2]: ...") when it is about one element.
func checkExecPattern(pattern []string) error {
	if len(pattern) == 0 || pattern[0] == "" {
		return errors.New(": an argv pattern needs at least the program")
	}
	if placeholderRE.MatchString(pattern[0]) {
		return fmt.Errorf("[0]: the program must be literal, not %q", pattern[0])
	}
	if strings.ContainsAny(pattern[0], `/\`) && !isAbsAnyOS(pattern[0]) {
		return fmt.Errorf("[0]: program %q must be a bare name or an absolute path", pattern[0])
	}
	for j, el := range pattern[1:] {
		j++
		if !placeholderRE.MatchString(el) {
			continue
		}
		base, more := strings.CutSuffix(el, placeholderMore)
		switch {
		case base != placeholderPath && base != placeholderWord && base != placeholderInt:
			return fmt.Errorf("[%d]: unknown placeholder %q (there are {path}, {word} and {int})", j, el)
		case more && base == placeholderInt:
			return fmt.Errorf("[%d]: %q: only {path}... and {word}... stand for more than one argument", j, el)
		case more && j != len(pattern)-1:
			return fmt.Errorf("[%d]: %q must be the last element", j, el)
		}
	}
	return nil
}

func isAbsAnyOS(p string) bool {
	return strings.HasPrefix(p, "/") || (len(p) > 2 && p[1] == ':' && (p[2] == '\\' || p[2] == '/'))
}

// checkGrantPath accepts absolute, clean paths; a trailing "/" marks a tree.
func checkGrantPath(p string) error {
	slashed := filepath.ToSlash(p)
	if len(slashed) > 2 && slashed[1] == ':' { // C:/... on Windows
		slashed = slashed[2:]
	}
	if !strings.HasPrefix(slashed, "/") {
		return fmt.Errorf("%q is not an absolute path", p)
	}
	trimmed := strings.TrimSuffix(slashed, "/")
	if trimmed == "" {
		return fmt.Errorf("%q would grant the whole file system", p)
	}
	if path.Clean(trimmed) != trimmed {
		return fmt.Errorf("%q is not a clean path (no '..', '.', or '//')", p)
	}
	return nil
}

func parseLimits(md toml.MetaData, raw *rawLimits) (ManifestLimits, error) {
	var l ManifestLimits
	var err error
	if md.IsDefined("limits", "memory") {
		if l.Memory, err = parseSize(md, raw.Memory); err != nil {
			return l, fmt.Errorf("manifest: key limits.memory: %w", err)
		}
		if l.Memory < 64<<10 {
			return l, fmt.Errorf("manifest: key limits.memory: %d bytes is less than one 64KiB page", l.Memory)
		}
	}
	if md.IsDefined("limits", "output") {
		n, err := parseSize(md, raw.Output)
		if err != nil {
			return l, fmt.Errorf("manifest: key limits.output: %w", err)
		}
		if n <= 0 || n > math.MaxInt32 {
			return l, fmt.Errorf("manifest: key limits.output: %d bytes is out of range", n)
		}
		l.Output = int(n)
	}
	if md.IsDefined("limits", "timeout") {
		var s string
		if err := md.PrimitiveDecode(raw.Timeout, &s); err != nil {
			return l, fmt.Errorf(`manifest: key limits.timeout: want a duration string such as "10s"`)
		}
		if l.Timeout, err = time.ParseDuration(s); err != nil || l.Timeout <= 0 {
			return l, fmt.Errorf(`manifest: key limits.timeout: %q is not a positive duration such as "10s"`, s)
		}
	}
	if raw.ExecCalls != nil {
		if *raw.ExecCalls < 0 || *raw.ExecCalls > math.MaxInt32 {
			return l, fmt.Errorf("manifest: key limits.exec_calls: %d is out of range", *raw.ExecCalls)
		}
		l.ExecCalls = int(*raw.ExecCalls)
		l.execCallsSet = true
	}
	return l, nil
}

// parseSize reads "64MiB", "512KiB", "1GiB", "100KB", "2MB" or a plain byte
// count (number or string).
func parseSize(md toml.MetaData, prim toml.Primitive) (int64, error) {
	var v any
	if err := md.PrimitiveDecode(prim, &v); err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		if x <= 0 {
			return 0, fmt.Errorf("%d is not a positive size", x)
		}
		return x, nil
	case string:
		return ParseSize(x)
	}
	return 0, fmt.Errorf(`want a size such as "64MiB", got %v`, v)
}

// ParseSize parses a byte size: a number followed by B, KiB, MiB, GiB, KB,
// MB or GB (case-sensitive units, optional space), or a plain number.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9') {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf(`%q is not a size such as "64MiB"`, s)
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf(`%q is not a size such as "64MiB"`, s)
	}
	mult := map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
		"KB": 1000, "MB": 1000 * 1000, "GB": 1000 * 1000 * 1000}[strings.TrimSpace(t[i:])]
	if mult == 0 {
		return 0, fmt.Errorf(`%q has an unknown unit (use B, KiB, MiB, GiB, KB, MB or GB)`, s)
	}
	if n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return n * mult, nil
}

// coerceParam checks a value against a parameter type, converting JSON and
// TOML numbers to int64.
func coerceParam(typ string, v any) (any, error) {
	switch typ {
	case ParamString:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case ParamBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case ParamInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return int64(x), nil
			}
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
		}
	case ParamList:
		switch x := v.(type) {
		case []any:
			return x, nil
		case []string:
			out := make([]any, len(x))
			for i, s := range x {
				out[i] = s
			}
			return out, nil
		}
	}
	art := "a "
	if typ == ParamInt {
		art = "an "
	}
	return nil, fmt.Errorf("want %s%s, got %s", art, typ, describe(v))
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case int, int64, float64, json.Number:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

// ResolveParams merges assignment values over the manifest's defaults. An
// unknown name or a value of the wrong type is an error naming the param.
func (m *Manifest) ResolveParams(over map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(m.Params))
	for name, p := range m.Params {
		if p.Default != nil {
			out[name] = p.Default
		}
	}
	for name, v := range over {
		p, ok := m.Params[name]
		if !ok {
			return nil, fmt.Errorf("params.%s: %s declares no such parameter", name, m.Name)
		}
		c, err := coerceParam(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("params.%s: %w", name, err)
		}
		out[name] = c
	}
	return out, nil
}

// SecretParams lists the names of secret parameters, never logged or recorded.
func (m *Manifest) SecretParams() []string {
	var out []string
	for n, p := range m.Params {
		if p.Secret {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Caps returns the capabilities for a phase.
func (m *Manifest) Caps(phase string) Capabilities {
	if phase == PhaseRemediate {
		return m.Remediate
	}
	return Capabilities{Read: m.Evaluate.Read, Exec: m.Evaluate.Exec}
}

// LoadManifest reads DIR/worklet.toml.
func LoadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return m, nil
}
