package host

// This file is the whole guest-facing host API (ABI.md section 4): the
// import module "amagent" with fact, exec, response and log, and the check
// of a module's imports before it is instantiated.
//
// Every guest pointer and length is read through api.Memory Read/Write with
// its ok checked; a bad one is -3, never a host panic. Functions are
// api.GoModuleFunc (no reflection) so that a fact call stays well under
// 100 ns. Per-run state travels in the call's context.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/amagent/amagent/host/internal/guardfs"
)

// Names of the host module and its functions.
const (
	HostModule  = "amagent"
	WASIModule  = "wasi_snapshot_preview1"
	FuncFact    = "fact"
	FuncExec    = "exec"
	FuncResp    = "response"
	FuncLog     = "log"
	hostFuncNum = 4
)

// Host function error codes.
const (
	CodeNotFound  = -1
	CodeDenied    = -2
	CodeMalformed = -3
	CodeExecFail  = -4
	CodeLimit     = -5
)

var (
	i32 = api.ValueTypeI32
	// signatures of the host functions: params, results.
	hostSigs = map[string][2][]api.ValueType{
		FuncFact: {{i32, i32}, {i32}},
		FuncExec: {{i32, i32}, {i32}},
		FuncResp: {{i32, i32}, {i32}},
		FuncLog:  {{i32, i32, i32}, {}},
	}
)

// runState is one run's view of the host API.
type runState struct {
	name  string
	kind  string
	phase string
	log   *slog.Logger
	env   *Environment
	allow Capabilities // exec patterns and the paths a "{path}" may name

	slot []byte

	execCalls    int
	maxExecCalls int
	hostBytes    int64
	maxHostBytes int64
	execTimeout  time.Duration
	execOutput   int
	logBytes     int
	maxLogBytes  int
	logDropped   bool

	// denied lists what the run asked for and was refused (ABI.md
	// section 7), shared with the run's file system.
	denied *Denials
	// files is the run's guarded file system (grants, path facts).
	files *guardfs.FS
	// redact removes secret parameter values from what is logged.
	redact *redactor
}

type runStateKey struct{}

func stateOf(ctx context.Context) *runState {
	st, _ := ctx.Value(runStateKey{}).(*runState)
	return st
}

func setI32(stack []uint64, v int32) { stack[0] = api.EncodeI32(v) }

// instantiateHostModule registers "amagent" in the runtime.
func instantiateHostModule(ctx context.Context, rt wazero.Runtime) error {
	b := rt.NewHostModuleBuilder(HostModule)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostFact), hostSigs[FuncFact][0], hostSigs[FuncFact][1]).
		WithParameterNames("key_ptr", "key_len").Export(FuncFact)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostExec), hostSigs[FuncExec][0], hostSigs[FuncExec][1]).
		WithParameterNames("req_ptr", "req_len").Export(FuncExec)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostResponse), hostSigs[FuncResp][0], hostSigs[FuncResp][1]).
		WithParameterNames("buf_ptr", "buf_cap").Export(FuncResp)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostLog), hostSigs[FuncLog][0], hostSigs[FuncLog][1]).
		WithParameterNames("level", "msg_ptr", "msg_len").Export(FuncLog)
	_, err := b.Instantiate(ctx)
	return err
}

// answer puts data in the slot, within the run's host-call byte budget.
func (st *runState) answer(data []byte) int32 {
	if st.hostBytes+int64(len(data)) > st.maxHostBytes {
		st.slot = nil
		st.log.Warn("worklet host-call byte limit reached", "worklet", st.name, "limit", st.maxHostBytes)
		return CodeLimit
	}
	st.hostBytes += int64(len(data))
	st.slot = data
	return int32(len(data))
}

// fail empties the slot and returns code.
func (st *runState) fail(code int32) int32 {
	st.slot = nil
	return code
}

func hostFact(ctx context.Context, mod api.Module, stack []uint64) {
	st := stateOf(ctx)
	mem := mod.Memory()
	if st == nil || mem == nil {
		setI32(stack, CodeMalformed)
		return
	}
	key, ok := mem.Read(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok {
		setI32(stack, st.fail(CodeMalformed))
		return
	}
	if len(key) > 0 && key[0] == '/' {
		setI32(stack, st.pathFact(string(key))) // path metadata (pathfact.go)
		return
	}
	v, found := st.env.scan.Fact(key)
	if !found {
		setI32(stack, st.fail(CodeNotFound))
		return
	}
	setI32(stack, st.answer(v))
}

func hostResponse(ctx context.Context, mod api.Module, stack []uint64) {
	st := stateOf(ctx)
	mem := mod.Memory()
	ptr, capacity := api.DecodeU32(stack[0]), api.DecodeI32(stack[1])
	if st == nil || mem == nil || capacity < 0 {
		setI32(stack, CodeMalformed)
		return
	}
	n := min(len(st.slot), int(capacity))
	if !mem.Write(ptr, st.slot[:n]) {
		setI32(stack, CodeMalformed)
		return
	}
	setI32(stack, int32(n))
}

func hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	st := stateOf(ctx)
	mem := mod.Memory()
	if st == nil {
		return
	}
	level := api.DecodeI32(stack[0])
	var msg []byte
	ok := false
	if mem != nil {
		msg, ok = mem.Read(api.DecodeU32(stack[1]), api.DecodeU32(stack[2]))
	}
	if !ok {
		st.log.Warn("worklet log call with an out-of-bounds message", "worklet", st.name)
		return
	}
	if st.logBytes+len(msg) > st.maxLogBytes {
		if !st.logDropped {
			st.logDropped = true
			st.log.Warn("worklet log limit reached; further messages dropped", "worklet", st.name, "limit", st.maxLogBytes)
		}
		return
	}
	st.logBytes += len(msg)
	lvl := slog.LevelInfo
	switch {
	case level <= 0:
		lvl = slog.LevelDebug
	case level == 2:
		lvl = slog.LevelWarn
	case level >= 3:
		lvl = slog.LevelError
	}
	st.log.Log(ctx, lvl, "worklet log", "worklet", st.name, "message", st.redact.String(strings.ToValidUTF8(string(msg), "\uFFFD")))
}

// checkImports refuses, before instantiation, any import outside ABI v1,
// host functions with the wrong signature, and exec in a policy.
func checkImports(cm wazero.CompiledModule, kind string) error {
	for _, f := range cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch mod {
		case WASIModule:
			continue
		case HostModule:
			sig, ok := hostSigs[name]
			if !ok {
				return fmt.Errorf("import %s.%s is not in ABI v1 (amagent has fact, exec, response and log)", mod, name)
			}
			if !slices.Equal(f.ParamTypes(), sig[0]) || !slices.Equal(f.ResultTypes(), sig[1]) {
				return fmt.Errorf("import %s.%s has signature %s, want %s", mod, name,
					sigString(f.ParamTypes(), f.ResultTypes()), sigString(sig[0], sig[1]))
			}
			if name == FuncExec && kind == KindPolicy {
				return errors.New("import amagent.exec: a policy module is given no exec")
			}
		default:
			return fmt.Errorf("import %s.%s is not in ABI v1 (only wasi_snapshot_preview1 and amagent)", mod, name)
		}
	}
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		return fmt.Errorf("import %s.%s (a memory) is not in ABI v1; a module defines and exports its own memory", mod, name)
	}
	if _, ok := cm.ExportedFunctions()["_start"]; !ok {
		return errors.New("the module exports no _start: build it as a WASI command, not a reactor or library")
	}
	return nil
}

func sigString(params, results []api.ValueType) string {
	ps := make([]string, len(params))
	for i, p := range params {
		ps[i] = api.ValueTypeName(p)
	}
	rs := make([]string, len(results))
	for i, r := range results {
		rs[i] = api.ValueTypeName(r)
	}
	return "(" + strings.Join(ps, ", ") + ") -> (" + strings.Join(rs, ", ") + ")"
}
