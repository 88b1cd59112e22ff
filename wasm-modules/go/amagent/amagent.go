// Package amagent is the Go guest SDK for amagent worklets and policies: a
// worklet is a WASI preview 1 command module built with
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o worklet.wasm .
//
// It reads the input document from stdin (Input), asks the host for facts
// from the device scan (Fact), runs allow-listed programs (Exec), writes to
// the agent log (Log), and ends the run with a result (Compliant,
// NonCompliant, NotApplicable, Succeeded, Failed, Fatal), each of which
// writes the result JSON to stdout and exits with the ABI's exit code.
//
// The host functions exist only in a wasip1 build; on any other platform the
// package compiles (so `go vet ./...` and `go build ./...` work on the
// developer's machine) but Fact and Exec return ErrUnavailable.
//
// See wasm-modules/README.md for the ABI this implements.
package amagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/amagent/scanjson"
)

// ABIVersion is the guest ABI version this SDK implements.
const ABIVersion = 1

// Phases of a run.
const (
	PhaseEvaluate  = "evaluate"
	PhaseRemediate = "remediate"
)

// Exit codes of the ABI. ExitError is what Fatal uses: any code other than
// the ones a phase defines is reported by the agent as an error.
const (
	ExitCompliant     = 0
	ExitNonCompliant  = 1
	ExitNotApplicable = 2
	ExitSucceeded     = 0
	ExitFailed        = 1
	ExitError         = 3
)

// Level is a log level of the host's log function.
type Level int32

// Log levels.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)

// Errors returned by the host functions. A *HostError unwraps to one of
// these, so callers test with errors.Is(err, amagent.ErrNotFound).
var (
	ErrNotFound    = errors.New("not found")                                 // -1
	ErrDenied      = errors.New("denied by capability")                      // -2
	ErrMalformed   = errors.New("malformed request")                         // -3
	ErrExec        = errors.New("program could not be started or timed out") // -4
	ErrLimit       = errors.New("per-run limit reached")                     // -5
	ErrUnknown     = errors.New("unknown host error")
	ErrUnavailable = errors.New("amagent host functions exist only in a GOOS=wasip1 GOARCH=wasm build")
)

// HostError is a negative answer from a host function.
type HostError struct {
	Op   string // "fact", "exec" or "response"
	Arg  string // the fact key or the argv, for the message
	Code int32  // the ABI's negative code
}

func (e *HostError) Error() string {
	return fmt.Sprintf("%s %s: %v (%d)", e.Op, e.Arg, e.Unwrap(), e.Code)
}

// Unwrap maps the ABI code to its sentinel error.
func (e *HostError) Unwrap() error { return codeError(e.Code) }

// codeUnavailable is the stub's answer outside wasip1; never sent by a host.
const codeUnavailable = -1000

func codeError(code int32) error {
	switch code {
	case -1:
		return ErrNotFound
	case -2:
		return ErrDenied
	case -3:
		return ErrMalformed
	case -4:
		return ErrExec
	case -5:
		return ErrLimit
	case codeUnavailable:
		return ErrUnavailable
	}
	return ErrUnknown
}

// Worklet names the module being run.
type Worklet struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Document is the input document the host writes to stdin.
type Document struct {
	ABI     int                        `json:"abi"`
	Phase   string                     `json:"phase"`
	Worklet Worklet                    `json:"worklet"`
	Params  map[string]json.RawMessage `json:"params"`
	// Scan is the scan document as raw JSON (see ParseDocument); most
	// worklets ask for single facts with Fact instead of decoding it.
	Scan json.RawMessage `json:"scan"`
}

var (
	inputOnce sync.Once
	inputDoc  *Document
	inputErr  error
)

// Input reads and parses the input document from stdin. It reads stdin
// once; later calls return the same document.
func Input() (*Document, error) {
	inputOnce.Do(func() {
		raw, err := io.ReadAll(os.Stdin)
		if err != nil {
			inputErr = fmt.Errorf("reading the input document: %w", err)
			return
		}
		inputDoc, inputErr = ParseDocument(raw)
	})
	return inputDoc, inputErr
}

// ParseDocument parses an input document. The scan is kept as raw JSON,
// never decoded here: walking or decoding a large scan (software lists) in
// a wasm module costs milliseconds, and most worklets ask the host for the
// few facts they need instead.
//
// The host writes "scan" as the last key (ABI.md section 3). When abi,
// phase, worklet and params have all come before it, the rest of the
// document is taken as the scan without looking at it: Scan is then not
// checked (decoding it reports any error). Otherwise every key is read and
// the scan's structure is checked.
func ParseDocument(raw []byte) (*Document, error) {
	d := &Document{}
	i := scanjson.Space(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return nil, errors.New("parsing the input document: not a JSON object")
	}
	seen := 0 // abi, phase, worklet, params
	i = scanjson.Space(raw, i+1)
	for i < len(raw) && raw[i] != '}' {
		if raw[i] != '"' {
			return nil, fmt.Errorf("parsing the input document: bad key at byte %d", i)
		}
		kEnd, err := scanjson.Skip(raw, i)
		if err != nil {
			return nil, fmt.Errorf("parsing the input document: bad key at byte %d", i)
		}
		key, err := scanjson.Unquote(raw[i:kEnd])
		if err != nil {
			return nil, fmt.Errorf("parsing the input document: bad key at byte %d: %w", i, err)
		}
		i = scanjson.Space(raw, kEnd)
		if i >= len(raw) || raw[i] != ':' {
			return nil, fmt.Errorf("parsing the input document: want ':' at byte %d", i)
		}
		vStart := scanjson.Space(raw, i+1)
		if key == "scan" && seen == 4 {
			if rest, ok := lastValue(raw, vStart); ok {
				d.Scan = json.RawMessage(rest)
				return d, nil
			}
		}
		vEnd, err := scanjson.Skip(raw, vStart)
		if err != nil {
			return nil, fmt.Errorf("parsing the input document: key %s: %w", key, err)
		}
		val := raw[vStart:vEnd]
		var target any
		switch key {
		case "abi":
			target = &d.ABI
		case "phase":
			target = &d.Phase
		case "worklet":
			target = &d.Worklet
		case "params":
			target = &d.Params
		case "scan":
			d.Scan = json.RawMessage(val)
		}
		if target != nil {
			seen++
			if err := json.Unmarshal(val, target); err != nil {
				return nil, fmt.Errorf("parsing the input document: key %s: %w", key, err)
			}
		}
		i = scanjson.Space(raw, vEnd)
		if i < len(raw) && raw[i] == ',' {
			i = scanjson.Space(raw, i+1)
		} else if i >= len(raw) || raw[i] != '}' {
			return nil, fmt.Errorf("parsing the input document: want ',' or '}' at byte %d", i)
		}
	}
	if i >= len(raw) {
		return nil, errors.New("parsing the input document: unexpected end")
	}
	if d.Params == nil {
		d.Params = map[string]json.RawMessage{}
	}
	return d, nil
}

// lastValue is raw[start:] without the document's closing brace and the
// white space around it: the value of the last key, when the document
// ends there. It looks only at the ends, never at the bytes between.
func lastValue(raw []byte, start int) ([]byte, bool) {
	end := len(raw)
	for end > start && isSpace(raw[end-1]) {
		end--
	}
	if end <= start || raw[end-1] != '}' {
		return nil, false
	}
	end--
	for end > start && isSpace(raw[end-1]) {
		end--
	}
	if end <= start {
		return nil, false
	}
	return raw[start:end], true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Param decodes parameter name into v (a *string, *int64, *bool, *[]string,
// ...). A missing parameter is an error wrapping ErrNotFound.
func (d *Document) Param(name string, v any) error {
	raw, ok := d.Params[name]
	if !ok {
		return fmt.Errorf("param %s: %w", name, ErrNotFound)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("param %s: %w", name, err)
	}
	return nil
}

// ParamString returns string parameter name, or def when it is absent.
func (d *Document) ParamString(name, def string) (string, error) {
	if _, ok := d.Params[name]; !ok {
		return def, nil
	}
	var s string
	err := d.Param(name, &s)
	return s, err
}

// ParamInt returns integer parameter name, or def when it is absent.
func (d *Document) ParamInt(name string, def int64) (int64, error) {
	if _, ok := d.Params[name]; !ok {
		return def, nil
	}
	var n int64
	err := d.Param(name, &n)
	return n, err
}

// ParamBool returns boolean parameter name, or def when it is absent.
func (d *Document) ParamBool(name string, def bool) (bool, error) {
	if _, ok := d.Params[name]; !ok {
		return def, nil
	}
	var b bool
	err := d.Param(name, &b)
	return b, err
}

// ParamList returns list parameter name, or def when it is absent.
func (d *Document) ParamList(name string, def []string) ([]string, error) {
	if _, ok := d.Params[name]; !ok {
		return def, nil
	}
	var l []string
	err := d.Param(name, &l)
	return l, err
}

// Fact returns the JSON value at a dotted path into the scan document, for
// example "os.version" or "reboot_required". An absent key is an error
// wrapping ErrNotFound.
func Fact(key string) (json.RawMessage, error) {
	n := hostFact(key)
	if n < 0 {
		return nil, &HostError{Op: "fact", Arg: key, Code: n}
	}
	b, err := takeResponse(n)
	if err != nil {
		return nil, fmt.Errorf("fact %s: %w", key, err)
	}
	return b, nil
}

// FactAt returns the fact list.i.field, for example ("software", 3,
// "name") is "software.3.name"; an empty field is the element itself.
func FactAt(list string, i int, field string) (json.RawMessage, error) {
	return Fact(elementKey(list, i, field))
}

func elementKey(list string, i int, field string) string {
	k := make([]byte, 0, len(list)+len(field)+12)
	k = append(k, list...)
	k = append(k, '.')
	k = strconv.AppendInt(k, int64(i), 10)
	if field != "" {
		k = append(k, '.')
		k = append(k, field...)
	}
	return string(k)
}

// EachElement calls f(i, value) for i = 0, 1, ... over the list fact named
// list ("software", "pending_updates"), value being the element's field as
// raw JSON (nil when that element has no such field; the whole element
// when field is ""), until f returns false or the list ends. A list that
// is absent or not a list has no elements. value is only valid during the
// call: copy what you keep.
//
// It asks the host for one small value per element instead of copying the
// whole list into the module and parsing it there: in a wasm module,
// parsing a 100 KB software list costs several milliseconds; asking for
// the names of its 900 packages, about one.
func EachElement(list, field string, f func(i int, value json.RawMessage) bool) error {
	buf := make([]byte, 256)
	// One key buffer, rewritten in place: allocations are slow in a wasm
	// module, and this loop runs once per package.
	key := make([]byte, 0, len(list)+len(field)+24)
	for i := 0; ; i++ {
		key = append(strconv.AppendInt(append(append(key[:0], list...), '.'), int64(i), 10), '.')
		elem := len(key) - 1 // key[:elem] is list.i
		key = append(key, field...)
		if field == "" {
			key = key[:elem]
		}
		n := hostFactBytes(key)
		if n == -1 && field != "" {
			// The list ended, or this element lacks the field.
			switch m := hostFactBytes(key[:elem]); {
			case m == -1:
				return nil
			case m < 0:
				return &HostError{Op: "fact", Arg: string(key[:elem]), Code: m}
			}
			if !f(i, nil) {
				return nil
			}
			continue
		}
		if n == -1 {
			return nil
		}
		if n < 0 {
			return &HostError{Op: "fact", Arg: string(key), Code: n}
		}
		if int(n) > len(buf) {
			buf = make([]byte, n)
		}
		if n > 0 {
			got := hostResponse(buf[:n])
			if got < 0 {
				return &HostError{Op: "response", Arg: string(key), Code: got}
			}
			n = got
		}
		if !f(i, buf[:n]) {
			return nil
		}
	}
}

// FactInto decodes the fact at key into v.
func FactInto(key string, v any) error {
	raw, err := Fact(key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("fact %s: %w", key, err)
	}
	return nil
}

// FactString returns the fact at key, which must be a JSON string.
func FactString(key string) (string, error) {
	var s string
	err := FactInto(key, &s)
	return s, err
}

// FactBool returns the fact at key, which must be a JSON boolean.
func FactBool(key string) (bool, error) {
	var b bool
	err := FactInto(key, &b)
	return b, err
}

// ExecResult is what a program run through Exec did.
type ExecResult struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

type execRequest struct {
	Argv      []string `json:"argv"`
	Stdin     string   `json:"stdin"`
	TimeoutMS int64    `json:"timeout_ms,omitempty"`
}

// Exec runs argv on the device (no shell) when the manifest allows it for
// the current phase, feeding it stdin. A zero timeout leaves the host's
// default. A program that ran and exited non-zero is not an error: look at
// ExitCode. Errors wrap ErrDenied, ErrNotFound (not in a recorded scan),
// ErrExec (could not start, or timed out) or ErrLimit.
func Exec(argv []string, stdin string, timeout time.Duration) (ExecResult, error) {
	var res ExecResult
	label := strings.Join(argv, " ")
	req, err := json.Marshal(execRequest{Argv: argv, Stdin: stdin, TimeoutMS: timeout.Milliseconds()})
	if err != nil {
		return res, fmt.Errorf("exec %s: %w", label, err)
	}
	n := hostExec(req)
	if n < 0 {
		return res, &HostError{Op: "exec", Arg: label, Code: n}
	}
	b, err := takeResponse(n)
	if err != nil {
		return res, fmt.Errorf("exec %s: %w", label, err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("exec %s: host answer: %w", label, err)
	}
	return res, nil
}

// takeResponse copies the n-byte response slot out of the host.
func takeResponse(n int32) ([]byte, error) {
	buf := make([]byte, n)
	if n == 0 {
		return buf, nil
	}
	got := hostResponse(buf)
	if got < 0 {
		return nil, &HostError{Op: "response", Code: got}
	}
	return buf[:got], nil
}

// Log writes msg to the agent log at level, tagged with the module's name.
// Outside wasip1 it writes to stderr.
func Log(level Level, msg string) { hostLog(level, msg) }

// Logf is Log with fmt.Sprintf formatting.
func Logf(level Level, format string, args ...any) { hostLog(level, fmt.Sprintf(format, args...)) }

// result is the stdout object of a run.
type result struct {
	Message string `json:"message"`
	Details any    `json:"details"`
}

// exit and stdout are replaceable by tests.
var (
	exit             = os.Exit
	stdout io.Writer = os.Stdout
)

// Finish writes {"message": msg, "details": details} to stdout and exits
// with code. details may be nil or anything encoding/json can encode.
func Finish(code int, msg string, details any) {
	b, err := json.Marshal(result{Message: msg, Details: details})
	if err != nil {
		b, _ = json.Marshal(result{Message: msg + " (details not encodable: " + err.Error() + ")"})
		code = ExitError
	}
	stdout.Write(append(b, '\n'))
	exit(code)
}

// Compliant ends an evaluation: the device is compliant (exit 0).
func Compliant(msg string, details any) { Finish(ExitCompliant, msg, details) }

// NonCompliant ends an evaluation: the device is not compliant (exit 1).
func NonCompliant(msg string, details any) { Finish(ExitNonCompliant, msg, details) }

// NotApplicable ends an evaluation: the check does not apply (exit 2).
func NotApplicable(msg string, details any) { Finish(ExitNotApplicable, msg, details) }

// Succeeded ends a remediation that worked (exit 0).
func Succeeded(msg string, details any) { Finish(ExitSucceeded, msg, details) }

// Failed ends a remediation that did not work (exit 1).
func Failed(msg string, details any) { Finish(ExitFailed, msg, details) }

// Fatal ends the run as an error (exit 3): the agent reports "exit 3" with
// err's text as the message. Use it when the check could not be made.
func Fatal(err error) {
	Log(LevelError, err.Error())
	Finish(ExitError, err.Error(), nil)
}
