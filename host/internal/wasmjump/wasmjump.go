// Package wasmjump rewrites the forward jumps of Go-compiled WebAssembly
// into direct branches before the module is compiled.
//
// Go's wasm backend gives every function that can be resumed a dispatch
// loop: a loop whose body opens one block per basic block and starts
// with "local.get $pc; br_table", and every jump to another basic block
// is "i32.const K; local.set $pc; br $loop", so that the br_table picks
// the block. With wazero's WithCloseOnContextDone (which the host keeps
// on, so that a deadline stops even a tight loop), every pass through a
// loop header calls out of the guest to check whether the module was
// closed: every jump of a Go module costs that call, and they were the
// largest part of a Go worklet's run.
//
// A jump to a later basic block does not need the loop: the block it
// lands in encloses the jump, so "br $loop" can become "br $block" with
// the same effect (the local is still set to K, and the br_table would
// have picked that block for K). Jumps to the same or an earlier block
// keep going through the loop header, so every cycle in the function
// still passes a header and is still checked: a module that loops
// forever is still stopped.
//
// A dispatch loop that no branch goes back to any more (a function
// without a loop of its own, most of them) is then entered once and
// left: it becomes a block, and the function's entry is no longer
// checked either.
//
// Only that exact shape is rewritten, in functions that decode cleanly;
// any other function, and any module that does not parse, is left as it
// is.
package wasmjump

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

const sectionCode = 10

// Stats counts what Rewrite found.
type Stats struct {
	Functions   int // functions in the code section
	Dispatch    int // dispatch loops found
	Rewritten   int // forward jumps turned into direct branches
	Backward    int // jumps left on the loop (to the same or an earlier block)
	Unlooped    int // dispatch loops that nothing branches back to, made blocks
	SkippedFunc int // functions left alone (an opcode this package does not decode)
}

// Rewrite returns the module with the forward jumps of its dispatch loops
// made direct, or the module unchanged when there is nothing to rewrite
// or it does not parse.
func Rewrite(wasm []byte) []byte {
	out, _, err := rewrite(wasm)
	if err != nil {
		return wasm
	}
	return out
}

var errSkip = errors.New("not rewritten")

func rewrite(wasm []byte) ([]byte, Stats, error) {
	var st Stats
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, st, errSkip
	}
	pos := 8
	codeStart, codeEnd := -1, -1
	var codeBody []byte
	for pos < len(wasm) {
		id := wasm[pos]
		size, n := binary.Uvarint(wasm[pos+1:])
		if n <= 0 || size > uint64(len(wasm)) {
			return nil, st, errSkip
		}
		body := pos + 1 + n
		end := body + int(size)
		if end > len(wasm) {
			return nil, st, errSkip
		}
		if id == sectionCode {
			codeStart, codeEnd, codeBody = pos, end, wasm[body:end]
		}
		pos = end
	}
	if codeStart < 0 {
		return nil, st, errSkip
	}
	count, n := binary.Uvarint(codeBody)
	if n <= 0 || count > uint64(len(codeBody)) {
		return nil, st, errSkip
	}
	b := codeBody[n:]
	sec := binary.AppendUvarint(make([]byte, 0, len(codeBody)), count)
	for range count {
		size, k := binary.Uvarint(b)
		if k <= 0 || size > uint64(len(b)-k) {
			return nil, st, errSkip
		}
		fn := b[k : k+int(size)]
		b = b[k+int(size):]
		st.Functions++
		nf, fst, err := rewriteFunc(fn)
		if err != nil {
			st.SkippedFunc++
			nf = fn
		} else {
			st.Dispatch += fst.Dispatch
			st.Rewritten += fst.Rewritten
			st.Backward += fst.Backward
			st.Unlooped += fst.Unlooped
		}
		sec = binary.AppendUvarint(sec, uint64(len(nf)))
		sec = append(sec, nf...)
	}
	if len(b) != 0 {
		return nil, st, errSkip
	}
	if st.Rewritten == 0 && st.Unlooped == 0 {
		return nil, st, errSkip
	}
	out := make([]byte, 0, len(wasm))
	out = append(out, wasm[:codeStart]...)
	out = append(out, sectionCode)
	out = binary.AppendUvarint(out, uint64(len(sec)))
	out = append(out, sec...)
	out = append(out, wasm[codeEnd:]...)
	return out, st, nil
}

// frame is one open block, loop or if.
type frame struct {
	disp *dispatch // the dispatch loop this frame is, or whose block it is
	// blockIdx is j for the dispatch loop's j-th block (the one whose end
	// starts basic block j), -1 for the loop itself and other frames.
	blockIdx int
}

// dispatch is one dispatch loop: k blocks, the local holding the target
// and the br_table's labels (relative to the innermost block).
type dispatch struct {
	k      int
	local  uint32
	labels []uint32
	def    uint32
	pos    int  // of the loop opcode
	used   bool // a branch still goes back to the loop
}

// target is the basic block the br_table picks for the value v.
func (d *dispatch) target(v uint32) int {
	if uint64(v) < uint64(len(d.labels)) {
		return int(d.labels[v])
	}
	return int(d.def)
}

// insn is one decoded instruction: its opcode (0xfc-prefixed ones as
// 0xfc00+sub) and where it starts and ends in the body.
type insn struct {
	op         uint32
	start, end int
	imm        uint64 // the first immediate, where the rewrite needs it
}

// edit replaces fn[start:end].
type edit struct {
	start, end int
	with       []byte
}

func rewriteFunc(fn []byte) ([]byte, Stats, error) {
	var st Stats
	pos, err := skipLocals(fn)
	if err != nil {
		return nil, st, err
	}
	var stack []frame
	var edits []edit
	var loops []*dispatch
	var prev [2]insn // the two instructions before the current one
	stack = append(stack, frame{blockIdx: -1})
	// target is the frame a branch of the given depth goes to; a branch
	// that stays on a dispatch loop marks it used.
	target := func(depth uint64) (frame, error) {
		if depth >= uint64(len(stack)) {
			return frame{}, errSkip
		}
		return stack[len(stack)-1-int(depth)], nil
	}
	for pos < len(fn) {
		in, err := decode(fn, pos)
		if err != nil {
			return nil, st, err
		}
		switch in.op {
		case 0x02, 0x04: // block, if
			stack = append(stack, frame{blockIdx: -1})
		case 0x03: // loop
			if d, next, ok := matchDispatch(fn, in); ok {
				st.Dispatch++
				d.pos = in.start
				loops = append(loops, d)
				stack = append(stack, frame{disp: d, blockIdx: -1})
				for j := d.k - 1; j >= 0; j-- {
					stack = append(stack, frame{disp: d, blockIdx: j})
				}
				prev = [2]insn{}
				pos = next // after the br_table; b_0's end comes next
				continue
			}
			stack = append(stack, frame{blockIdx: -1})
		case 0x0b: // end
			if len(stack) == 0 {
				return nil, st, errSkip
			}
			stack = stack[:len(stack)-1]
		case 0x0d: // br_if
			f, err := target(in.imm)
			if err != nil {
				return nil, st, err
			}
			if f.disp != nil && f.blockIdx < 0 {
				f.disp.used = true
			}
		case 0x0e: // br_table
			labels, def, ok := brTableLabels(fn[in.start+1 : in.end])
			if !ok {
				return nil, st, errSkip
			}
			for _, l := range append(labels, def) {
				f, err := target(uint64(l))
				if err != nil {
					return nil, st, err
				}
				if f.disp != nil && f.blockIdx < 0 {
					f.disp.used = true
				}
			}
		case 0x0c: // br
			depth := int(in.imm)
			f, err := target(in.imm)
			if err != nil {
				return nil, st, err
			}
			if f.disp == nil || f.blockIdx >= 0 {
				break
			}
			d := f.disp
			if prev[1].op != 0x21 || prev[0].op != 0x41 || uint32(prev[1].imm) != d.local {
				d.used = true
				break
			}
			// Which basic block are we in? Inside block j's successor
			// code, blocks j+1..k-1 are still open.
			cur := d.k - 1
			tgtDepth := -1
			t := d.target(uint32(prev[0].imm))
			for i := len(stack) - 1; i > len(stack)-1-depth; i-- {
				if stack[i].disp == d && stack[i].blockIdx >= 0 {
					if stack[i].blockIdx-1 < cur {
						cur = stack[i].blockIdx - 1
					}
					if stack[i].blockIdx == t {
						tgtDepth = len(stack) - 1 - i
					}
				}
			}
			if t > cur && tgtDepth >= 0 {
				edits = append(edits, edit{in.start, in.end, binary.AppendUvarint([]byte{0x0c}, uint64(tgtDepth))})
				st.Rewritten++
			} else {
				d.used = true
				st.Backward++
			}
		}
		prev[0], prev[1] = prev[1], in
		pos = in.end
	}
	if len(stack) != 0 {
		return nil, st, errSkip
	}
	// A dispatch loop that no branch goes back to any more is entered once
	// and left: it is a block (and no longer checked on entry).
	for _, d := range loops {
		if !d.used {
			edits = append(edits, edit{d.pos, d.pos + 1, []byte{0x02}})
			st.Unlooped++
		}
	}
	if len(edits) == 0 {
		return fn, st, nil
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.start - b.start })
	out := make([]byte, 0, len(fn))
	copied := 0
	for _, e := range edits {
		out = append(out, fn[copied:e.start]...)
		out = append(out, e.with...)
		copied = e.end
	}
	return append(out, fn[copied:]...), st, nil
}

// matchDispatch recognises "loop (block)^k local.get $pc br_table" with
// void block types and every label of the table inside the k blocks. It
// returns where decoding continues (after the br_table).
func matchDispatch(fn []byte, loop insn) (*dispatch, int, bool) {
	if loop.imm != 0x40 {
		return nil, 0, false
	}
	pos := loop.end
	k := 0
	for {
		in, err := decode(fn, pos)
		if err != nil {
			return nil, 0, false
		}
		if in.op != 0x02 {
			break
		}
		if in.imm != 0x40 {
			return nil, 0, false
		}
		k++
		pos = in.end
	}
	if k == 0 {
		return nil, 0, false
	}
	get, err := decode(fn, pos)
	if err != nil || get.op != 0x20 {
		return nil, 0, false
	}
	tbl, err := decode(fn, get.end)
	if err != nil || tbl.op != 0x0e {
		return nil, 0, false
	}
	labels, def, ok := brTableLabels(fn[tbl.start+1 : tbl.end])
	if !ok || int(def) >= k {
		return nil, 0, false
	}
	for _, l := range labels {
		if int(l) >= k {
			return nil, 0, false
		}
	}
	return &dispatch{k: k, local: uint32(get.imm), labels: labels, def: def}, tbl.end, true
}

func brTableLabels(b []byte) ([]uint32, uint32, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, 0, false
	}
	b = b[k:]
	labels := make([]uint32, 0, n)
	for range n + 1 {
		v, k := binary.Uvarint(b)
		if k <= 0 || v > 1<<32-1 {
			return nil, 0, false
		}
		labels = append(labels, uint32(v))
		b = b[k:]
	}
	return labels[:n], labels[n], len(b) == 0
}

func skipLocals(fn []byte) (int, error) {
	n, k := binary.Uvarint(fn)
	if k <= 0 || n > uint64(len(fn)) {
		return 0, errSkip
	}
	pos := k
	for range n {
		_, k := binary.Uvarint(fn[pos:])
		if k <= 0 || pos+k >= len(fn) {
			return 0, errSkip
		}
		pos += k + 1 // count, then one value type byte
	}
	return pos, nil
}

// decode reads one instruction at pos. Opcodes outside the core
// instruction set with bulk memory, reference types, sign extension and
// saturating truncation (SIMD, threads, exceptions, GC, tail calls) are
// an error: the function is then left alone.
func decode(b []byte, pos int) (insn, error) {
	in := insn{start: pos}
	if pos >= len(b) {
		return in, errSkip
	}
	op := b[pos]
	in.op = uint32(op)
	p := pos + 1
	var err error
	u32 := func() uint64 {
		if err != nil {
			return 0
		}
		v, k := binary.Uvarint(b[p:])
		if k <= 0 || k > 5 || v > 1<<32-1 {
			err = errSkip
			return 0
		}
		p += k
		return v
	}
	sleb := func(max int) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		var shift uint
		for i := 0; i < max; i++ {
			if p >= len(b) {
				break
			}
			c := b[p]
			p++
			v |= uint64(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				if shift < 64 && c&0x40 != 0 {
					v |= ^uint64(0) << shift
				}
				return v
			}
		}
		err = errSkip
		return 0
	}
	fixed := func(n int) {
		if p+n > len(b) {
			err = errSkip
		}
		p += n
	}
	switch {
	case op == 0x00, op == 0x01, op == 0x05, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1:
	case op == 0x02, op == 0x03, op == 0x04: // block type: 0x40, a value type, or a type index (s33)
		if p >= len(b) {
			return in, errSkip
		}
		if c := b[p]; c == 0x40 || (c >= 0x7b && c <= 0x7f) || c == 0x70 || c == 0x6f {
			in.imm = uint64(c)
			p++
		} else if c&0xc0 == 0x40 {
			return in, errSkip // another value type (GC proposal)
		} else {
			in.imm = 1 << 40 // a type index: never "void"
			sleb(5)
		}
	case op == 0x0c, op == 0x0d, op == 0x10, op == 0xd2,
		op >= 0x20 && op <= 0x26:
		in.imm = u32()
	case op == 0x0e:
		n := u32()
		if err == nil && n > uint64(len(b)) {
			return in, errSkip
		}
		for range n + 1 {
			u32()
		}
	case op == 0x11: // call_indirect type table
		in.imm = u32()
		u32()
	case op == 0x1c: // select with types
		n := u32()
		if err == nil && n > uint64(len(b)) {
			return in, errSkip
		}
		fixed(int(n))
	case op >= 0x28 && op <= 0x3e: // memarg
		align := u32()
		if align&0x40 != 0 {
			u32() // memory index (multi-memory)
		}
		u32()
	case op == 0x3f, op == 0x40:
		u32()
	case op == 0x41:
		in.imm = uint64(uint32(sleb(5)))
	case op == 0x42:
		sleb(10)
	case op == 0x43:
		fixed(4)
	case op == 0x44:
		fixed(8)
	case op >= 0x45 && op <= 0xc4:
	case op == 0xd0:
		fixed(1)
	case op == 0xfc:
		sub := u32()
		in.op = 0xfc00 + uint32(sub)
		switch {
		case sub <= 7:
		case sub == 8, sub == 10, sub == 12, sub == 14: // two indices
			u32()
			u32()
		case sub == 9, sub == 11, sub == 13, sub == 15, sub == 16, sub == 17:
			u32()
		default:
			return in, errSkip
		}
	default:
		return in, errSkip
	}
	if err != nil || p > len(b) {
		return in, errSkip
	}
	in.end = p
	return in, nil
}
