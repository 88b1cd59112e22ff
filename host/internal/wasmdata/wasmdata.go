// Package wasmdata rewrites a module's data section into fewer, larger
// segments, or takes it out as a memory image, before it is compiled.
//
// Go's wasm linker splits its data around runs of zeros: a small Go
// worklet carries some 38,000 active data segments, and wazero evaluates
// each segment's offset expression (with allocations) on every
// instantiation, which was most of a Go worklet's run time. Merging
// segments that are close to each other (filling the gap with zeros that
// fresh memory already holds) gives the same memory contents at
// instantiation, with a few hundred copies instead.
//
// Split goes further: it takes the segments out altogether and returns
// the initial memory as an image, which the host's allocator keeps in
// memory it reuses (internal/memlimit), so that a run starts without
// copying any data at all.
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
	sectionMemory    = 5
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

// module is what merge and Split need of a module's sections.
type module struct {
	dataStart, dataEnd int // the data section, header included
	dataBody           []byte
	memories           int    // memories defined in the module
	memMin             uint64 // the first memory's initial pages
	memOK              bool   // a single plain (32-bit, unshared) memory
}

func parse(wasm []byte) (*module, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errSkip
	}
	m := &module{dataStart: -1, dataEnd: -1}
	pos := 8
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
			m.dataStart, m.dataEnd, m.dataBody = pos, end, wasm[body:end]
		case sectionMemory:
			b := wasm[body:end]
			count, k := binary.Uvarint(b)
			if k <= 0 {
				return nil, errSkip
			}
			m.memories = int(min(count, 2))
			if count == 1 && len(b) > k && (b[k] == 0x00 || b[k] == 0x01) {
				pages, j := binary.Uvarint(b[k+1:])
				m.memMin, m.memOK = pages, j > 0
			}
		}
		pos = end
	}
	if m.dataStart < 0 {
		return nil, errSkip
	}
	return m, nil
}

// sorted parses the data section's segments and sorts them by offset; it
// fails unless every segment is active on memory 0 with a constant offset
// and none overlaps another.
func sorted(body []byte) ([]segment, error) {
	segs, err := parseData(body)
	if err != nil {
		return nil, err
	}
	// Disjoint segments may be applied in any order: sort them by offset.
	slices.SortStableFunc(segs, func(a, b segment) int { return cmp.Compare(a.offset, b.offset) })
	for i := 1; i < len(segs); i++ {
		if uint64(segs[i].offset) < uint64(segs[i-1].offset)+uint64(len(segs[i-1].data)) {
			return nil, errSkip // overlapping: order would matter
		}
	}
	return segs, nil
}

func merge(wasm []byte) ([]byte, error) {
	m, err := parse(wasm)
	if err != nil {
		return nil, err
	}
	dataStart, dataEnd := m.dataStart, m.dataEnd
	segs, err := sorted(m.dataBody)
	if err != nil || len(segs) < 2 {
		return nil, errSkip
	}
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

// Split takes the data segments out of a module: it returns the module
// with an empty data section and the initial contents of its memory (the
// segments laid out from address 0, up to the end of the last one), for
// a memory allocator to start from instead (see internal/memlimit). It
// only splits the plain case, and only when the contents fit in the
// memory's initial size (otherwise instantiation must fail as before);
// for anything else it returns the module unchanged and a nil image.
//
// An image is not made larger than max bytes, nor mostly of zeros (over
// twice the data plus 1 MiB): a module's few bytes at a high address must
// not cost the host a large buffer.
func Split(wasm []byte, max int) ([]byte, []byte) {
	m, err := parse(wasm)
	if err != nil || m.memories != 1 || !m.memOK {
		return wasm, nil
	}
	segs, err := sorted(m.dataBody)
	if err != nil || len(segs) == 0 {
		return wasm, nil
	}
	last := segs[len(segs)-1]
	end := uint64(last.offset) + uint64(len(last.data))
	var data uint64
	for _, s := range segs {
		data += uint64(len(s.data))
	}
	if end > m.memMin<<16 || end > uint64(max) || end > 2*data+1<<20 {
		return wasm, nil
	}
	image := make([]byte, end)
	for _, s := range segs {
		copy(image[s.offset:], s.data)
	}
	out := make([]byte, 0, len(wasm)-(m.dataEnd-m.dataStart)+3)
	out = append(out, wasm[:m.dataStart]...)
	out = append(out, sectionData, 1, 0) // a data section with no segments
	out = append(out, wasm[m.dataEnd:]...)
	return out, image
}
