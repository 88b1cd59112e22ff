// Package wasmdata rewrites a module's data section into fewer, larger
// segments before it is compiled.
//
// Go's wasm linker splits its data around runs of zeros: a small Go
// worklet carries some 38,000 active data segments, and wazero evaluates
// each segment's offset expression (with allocations) on every
// instantiation, which was most of a Go worklet's run time. Merging
// segments that are close to each other (filling the gap with zeros that
// fresh memory already holds) gives the same memory contents at
// instantiation, with a few hundred copies instead.
//
// Only the plain case is rewritten: every segment active on memory 0 with
// an i32.const offset, no two overlapping, and no
// DataCount section (so no memory.init or data.drop can name a segment).
// Anything else is returned unchanged.
package wasmdata

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"slices"
)

// MaxGap is the largest run of zeros merged into a segment.
const MaxGap = 4096

const (
	sectionData      = 11
	sectionDataCount = 12
)

type segment struct {
	offset uint32
	data   []byte
}

// Merge returns the module with its data segments merged, or the module
// unchanged when it is not the plain case (or not a valid module).
func Merge(wasm []byte) []byte {
	out, err := merge(wasm)
	if err != nil {
		return wasm
	}
	return out
}

var errSkip = errors.New("not rewritten")

func merge(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errSkip
	}
	pos := 8
	dataStart, dataEnd := -1, -1
	var dataBody []byte
	for pos < len(wasm) {
		id := wasm[pos]
		size, n := binary.Uvarint(wasm[pos+1:])
		if n <= 0 || size > uint64(len(wasm)) {
			return nil, errSkip
		}
		body := pos + 1 + n
		end := body + int(size)
		if end > len(wasm) {
			return nil, errSkip
		}
		switch id {
		case sectionDataCount:
			return nil, errSkip
		case sectionData:
			dataStart, dataEnd, dataBody = pos, end, wasm[body:end]
		}
		pos = end
	}
	if dataStart < 0 {
		return nil, errSkip
	}
	segs, err := parseData(dataBody)
	if err != nil || len(segs) < 2 {
		return nil, errSkip
	}
	// Disjoint segments may be applied in any order: sort them by offset.
	slices.SortStableFunc(segs, func(a, b segment) int { return cmp.Compare(a.offset, b.offset) })
	// Group segments into runs separated by gaps larger than MaxGap, then
	// copy each run into one buffer (zeros in the gaps).
	var merged []segment
	for start := 0; start < len(segs); {
		end := uint64(segs[start].offset) + uint64(len(segs[start].data))
		stop := start + 1
		for ; stop < len(segs); stop++ {
			off := uint64(segs[stop].offset)
			if off < end {
				return nil, errSkip // overlapping: order would matter
			}
			if off-end > MaxGap {
				break
			}
			end = off + uint64(len(segs[stop].data))
		}
		base := segs[start].offset
		buf := make([]byte, end-uint64(base))
		for _, s := range segs[start:stop] {
			copy(buf[s.offset-base:], s.data)
		}
		merged = append(merged, segment{offset: base, data: buf})
		start = stop
	}
	var sec []byte
	sec = binary.AppendUvarint(sec, uint64(len(merged)))
	for _, s := range merged {
		sec = append(sec, 0x00, 0x41)
		sec = appendSleb(sec, int64(int32(s.offset)))
		sec = append(sec, 0x0b)
		sec = binary.AppendUvarint(sec, uint64(len(s.data)))
		sec = append(sec, s.data...)
	}
	out := make([]byte, 0, len(wasm))
	out = append(out, wasm[:dataStart]...)
	out = append(out, sectionData)
	out = binary.AppendUvarint(out, uint64(len(sec)))
	out = append(out, sec...)
	out = append(out, wasm[dataEnd:]...)
	return out, nil
}

func parseData(b []byte) ([]segment, error) {
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return nil, errSkip
	}
	b = b[n:]
	segs := make([]segment, 0, count)
	for range count {
		// flag 0, i32.const <sleb>, end
		if len(b) < 2 || b[0] != 0x00 || b[1] != 0x41 {
			return nil, errSkip
		}
		v, m, ok := sleb32(b[2:])
		if !ok || len(b) < 2+m+1 || b[2+m] != 0x0b {
			return nil, errSkip
		}
		b = b[3+m:]
		size, k := binary.Uvarint(b)
		if k <= 0 || size > uint64(len(b)-k) {
			return nil, errSkip
		}
		segs = append(segs, segment{offset: uint32(v), data: b[k : k+int(size)]})
		b = b[k+int(size):]
	}
	if len(b) != 0 {
		return nil, errSkip
	}
	return segs, nil
}

// sleb32 decodes a signed LEB128 i32.
func sleb32(b []byte) (int32, int, bool) {
	var result int64
	var shift uint
	for i := 0; i < 5 && i < len(b); i++ {
		c := b[i]
		result |= int64(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				result |= -1 << shift
			}
			return int32(result), i + 1, true
		}
	}
	return 0, 0, false
}

// appendSleb encodes a signed LEB128 value.
func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
