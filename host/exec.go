package host

// This file is the exec host function (ABI.md section 4) and the matching of
// an exec request against the manifest's argv patterns (section 5).

import (
	"context"
	"encoding/json"
	"errors"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/amagent/amagent/agent/sysexec"
)

type execRequest struct {
	Argv      []string `json:"argv"`
	Stdin     string   `json:"stdin"`
	TimeoutMS int64    `json:"timeout_ms"`
}

type execResponse struct {
	ExitCode int    `json:"exit_code"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

func hostExec(ctx context.Context, mod api.Module, stack []uint64) {
	st := stateOf(ctx)
	mem := mod.Memory()
	if st == nil || mem == nil {
		setI32(stack, CodeMalformed)
		return
	}
	raw, ok := mem.Read(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok {
		setI32(stack, st.fail(CodeMalformed))
		return
	}
	var req execRequest
	if err := json.Unmarshal(raw, &req); err != nil || len(req.Argv) == 0 || req.Argv[0] == "" || req.TimeoutMS < 0 {
		setI32(stack, st.fail(CodeMalformed))
		return
	}
	st.execCalls++
	if st.execCalls > st.maxExecCalls {
		st.log.Warn("worklet exec call limit reached", "worklet", st.name, "limit", st.maxExecCalls, "argv", req.Argv)
		setI32(stack, st.fail(CodeLimit))
		return
	}
	if !argvAllowed(st.allow, req.Argv) {
		st.log.Warn("worklet exec denied", "worklet", st.name, "phase", st.phase, "argv", req.Argv)
		if b, err := json.Marshal(req.Argv); err == nil {
			st.denied.Add("exec " + string(b))
		}
		setI32(stack, st.fail(CodeDenied))
		return
	}
	timeout := st.execTimeout
	if req.TimeoutMS > 0 && time.Duration(req.TimeoutMS)*time.Millisecond < timeout {
		timeout = time.Duration(req.TimeoutMS) * time.Millisecond
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
		if timeout <= 0 {
			setI32(stack, st.fail(CodeExecFail))
			return
		}
	}
	res, err := st.env.exec(ctx, sysexec.Request{Argv: req.Argv, Stdin: []byte(req.Stdin), Timeout: timeout, MaxOutput: st.execOutput, Contain: true})
	if errors.Is(err, errNotRecorded) {
		st.log.Warn("worklet exec not in the recording", "worklet", st.name, "argv", req.Argv)
		setI32(stack, st.fail(CodeNotFound))
		return
	}
	if err != nil {
		st.log.Warn("worklet exec failed", "worklet", st.name, "argv", req.Argv, "error", err.Error())
		setI32(stack, st.fail(CodeExecFail))
		return
	}
	out, err := json.Marshal(execResponse{ExitCode: res.ExitCode, Stdout: string(res.Stdout), Stderr: string(res.Stderr)})
	if err != nil {
		setI32(stack, st.fail(CodeExecFail))
		return
	}
	st.log.Debug("worklet exec", "worklet", st.name, "argv", req.Argv, "exit_code", res.ExitCode)
	setI32(stack, st.answer(out))
}

// argvAllowed reports whether argv matches one of the phase's patterns
// whole (ABI.md section 5): the same number of elements (a last "{path}..."
// or "{word}..." standing for one or more), each literal element equal,
// each placeholder satisfied. A "{path}" must lie inside a path the phase
// declares: caps.Read, and caps.Write (which Manifest.Caps gives only in
// remediate).
func argvAllowed(caps Capabilities, argv []string) bool {
	for _, p := range caps.Exec {
		if argvMatches(p, argv, caps) {
			return true
		}
	}
	return false
}

func argvMatches(pattern, argv []string, caps Capabilities) bool {
	if len(pattern) == 0 || len(argv) < len(pattern) {
		return false
	}
	last := pattern[len(pattern)-1]
	rest, more := strings.CutSuffix(last, placeholderMore)
	more = more && (rest == placeholderPath || rest == placeholderWord)
	if !more && len(argv) != len(pattern) {
		return false
	}
	if argv[0] != pattern[0] {
		return false
	}
	for i := 1; i < len(argv); i++ {
		el := rest
		if i < len(pattern)-1 || !more {
			el = pattern[i]
		}
		if !elementMatches(el, argv[i], caps) {
			return false
		}
	}
	return true
}

func elementMatches(el, arg string, caps Capabilities) bool {
	switch el {
	case placeholderPath:
		return pathArgAllowed(arg, caps)
	case placeholderWord:
		return isWord(arg)
	case placeholderInt:
		return isInt(arg)
	}
	return el == arg
}

// maxWord is the longest "{word}".
const maxWord = 256

// isWord: ASCII letters, digits and ._:+@=- , not starting with '-' (so it
// is never an option) and neither "." nor ".." (so, having no '/', it is
// never a path but a name in the working directory, "/"), at most 256
// bytes. ABI.md lists the characters without '-' yet says a word does not
// start with one: '-' is allowed after the first byte (package and unit
// names such as "openssh-server", "apt-daily.timer").
func isWord(s string) bool {
	if s == "" || len(s) > maxWord || s[0] == '-' || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("._:+@=-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isInt: a decimal integer of ASCII digits, at most 19 of them, with no
// sign: a leading '-' would be an option to most programs ("-9" to kill).
func isInt(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pathArgAllowed: arg is an absolute, clean path with no control character,
// equal to a file grant or inside a tree grant ("/x/" covers "/x" and all
// below it) of caps.Read or caps.Write. The check is on the name alone:
// the program opens it as it always does (it may follow a symlink there).
func pathArgAllowed(arg string, caps Capabilities) bool {
	p, ok := cleanAbsArg(arg)
	if !ok {
		return false
	}
	for _, list := range [][]string{caps.Read, caps.Write} {
		for _, g := range list {
			if pathInGrant(p, g) {
				return true
			}
		}
	}
	return false
}

// cleanAbsArg returns arg in slash form when it is an absolute clean path:
// "/a/b", or on a drive "C:/a/b" ("C:\a\b" taken as that).
func cleanAbsArg(arg string) (string, bool) {
	for i := 0; i < len(arg); i++ {
		if arg[i] < 0x20 || arg[i] == 0x7f {
			return "", false
		}
	}
	p := arg
	if isDrivePath(p) {
		p = strings.ReplaceAll(p, `\`, "/")
	}
	rest := p
	if isDrivePath(rest) {
		rest = rest[2:]
	}
	if !strings.HasPrefix(rest, "/") || path.Clean(rest) != rest || slices.Contains(strings.Split(rest, "/"), "..") {
		return "", false
	}
	return p, true
}

func isDrivePath(p string) bool {
	return len(p) > 2 && p[1] == ':' && (p[2] == '/' || p[2] == '\\') &&
		(p[0] >= 'A' && p[0] <= 'Z' || p[0] >= 'a' && p[0] <= 'z')
}

// pathInGrant: p (clean, slash form) is the grant g or, when g is a tree
// ("/x/"), below it.
func pathInGrant(p, g string) bool {
	if isDrivePath(g) {
		g = strings.ReplaceAll(g, `\`, "/")
	}
	tree, isTree := strings.CutSuffix(g, "/")
	if !isTree {
		return p == g
	}
	return p == tree || strings.HasPrefix(p, tree+"/")
}
