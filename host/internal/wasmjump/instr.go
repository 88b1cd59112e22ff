package wasmjump

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// This file exports the package's reader for other checks of a module
// before it is compiled (the host's compile bounds): the code section's
// function bodies, their locals and their instructions. Rewrite does not
// use it and is not changed by it.

// ErrMalformed is returned for bytes that do not decode.
var ErrMalformed = errors.New("malformed module")

// Code returns the module's function bodies (locals and instructions) in
// order, and the size of the code section; no code section is (nil, 0, nil).
func Code(wasm []byte) (bodies [][]byte, size int, err error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, 0, ErrMalformed
	}
	var code []byte
	for pos := 8; pos < len(wasm); {
		id := wasm[pos]
		n, k := binary.Uvarint(wasm[pos+1:])
		if k <= 0 || n > uint64(len(wasm)-pos-1-k) {
			return nil, 0, ErrMalformed
		}
		body := pos + 1 + k
		if id == sectionCode {
			code = wasm[body : body+int(n)]
		}
		pos = body + int(n)
	}
	if code == nil {
		return nil, 0, nil
	}
	count, k := binary.Uvarint(code)
	if k <= 0 || count > uint64(len(code)) {
		return nil, 0, ErrMalformed
	}
	b := code[k:]
	bodies = make([][]byte, 0, count)
	for range count {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, 0, ErrMalformed
		}
		bodies = append(bodies, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	return bodies, len(code), nil
}

// Locals reads a function body's local declarations: how many locals it
// declares (summed over its groups, saturating at 1<<32) and where its
// instructions start.
func Locals(fn []byte) (n uint64, start int, err error) {
	groups, k := binary.Uvarint(fn)
	if k <= 0 || groups > uint64(len(fn)) {
		return 0, 0, ErrMalformed
	}
	pos := k
	for range groups {
		c, k := binary.Uvarint(fn[pos:])
		if k <= 0 || pos+k >= len(fn) {
			return 0, 0, ErrMalformed
		}
		n = min(n+min(c, 1<<32), 1<<32)
		pos += k + 1 // count, then one value type byte
	}
	return n, pos, nil
}

// Instr decodes the instruction at pos of a function body: its opcode
// (0xfc- and 0xfd-prefixed ones as 0xfc0000+sub and 0xfd0000+sub) and
// where the next one starts. It knows the instructions of Rewrite's
// decoder and the fixed-width SIMD ones; any other is ErrMalformed.
func Instr(fn []byte, pos int) (op uint32, next int, err error) {
	if pos < len(fn) && fn[pos] == 0xfd {
		return simd(fn, pos)
	}
	in, err := decode(fn, pos)
	if err != nil {
		return 0, 0, ErrMalformed
	}
	if in.op >= 0xfc00 {
		in.op = 0xfc0000 + (in.op - 0xfc00)
	}
	return in.op, in.end, nil
}

// simd decodes a 0xfd-prefixed (SIMD and relaxed SIMD) instruction.
func simd(fn []byte, pos int) (uint32, int, error) {
	sub, k := binary.Uvarint(fn[pos+1:])
	if k <= 0 || k > 5 || sub > 0x113 {
		return 0, 0, ErrMalformed
	}
	p := pos + 1 + k
	memarg := func() bool {
		align, k := binary.Uvarint(fn[p:])
		if k <= 0 {
			return false
		}
		p += k
		if align&0x40 != 0 {
			_, k = binary.Uvarint(fn[p:])
			if k <= 0 {
				return false
			}
			p += k
		}
		_, k = binary.Uvarint(fn[p:])
		p += k
		return k > 0
	}
	ok := true
	switch {
	case sub <= 11, sub == 92, sub == 93:
		ok = memarg()
	case sub == 12, sub == 13:
		p += 16
	case sub >= 21 && sub <= 34:
		p++
	case sub >= 84 && sub <= 91:
		ok = memarg()
		p++
	}
	if !ok || p > len(fn) {
		return 0, 0, ErrMalformed
	}
	return 0xfd0000 + uint32(sub), p, nil
}
