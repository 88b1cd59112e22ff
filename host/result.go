package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/amagent/amagent/agent/protocol"
)

// Statuses of a run.
const (
	StatusCompliant     = "compliant"
	StatusNonCompliant  = "non-compliant"
	StatusNotApplicable = "not-applicable"
	StatusSucceeded     = "succeeded"
	StatusFailed        = "failed"
	StatusError         = "error"
)

// Error kinds (Result.ErrorKind); Result.Error starts with the kind.
const (
	KindTimeout     = "timeout"
	KindMemoryLimit = "memory limit"
	KindTrap        = "trap"
	KindExit        = "exit"
	KindLoad        = "load"
	KindCanceled    = "canceled"
	// KindCompileLimit: compiling the module passed the agent's bound
	// (time, memory or structure); refused until its bytes change.
	KindCompileLimit = "compile limit"
	// KindHost: the agent could not load or run the module for a reason
	// of its own (reading files, the compiled-code cache, a download, the
	// disk, the compile process, the assignment's parameters). Never
	// charged to the module.
	KindHost = "host"
)

// Result is the outcome of one run.
type Result struct {
	Name      string          `json:"name"`
	Version   string          `json:"version"`
	Kind      string          `json:"kind"`
	Phase     string          `json:"phase"`
	Status    string          `json:"status"`
	ExitCode  int             `json:"exit_code"`
	Message   string          `json:"message"`
	Details   json.RawMessage `json:"details"`
	Error     string          `json:"error"`
	ErrorKind string          `json:"error_kind,omitempty"`
	// Hint explains an error for the module's author (not part of the ABI).
	Hint      string        `json:"hint,omitempty"`
	Duration  time.Duration `json:"-"`
	Truncated bool          `json:"truncated,omitempty"`
	// Denied lists what the run asked for and was refused (ABI.md
	// section 7): undeclared paths and exec requests no pattern matches.
	Denied []string `json:"denied,omitempty"`
}

// DurationMS is the run's duration in milliseconds.
func (r Result) DurationMS() int64 { return r.Duration.Milliseconds() }

// WorkletResult converts the result for a scan report.
func (r Result) WorkletResult() protocol.WorkletResult {
	d := r.Details
	if len(d) == 0 {
		d = json.RawMessage("null")
	}
	return protocol.WorkletResult{Name: r.Name, Version: r.Version, Kind: r.Kind, Phase: r.Phase,
		Status: r.Status, ExitCode: r.ExitCode, Message: r.Message, Details: d, Error: r.Error,
		ErrorKind: r.ErrorKind, DurationMS: r.DurationMS()}
}

// statusFor maps an exit code to a status; ok is false for codes the ABI
// does not define for the phase.
func statusFor(phase string, code int) (string, bool) {
	if phase == PhaseRemediate {
		switch code {
		case 0:
			return StatusSucceeded, true
		case 1:
			return StatusFailed, true
		}
		return "", false
	}
	switch code {
	case 0:
		return StatusCompliant, true
	case 1:
		return StatusNonCompliant, true
	case 2:
		return StatusNotApplicable, true
	}
	return "", false
}

// maxMessage is the most a result's message keeps (ABI.md section 2).
const maxMessage = 4 << 10

// parseOutput reads a module's stdout: a JSON object {"message", "details"},
// or plain text taken as the message. The message is made safe
// (safeMessage); cut says that it was shortened.
func parseOutput(out []byte) (msg string, details json.RawMessage, cut bool) {
	t := bytes.TrimSpace(out)
	raw := string(t)
	if len(t) > 0 && t[0] == '{' && json.Valid(t) {
		var obj map[string]json.RawMessage
		if json.Unmarshal(t, &obj) == nil {
			raw = ""
			if m, ok := obj["message"]; ok {
				if json.Unmarshal(m, &raw) != nil {
					raw = string(m)
				}
			}
			if d, ok := obj["details"]; ok {
				details = d
			}
		}
	}
	msg, cut = safeMessage(raw)
	return msg, details, cut
}

// safeMessage makes a module's message safe to show anyone: invalid UTF-8
// replaced, control characters other than newline and tab removed (C0, DEL
// and C1, so no escape sequence reaches a terminal), and at most
// maxMessage bytes, cut at a character boundary; cut reports a shortening.
func safeMessage(s string) (string, bool) {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean && len(s) <= maxMessage {
		return s, false
	}
	var b strings.Builder
	b.Grow(min(len(s), maxMessage))
	cut := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > maxMessage {
			cut = true
			break
		}
		b.WriteRune(r)
	}
	return b.String(), cut
}

// ModuleFault reports whether a failed run's error kind is one the module
// itself caused: it trapped, ran out of time or memory, exited with a code
// the ABI does not define, or could not be loaded because of its own bytes
// or manifest (KindLoad, KindCompileLimit). Cancellation (the agent
// shutting down) and KindHost (the agent's I/O, cache, download, disk)
// are not, and neither is an unknown or empty kind: quarantine counts
// only what the module is known to have caused.
func ModuleFault(kind string) bool {
	switch kind {
	case KindTimeout, KindMemoryLimit, KindTrap, KindExit, KindLoad, KindCompileLimit:
		return true
	}
	return false
}

// moduleLoadPrefixes begin the load errors that only the module's own
// bytes or manifest cause: an invalid module ("module: ..." from the
// compiler, or a sha256 that does not match), imports outside the ABI, no
// _start, too much initial memory, a bad manifest; moduleLoadMarkers
// appear in others (a manifest read from a file is named by its path, a
// bundle's manifest that names another worklet, a module over the size
// limit). TestLoadErrorKind loads real bad modules so that these cannot
// drift from the messages.
var (
	moduleLoadPrefixes = []string{"module: ", "import ", "the module exports no _start", "module needs ", "manifest: ", ManifestFile + ": "}
	moduleLoadMarkers  = []string{": manifest: ", "the bundle's manifest is named", "is larger than the agent's"}
)

// LoadErrorKind classifies an error from loading a module (Engine.Load,
// Engine.LoadModule and the steps around them): KindCompileLimit,
// KindCanceled when the load was cut short by its context, KindLoad when
// the module's own bytes or manifest are at fault, and KindHost for
// everything else (reading files, the compiled-code cache, the compile
// process, the disk), which is never charged to the module.
func LoadErrorKind(err error) string {
	if err == nil {
		return ""
	}
	var limit *CompileLimitError
	if errors.As(err, &limit) {
		return KindCompileLimit
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return KindCanceled
	}
	var pe *fs.PathError
	var se *os.SyscallError
	var errno syscall.Errno
	if errors.As(err, &pe) || errors.As(err, &se) || errors.As(err, &errno) || errors.Is(err, errNoChild) {
		return KindHost
	}
	msg := err.Error()
	for _, s := range []string{"compilationcache", "compiled-code cache", "the compile process", "no space left", "input/output error"} {
		if strings.Contains(msg, s) {
			return KindHost
		}
	}
	for _, p := range moduleLoadPrefixes {
		if strings.HasPrefix(msg, p) {
			return KindLoad
		}
	}
	for _, p := range moduleLoadMarkers {
		if strings.Contains(msg, p) {
			return KindLoad
		}
	}
	return KindHost
}
