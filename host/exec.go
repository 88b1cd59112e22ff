package host

// This file is the exec host function (ABI.md section 4) and the matching of
// an exec request against the manifest's argv patterns (section 5).

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
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
	res, err := st.env.exec(ctx, sysexec.Request{Argv: req.Argv, Stdin: []byte(req.Stdin), Timeout: timeout, MaxOutput: st.execOutput})
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

// argvAllowed: argv starts with one of the prefixes, element by element.
func argvAllowed(prefixes [][]string, argv []string) bool {
	for _, p := range prefixes {
		if len(p) > 0 && len(argv) >= len(p) && slices.Equal(argv[:len(p)], p) {
			return true
		}
	}
	return false
}

