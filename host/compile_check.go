package host

import (
	"fmt"

	"github.com/amagent/amagent/host/internal/wasmjump"
)

// The structural bounds on a module, checked before anything compiles
// it. wazero's compiler takes time and memory that grow faster than
// linearly with the control structures of one function (40,000 blocks in
// one function took 7 s and 240 MB of allocations; 400,000 did not finish
// in 10 minutes), so a module is refused as a compile limit before it
// reaches the compiler when one function is larger than any real program
// needs. The figures leave a margin of more than 10x over what the
// repository's modules reach (TestShippedModulesWithinCompileBounds): the
// largest function of a Go worklet (3.5 MB with the Go runtime) has a body
// of 29 KB and 799 blocks, loops and ifs nested 549 deep; C, Rust and
// AssemblyScript ones at most 263 nested 78 deep; no function has more
// than 39 locals. Within the bounds, one function compiles in about half a
// second; a module of many such functions is stopped by the time bound.
const (
	// maxFunctions is the most functions a module may define.
	maxFunctions = 100_000
	// maxFuncBody is the largest function body in bytes.
	maxFuncBody = 1 << 20
	// maxControl is the most block, loop and if instructions of one
	// function.
	maxControl = 12_000
	// maxDepth is the deepest nesting of blocks, loops and ifs.
	maxDepth = 6_000
	// maxLocals is the most locals one function declares.
	maxLocals = 50_000
	// maxControlTotal is the most block, loop and if instructions of the
	// whole module.
	maxControlTotal = 2_000_000
)

// shape is what the bounds measure of a module.
type shape struct {
	functions    int
	maxBody      int // bytes of the largest function body
	maxControl   int // control instructions of the function with the most
	maxDepth     int
	maxLocals    uint64
	controlTotal int
	opaque       int // functions with an instruction the reader does not know
}

// measure reads the module's code section. Bytes that do not parse are
// left to the compiler, which refuses them at once; a function with an
// instruction the reader does not know is counted as opaque, measured up
// to it.
func measure(wasm []byte) shape {
	var s shape
	bodies, _, err := wasmjump.Code(wasm)
	if err != nil {
		return s
	}
	s.functions = len(bodies)
	for _, fn := range bodies {
		s.maxBody = max(s.maxBody, len(fn))
		n, pos, err := wasmjump.Locals(fn)
		if err != nil {
			continue
		}
		s.maxLocals = max(s.maxLocals, n)
		control, depth := 0, 0
		for pos < len(fn) {
			op, next, err := wasmjump.Instr(fn, pos)
			if err != nil {
				s.opaque++
				break
			}
			switch op {
			case 0x02, 0x03, 0x04: // block, loop, if
				control++
				depth++
				s.maxDepth = max(s.maxDepth, depth)
			case 0x0b: // end
				depth--
			}
			pos = next
		}
		s.maxControl = max(s.maxControl, control)
		s.controlTotal += control
	}
	return s
}

// check refuses a module over the structural bounds as a compile limit.
func (s shape) check() error {
	over := func(what string, n, limit any) error {
		return &CompileLimitError{Reason: fmt.Sprintf("%s is %v, over the bound of %v", what, n, limit)}
	}
	switch {
	case s.functions > maxFunctions:
		return over("the number of functions", s.functions, maxFunctions)
	case s.maxBody > maxFuncBody:
		return over("the largest function body (bytes)", s.maxBody, maxFuncBody)
	case s.maxControl > maxControl:
		return over("the most blocks, loops and ifs in one function", s.maxControl, maxControl)
	case s.maxDepth > maxDepth:
		return over("the deepest nesting of blocks", s.maxDepth, maxDepth)
	case s.maxLocals > maxLocals:
		return over("the most locals in one function", s.maxLocals, maxLocals)
	case s.controlTotal > maxControlTotal:
		return over("the module's blocks, loops and ifs", s.controlTotal, maxControlTotal)
	}
	return nil
}

// CompileLimitError is a module refused because compiling it would pass,
// or passed, the agent's compile bound (ABI.md section 5): its result's
// error kind is "compile limit", and the same bytes are refused again at
// once.
type CompileLimitError struct{ Reason string }

func (e *CompileLimitError) Error() string { return KindCompileLimit + ": " + e.Reason }
