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
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/amagent/amagent/internal/tomlkeys"
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

// ParseManifest parses and validates a manifest. It reports every problem
// at once (ManifestErrors), each naming its key and line; an unknown key
// gets the nearest known one.
func ParseManifest(data []byte) (*Manifest, error) {
	var top map[string]toml.Primitive
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&top)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	p := &manifestParse{md: md, lines: tomlkeys.Lines(data), bad: map[string]bool{}}
	var raw rawManifest
	p.decodeFields(top, reflect.ValueOf(&raw).Elem(), nil)
	fail := p.fail
	m := &Manifest{
		Kind: raw.Kind, Name: raw.Name, Version: raw.Version,
		Description: raw.Description, Module: raw.Module,
		SHA256: strings.ToLower(raw.SHA256), OS: raw.OS,
		References: raw.References, Params: map[string]Param{},
	}
	for i, r := range m.References {
		if strings.TrimSpace(r) == "" || strings.ContainsAny(r, " \t\n") {
			fail("references", "key references[%d]: %q is not a rule id (no spaces)", i, r)
		}
	}
	switch {
	case p.bad["abi"]:
	case raw.ABI == nil:
		fail("abi", "key abi is missing (want abi = 1)")
	case *raw.ABI != ABIVersion:
		fail("abi", "key abi: unsupported version %d (this agent runs abi = %d)", *raw.ABI, ABIVersion)
	default:
		m.ABI = *raw.ABI
	}
	switch m.Kind {
	case KindWorklet, KindPolicy:
	case "":
		if p.bad["kind"] {
			break
		}
		fail("kind", `key kind is missing (want "worklet" or "policy")`)
	default:
		fail("kind", `key kind: %q is not "worklet" or "policy"`, m.Kind)
	}
	if !nameRE.MatchString(m.Name) && !p.bad["name"] {
		fail("name", "key name: %q must be 1 to 64 characters of [a-z0-9-]", m.Name)
	}
	if m.Version == "" && !p.bad["version"] {
		fail("version", "key version is missing")
	}
	if m.Module == "" && !p.bad["module"] {
		fail("module", "key module is missing")
	}
	if filepath.IsAbs(m.Module) || strings.HasPrefix(path.Clean(filepath.ToSlash(m.Module)), "../") || path.Clean(filepath.ToSlash(m.Module)) == ".." {
		fail("module", "key module: %q must be a path inside the worklet directory", m.Module)
	}
	if m.SHA256 != "" {
		if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != sha256.Size {
			fail("sha256", "key sha256: %q is not 64 hex digits", raw.SHA256)
		}
	}
	for i, o := range m.OS {
		switch o {
		case "linux", "windows", "darwin":
		default:
			fail("os", `key os[%d]: %q is not "linux", "windows" or "darwin"`, i, o)
		}
	}
	if raw.Evaluate != nil {
		m.Evaluate = checkCaps("evaluate", raw.Evaluate, fail)
		if len(m.Evaluate.Write) > 0 {
			fail("evaluate.write", "key evaluate.write: the evaluate phase cannot write; declare writable paths under [remediate]")
		}
	}
	if raw.Remediate != nil {
		if m.Kind == KindPolicy {
			fail("remediate", "key remediate: a policy has no remediate phase")
		}
		m.Remediate = checkCaps("remediate", raw.Remediate, fail)
	}
	if m.Kind == KindPolicy {
		c := m.Evaluate
		switch {
		case len(c.Read) > 0:
			fail("evaluate.read", "key evaluate.read: a policy declares no read, write or exec")
		case len(c.Exec) > 0:
			fail("evaluate.exec", "key evaluate.exec: a policy declares no read, write or exec")
		}
	}
	if raw.Limits != nil {
		m.Limits = parseLimits(md, raw.Limits, fail)
	}
	names := make([]string, 0, len(raw.Params))
	for name := range raw.Params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		key := "params." + tomlkeys.Join([]string{name})
		if !paramNameRE.MatchString(name) {
			fail(key, "key params.%s: a parameter name is letters, digits, '_' and '-'", name)
		}
		var sub map[string]toml.Primitive
		if err := md.PrimitiveDecode(raw.Params[name], &sub); err != nil {
			fail(key, "key params.%s: want a table [params.%s], got %s", name, name, p.typeOf("params", name))
			p.bad[key] = true
			continue
		}
		var rp rawParam
		p.decodeFields(sub, reflect.ValueOf(&rp).Elem(), []string{"params", name})
		par := Param{Type: rp.Type, Secret: rp.Secret}
		switch par.Type {
		case ParamString, ParamInt, ParamBool, ParamList:
		case "":
			if !p.bad[key+".type"] {
				fail(key, "key params.%s.type is missing (string, int, bool or list)", name)
			}
		default:
			fail(key+".type", "key params.%s.type: %q is not string, int, bool or list", name, par.Type)
		}
		if _, ok := sub["default"]; ok && par.Type != "" {
			var v any
			if err := md.PrimitiveDecode(sub["default"], &v); err != nil {
				fail(key+".default", "key params.%s.default: %v", name, err)
			} else if par.Default, err = coerceParam(par.Type, v); err != nil {
				fail(key+".default", "key params.%s.default: %v", name, err)
			}
		}
		m.Params[name] = par
	}
	p.unknownKeys()
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			li, lj := p.errs[i].Line, p.errs[j].Line
			return li != 0 && (lj == 0 || li < lj)
		})
		return nil, p.errs
	}
	return m, nil
}

var paramNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// ManifestError is one problem in a manifest.
type ManifestError struct {
	Line int    // from 1; 0 when the key is not written in the file
	Key  string // the key the problem is about ("limits.timeout"); "" for none
	Msg  string // the problem, naming the key ("key limits.timeout: ...")
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// ManifestErrors is every problem found in a manifest, in the order of
// their lines (problems of keys left out last).
type ManifestErrors []*ManifestError

func (es ManifestErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return "manifest: " + strings.Join(parts, "; ")
}

// manifestParse collects the problems of one manifest.
type manifestParse struct {
	md    toml.MetaData
	lines map[string]int
	errs  ManifestErrors
	bad   map[string]bool // keys whose value did not decode
}

// fail records a problem about key (dotted, possibly with an index:
// "os[1]" is found at the line of "os").
func (p *manifestParse) fail(key, format string, a ...any) {
	base, _, _ := strings.Cut(key, "[")
	p.errs = append(p.errs, &ManifestError{Line: p.lines[base], Key: base, Msg: fmt.Sprintf(format, a...)})
}

// decodeFields sets the fields of the struct v from the table prims by
// their toml tags, each key on its own so that one bad value does not hide
// the next; a pointer to a struct is a sub-table, decoded the same way.
func (p *manifestParse) decodeFields(prims map[string]toml.Primitive, v reflect.Value, prefix []string) {
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
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
			var sub map[string]toml.Primitive
			if err := p.md.PrimitiveDecode(prim, &sub); err != nil {
				p.fail(key, "key %s: want a table [%s], got %s", key, key, p.typeOf(path...))
				p.bad[key] = true
				continue
			}
			ptr := reflect.New(f.Type.Elem())
			p.decodeFields(sub, ptr.Elem(), path)
			v.Field(i).Set(ptr)
			continue
		}
		ptr := reflect.New(f.Type)
		if err := p.md.PrimitiveDecode(prim, ptr.Interface()); err != nil {
			p.fail(key, "key %s: want %s, got %s", key, wantType(f.Type), p.typeOf(path...))
			p.bad[key] = true
			continue
		}
		v.Field(i).Set(ptr.Elem())
	}
}

// typeOf names the TOML type of the value at key.
func (p *manifestParse) typeOf(key ...string) string {
	return tomlkeys.TypeName(p.md.Type(key...))
}

func wantType(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(toml.Primitive{}):
		return "a value"
	case t.Kind() == reflect.Pointer:
		return wantType(t.Elem())
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return "an integer"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Slice:
		return "a list of lists of strings"
	case t.Kind() == reflect.Slice:
		return "a list of strings"
	case t.Kind() == reflect.Map:
		return "a table"
	}
	return t.String()
}

// manifestKeys are the keys a manifest may hold; "params.*" stands for
// any parameter name.
var manifestKeys = func() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := f.Tag.Get("toml")
			if name == "" {
				continue
			}
			out = append(out, prefix+name)
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct {
				walk(f.Type.Elem(), prefix+name+".")
			}
		}
	}
	walk(reflect.TypeOf(rawManifest{}), "")
	out = append(out, "params.*")
	walk(reflect.TypeOf(rawParam{}), "params.*.")
	sort.Strings(out)
	return out
}()

// manifestKey says whether k is a key a manifest may hold, and whether
// it holds a value (a leaf) rather than a table.
func manifestKey(k toml.Key) (known, leaf bool) {
	name := k.String()
	if len(k) >= 2 && k[0] == "params" {
		name = "params.*"
		if len(k) > 2 {
			name += "." + k[2:].String()
		}
	}
	if _, ok := slices.BinarySearch(manifestKeys, name); !ok {
		return false, false
	}
	switch name {
	case "evaluate", "remediate", "limits", "params", "params.*":
		return true, false
	}
	return true, true
}

// unknownKeys reports every key that is not a manifest's (the outermost
// of a tree), with the nearest known key; keys inside a value (a table
// written where a value belongs) or inside a value that did not decode
// were reported already.
func (p *manifestParse) unknownKeys() {
	reported := map[string]bool{}
	for _, k := range p.md.Keys() {
		if known, _ := manifestKey(k); known {
			continue
		}
		skip := false
		for i := 1; i < len(k); i++ {
			pre := k[:i]
			_, leaf := manifestKey(pre)
			if leaf || p.bad[pre.String()] || reported[pre.String()] {
				skip = true
			}
		}
		if skip {
			continue
		}
		name := k.String()
		reported[name] = true
		known := manifestKeys
		if len(k) >= 3 && k[0] == "params" {
			known = nil
			for _, mk := range manifestKeys {
				if rest, ok := strings.CutPrefix(mk, "params.*."); ok {
					known = append(known, toml.Key(append(slices.Clone(k[:2]), rest)).String())
				}
			}
		}
		msg := "unknown key " + name
		if near := tomlkeys.Nearest(name, known); near != "" {
			msg += "; did you mean " + near + "?"
		}
		p.errs = append(p.errs, &ManifestError{Line: p.lines[name], Key: name, Msg: msg})
	}
}

func checkCaps(section string, c *rawCaps, fail func(key, format string, a ...any)) Capabilities {
	out := Capabilities{Read: c.Read, Write: c.Write, Exec: c.Exec}
	for _, list := range []struct {
		key   string
		paths []string
	}{{"read", c.Read}, {"write", c.Write}} {
		for i, p := range list.paths {
			if err := checkGrantPath(p); err != nil {
				fail(section+"."+list.key, "key %s.%s[%d]: %v", section, list.key, i, err)
			}
		}
	}
	for i, pattern := range c.Exec {
		if err := checkExecPattern(pattern); err != nil {
			fail(section+".exec", "key %s.exec[%d]%v", section, i, err)
		}
	}
	return out
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

func parseLimits(md toml.MetaData, raw *rawLimits, fail func(key, format string, a ...any)) ManifestLimits {
	var l ManifestLimits
	if md.IsDefined("limits", "memory") {
		if n, err := parseSize(md, raw.Memory); err != nil {
			fail("limits.memory", "key limits.memory: %v", err)
		} else if n < 64<<10 {
			fail("limits.memory", "key limits.memory: %d bytes is less than one 64KiB page", n)
		} else {
			l.Memory = n
		}
	}
	if md.IsDefined("limits", "output") {
		if n, err := parseSize(md, raw.Output); err != nil {
			fail("limits.output", "key limits.output: %v", err)
		} else if n <= 0 || n > math.MaxInt32 {
			fail("limits.output", "key limits.output: %d bytes is out of range", n)
		} else {
			l.Output = int(n)
		}
	}
	if md.IsDefined("limits", "timeout") {
		var s string
		if err := md.PrimitiveDecode(raw.Timeout, &s); err != nil {
			fail("limits.timeout", `key limits.timeout: want a duration string such as "10s"`)
		} else if d, err := time.ParseDuration(s); err != nil || d <= 0 {
			fail("limits.timeout", `key limits.timeout: %q is not a positive duration such as "10s"`, s)
		} else {
			l.Timeout = d
		}
	}
	if raw.ExecCalls != nil {
		if *raw.ExecCalls < 0 || *raw.ExecCalls > math.MaxInt32 {
			fail("limits.exec_calls", "key limits.exec_calls: %d is out of range", *raw.ExecCalls)
		} else {
			l.ExecCalls = int(*raw.ExecCalls)
			l.execCallsSet = true
		}
	}
	return l
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
