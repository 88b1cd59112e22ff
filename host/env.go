package host

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"
	"unicode/utf8"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"

	"github.com/amagent/amagent/agent/sysexec"
)

// Scan is a scan document prepared for fact lookups: checked once, its
// top-level keys indexed, answers cached, safe for concurrent runs. A fact
// is the raw JSON text of the value in the document, byte for byte: nothing
// is decoded or re-encoded.
type Scan struct {
	raw    json.RawMessage
	top    map[string][]byte // top-level key -> raw value
	family string

	// arrays indexes the elements of each array a lookup has stepped
	// into (keyed by the address of its '['), so that "software.N.name"
	// for every N costs one walk of the list, not one per N.
	arrays sync.Map // *byte -> [][]byte

	// cache is copy-on-write: readers load it without a lock (a fact call
	// is on the guest's hot path); a new key copies the map under mu.
	mu    sync.Mutex
	cache atomic.Pointer[map[string][]byte]
}

// maxCachedKey is the longest fact key kept in a Scan's cache (no real
// path is longer; the cache holds at most 1024 keys).
const maxCachedKey = 256

// NewScan prepares a scan document (a JSON object).
func NewScan(doc []byte) (*Scan, error) {
	doc = bytes.TrimSpace(doc)
	if len(doc) == 0 {
		doc = []byte("{}")
	}
	if !json.Valid(doc) {
		// Decode only to name what is wrong.
		var v any
		err := json.Unmarshal(doc, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, fmt.Errorf("scan document: %w", err)
	}
	if doc[0] != '{' {
		return nil, errors.New("scan document: not a JSON object")
	}
	top := map[string][]byte{}
	if err := eachMember(doc, func(k string, v []byte) bool { top[k] = v; return true }); err != nil {
		return nil, fmt.Errorf("scan document: %w", err)
	}
	s := &Scan{raw: json.RawMessage(doc), top: top}
	s.cache.Store(&map[string][]byte{})
	if os, ok := top["os"]; ok {
		if fam := member(os, "family"); len(fam) > 0 && fam[0] == '"' {
			_ = json.Unmarshal(fam, &s.family)
		}
	}
	return s, nil
}

// JSON returns the document as given.
func (s *Scan) JSON() json.RawMessage { return s.raw }

// Fact answers the JSON value at a dotted path ("os.version",
// "software.0.name"); the empty key is the whole document. ok is false when
// nothing is there. The answer is the value's own text in the document
// (shared: do not modify it).
func (s *Scan) Fact(key []byte) ([]byte, bool) {
	if v, ok := (*s.cache.Load())[string(key)]; ok {
		return v, v != nil
	}
	v, indexed := s.lookup(string(key))
	if indexed || len(key) > maxCachedKey {
		// Element paths are cheap to answer again and can be many (one
		// per package): caching them would make every new key copy a
		// large map. A long key is a module's own bytes: caching it
		// would let a module make the host keep them.
		return v, v != nil
	}
	s.mu.Lock()
	old := *s.cache.Load()
	if len(old) < 1024 {
		m := make(map[string][]byte, len(old)+1)
		for k, x := range old {
			m[k] = x
		}
		m[string(key)] = v
		s.cache.Store(&m)
	}
	s.mu.Unlock()
	return v, v != nil
}

// lookup finds the value at key; indexed says that the path went through
// an array element.
func (s *Scan) lookup(key string) (v []byte, indexed bool) {
	if key == "" {
		return s.raw, false
	}
	first, rest, more := strings.Cut(key, ".")
	cur, ok := s.top[first]
	if !ok {
		return nil, false
	}
	for more {
		var seg string
		seg, rest, more = strings.Cut(rest, ".")
		switch {
		case len(cur) > 0 && cur[0] == '{':
			cur = member(cur, seg)
		case len(cur) > 0 && cur[0] == '[':
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || seg != strconv.Itoa(i) {
				return nil, indexed
			}
			indexed = true
			cur = s.element(cur, i)
		default:
			return nil, indexed
		}
		if cur == nil {
			return nil, indexed
		}
	}
	return cur, indexed
}

// element is the raw value at index n of the array arr (a slice of the
// document), or nil. The array's elements are found once, then indexed.
func (s *Scan) element(arr []byte, n int) []byte {
	var elems [][]byte
	if v, ok := s.arrays.Load(&arr[0]); ok {
		elems = v.([][]byte)
	} else {
		elems = elements(arr)
		s.arrays.Store(&arr[0], elems)
	}
	if n >= len(elems) {
		return nil
	}
	return elems[n]
}

// The functions below walk JSON text that json.Valid accepted (NewScan
// checks the whole document once), so they need not report syntax errors.

// eachMember calls f with every key (decoded) and raw value of the object
// at obj, in order, until f returns false. Values of repeated keys are all
// passed; callers keep the last one, as encoding/json does.
func eachMember(obj []byte, f func(key string, val []byte) bool) error {
	i := jsonSpace(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		kEnd := jsonSkip(obj, i)
		rawKey := obj[i:kEnd]
		var key string
		if bytes.IndexByte(rawKey, '\\') < 0 {
			key = string(rawKey[1 : len(rawKey)-1])
		} else if err := json.Unmarshal(rawKey, &key); err != nil {
			return err
		}
		vStart := jsonSpace(obj, jsonSpace(obj, kEnd)+1) // past ':'
		vEnd := jsonSkip(obj, vStart)
		if !f(key, obj[vStart:vEnd]) {
			return nil
		}
		i = jsonSpace(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = jsonSpace(obj, i+1)
		}
	}
	return nil
}

// member is the raw value of key in the object obj (the last one when the
// key repeats), or nil.
func member(obj []byte, key string) []byte {
	var out []byte
	_ = eachMember(obj, func(k string, v []byte) bool {
		if k == key {
			out = v
		}
		return true
	})
	return out
}

// elements are the raw values of the array arr, in order.
func elements(arr []byte) [][]byte {
	out := [][]byte{}
	i := jsonSpace(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		end := jsonSkip(arr, i)
		out = append(out, arr[i:end:end])
		i = jsonSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = jsonSpace(arr, i+1)
		}
	}
	return out
}

func jsonSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonSkip returns the end of the valid JSON value that starts at b[i].
func jsonSkip(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return len(b)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				for j++; j < len(b) && b[j] != '"'; j++ {
					if b[j] == '\\' {
						j++
					}
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	return j
}

// OSFamily is os.family from the document ("linux", "windows", "darwin"),
// or the agent's own when the document has none.
func (s *Scan) OSFamily() string {
	if s.family != "" {
		return s.family
	}
	return runtime.GOOS
}

// errNotRecorded is returned by a replay exec for an argv not in the recording.
var errNotRecorded = errors.New("not in the recording")

// Environment is where a run's facts, files, commands and clock come from:
// the live machine, or a recorded scan (replay).
type Environment struct {
	scan *Scan
	// hostRoot is the host directory the guest's "/" is (live: the
	// machine's root); empty in replay.
	hostRoot string
	// files serves a replay's files (the recording's, in memory).
	files experimentalsys.FS
	// scratch is the recording's files, copied for a remediate replay
	// that writes.
	scratch map[string]FileContent
	// stat answers the path-metadata fact in replay.
	stat map[string]PathStat
	// names maps uids and gids to names for the live path fact.
	names  func() *idNames
	exec   sysexec.Runner
	clock  time.Time // zero: the wall clock
	replay bool
	rec    *execRecorder
	// onWritten, in replay only, is given what each remediate run left in
	// its scratch copy of the recording's files (OnWritten).
	onWritten func(WrittenFiles)
}

// WrittenFiles is what a remediate replay left in its scratch copy of the
// recording's files: every regular file that is new or whose bytes differ
// from the recording's, and the recorded files that are gone.
type WrittenFiles struct {
	Written map[string]FileContent
	Removed []string
	// Incomplete is set when the files written passed maxWrittenBytes
	// and were not all read back.
	Incomplete bool
}

// maxWrittenBytes bounds the bytes read back from a replay's scratch copy.
const maxWrittenBytes = recordMaxTotal

// OnWritten asks a replay environment to hand fn what each remediate run
// that may write (the phase declares write paths) left in its scratch
// copy, before the copy is removed: `amagent worklet test` compares it with
// a case's expect.files. It does nothing on a live environment.
func (e *Environment) OnWritten(fn func(WrittenFiles)) {
	if e.replay {
		e.onWritten = fn
	}
}

// LiveEnv is the live machine: real files (only those granted), real
// programs (only those allowed) and the wall clock.
func LiveEnv(scan *Scan) *Environment {
	return &Environment{scan: scan, hostRoot: liveRoot, exec: sysexec.Run,
		names: sync.OnceValue(func() *idNames { return readIDNames(liveRoot) })}
}

// liveRoot is the host's root directory.
var liveRoot = func() string {
	if runtime.GOOS == "windows" {
		return filepath.VolumeName(os.Getenv("SystemRoot")) + `\`
	}
	return "/"
}()

// Scan returns the environment's scan document.
func (e *Environment) Scan() *Scan { return e.scan }

// Recording is a recorded scan (ABI.md section 6).
type Recording struct {
	ABI   int                    `json:"abi"`
	Time  time.Time              `json:"time"`
	Scan  json.RawMessage        `json:"scan"`
	Files map[string]FileContent `json:"files"`
	Stat  map[string]PathStat    `json:"stat"`
	Exec  []RecordedExec         `json:"exec"`
}

// FileContent is a recorded file's bytes. In JSON it is a string when the
// bytes are UTF-8 text (no NUL), {"base64": "..."} otherwise.
type FileContent string

// MarshalJSON implements json.Marshaler.
func (c FileContent) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(c)) && !strings.ContainsRune(string(c), 0) {
		return json.Marshal(string(c))
	}
	return json.Marshal(struct {
		Base64 string `json:"base64"`
	}{base64.StdEncoding.EncodeToString([]byte(c))})
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *FileContent) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = FileContent(s)
		return nil
	}
	var o struct {
		Base64 *string `json:"base64"`
	}
	if err := json.Unmarshal(b, &o); err != nil || o.Base64 == nil {
		return errors.New(`a file's content is a string or {"base64": "..."}`)
	}
	raw, err := base64.StdEncoding.DecodeString(*o.Base64)
	if err != nil {
		return fmt.Errorf("base64: %w", err)
	}
	*c = FileContent(raw)
	return nil
}

// RecordedExec is one program run in a recording.
type RecordedExec struct {
	Argv     []string `json:"argv"`
	ExitCode int      `json:"exit_code"`
	Stdout   string   `json:"stdout"`
	Stderr   string   `json:"stderr"`
}

// RecordingFormat names what ParseRecording wants, for error messages.
const RecordingFormat = `a recorded scan: {"abi": 1, "scan": {...}, "files": {...}} as written by ` + "`amagent scan --record FILE`"

// ParseRecording reads a recorded scan. Unknown top-level keys are ignored
// so that test cases can carry their expectations beside the recording.
// An error names the key and the format wanted (RecordingFormat).
func ParseRecording(b []byte) (*Recording, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return nil, fmt.Errorf("not a recorded scan: the file is a JSON %s; want %s", te.Value, RecordingFormat)
		}
		return nil, fmt.Errorf("not a recorded scan: %w; want %s", err, RecordingFormat)
	}
	if _, ok := top["abi"]; !ok {
		if _, isScan := top["collected_at"]; isScan || top["os"] != nil && top["scan"] == nil {
			return nil, fmt.Errorf("not a recorded scan: key abi is missing, and this looks like a bare scan document (%s); want %s, whose key scan holds such a document", "`amagent scan --once --json`", RecordingFormat)
		}
		return nil, fmt.Errorf("not a recorded scan: key abi is missing; want %s", RecordingFormat)
	}
	if t, ok := top["time"]; ok {
		var tt time.Time
		if err := json.Unmarshal(t, &tt); err != nil {
			return nil, fmt.Errorf("recorded scan: key time: %s is not an RFC 3339 time such as \"2026-11-25T12:00:00Z\"", t)
		}
	}
	var r Recording
	if err := json.Unmarshal(b, &r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, fmt.Errorf("recorded scan: key %s: a JSON %s is not %s; want %s", te.Field, te.Value, recordingKeyWants(te.Field), RecordingFormat)
		}
		return nil, fmt.Errorf("recorded scan: %w; want %s", err, RecordingFormat)
	}
	if r.ABI != ABIVersion {
		return nil, fmt.Errorf("recorded scan: key abi: %d is not %d; want %s", r.ABI, ABIVersion, RecordingFormat)
	}
	if len(bytes.TrimSpace(r.Scan)) == 0 || string(bytes.TrimSpace(r.Scan)) == "null" {
		r.Scan = json.RawMessage("{}")
	}
	for p := range r.Files {
		if !strings.HasPrefix(filepath.ToSlash(p), "/") {
			return nil, fmt.Errorf("recorded scan: key files: %q is not an absolute path", p)
		}
	}
	for p, st := range r.Stat {
		if _, ok := cleanAbs(p); !ok {
			return nil, fmt.Errorf("recorded scan: key stat: %q is not a clean absolute path", p)
		}
		if err := st.check(); err != nil {
			return nil, fmt.Errorf("recorded scan: key stat: %q: %w", p, err)
		}
	}
	for i, e := range r.Exec {
		if len(e.Argv) == 0 {
			return nil, fmt.Errorf("recorded scan: key exec[%d].argv is empty", i)
		}
	}
	return &r, nil
}

// recordingKeyWants says what a recorded scan's key holds.
func recordingKeyWants(key string) string {
	switch strings.SplitN(key, ".", 2)[0] {
	case "abi":
		return "the number 1"
	case "time":
		return "an RFC 3339 time"
	case "scan":
		return "a scan document (an object)"
	case "files":
		return `an object of absolute path -> content (a string, or {"base64": "..."})`
	case "stat":
		return "an object of absolute path -> metadata"
	case "exec":
		return `a list of {"argv": [...], "exit_code": n, "stdout": "...", "stderr": "..."}`
	}
	return "what it should be"
}

// ReplayEnv answers everything from a recording, with no host access:
// facts from its scan, files only from its files, path metadata only from
// its stat, programs only from its exec list (by exact argv), and the
// clock stopped at its time.
func ReplayEnv(r *Recording) (*Environment, error) {
	scan, err := NewScan(r.Scan)
	if err != nil {
		return nil, err
	}
	mfs := fstest.MapFS{}
	for p, content := range r.Files {
		rel := strings.TrimPrefix(filepath.ToSlash(p), "/")
		if rel == "" || !fs.ValidPath(rel) {
			return nil, fmt.Errorf("recorded scan: key files: %q is not a clean absolute path", p)
		}
		mfs[rel] = &fstest.MapFile{Data: []byte(content), Mode: 0o444, ModTime: r.Time}
	}
	execs := slices.Clone(r.Exec)
	run := func(_ context.Context, req sysexec.Request) (sysexec.Result, error) {
		for _, e := range execs {
			if slices.Equal(e.Argv, req.Argv) {
				return sysexec.Result{ExitCode: e.ExitCode, Stdout: []byte(e.Stdout), Stderr: []byte(e.Stderr)}, nil
			}
		}
		return sysexec.Result{}, errNotRecorded
	}
	clock := r.Time
	if clock.IsZero() {
		clock = time.Unix(0, 0).UTC()
	}
	return &Environment{scan: scan, files: &sysfs.AdaptFS{FS: mfs}, exec: run, clock: clock, replay: true,
		scratch: r.Files, stat: r.Stat}, nil
}

// execRecorder keeps the programs run in a recording environment.
type execRecorder struct {
	mu   sync.Mutex
	runs []RecordedExec
}

func (r *execRecorder) wrap(next sysexec.Runner) sysexec.Runner {
	return func(ctx context.Context, req sysexec.Request) (sysexec.Result, error) {
		res, err := next(ctx, req)
		if err == nil {
			r.mu.Lock()
			r.runs = append(r.runs, RecordedExec{Argv: slices.Clone(req.Argv), ExitCode: res.ExitCode, Stdout: string(res.Stdout), Stderr: string(res.Stderr)})
			r.mu.Unlock()
		}
		return res, err
	}
}

// scratchChanges compares a replay's scratch directory, after the run,
// with the recording's files it started from.
func scratchChanges(dir string, recorded map[string]FileContent) WrittenFiles {
	out := WrittenFiles{Written: map[string]FileContent{}}
	seen := map[string]bool{}
	total := 0
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil
		}
		name := "/" + filepath.ToSlash(rel)
		seen[name] = true
		if out.Incomplete {
			return nil
		}
		b, err := readAtMost(p, maxWrittenBytes-total)
		if err != nil {
			out.Incomplete = true
			return nil
		}
		if old, ok := recorded[name]; !ok || string(old) != string(b) {
			total += len(b)
			out.Written[name] = FileContent(b)
		}
		return nil
	})
	for p := range recorded {
		if name := "/" + strings.TrimPrefix(filepath.ToSlash(p), "/"); !seen[name] {
			out.Removed = append(out.Removed, name)
		}
	}
	slices.Sort(out.Removed)
	return out
}

// readAtMost reads the file at p, failing when it holds more than n bytes.
func readAtMost(p string, n int) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(n)+1))
	if err == nil && len(b) > n {
		err = errors.New("over the bound")
	}
	return b, err
}
