// Package memlimit gives each guest run its own memory limit and a record
// of whether the guest asked for more than it was allowed.
//
// wazero's runtime-wide memory limit is fixed when the runtime is made; a
// per-run limit is enforced here instead, through the experimental memory
// allocator hook: growth past the limit is refused (memory.grow returns -1)
// and remembered, so that the host reports the run as "memory limit".
//
// On 64-bit Unix the linear memory is an anonymous mapping reserved at the
// limit: growing it never copies, untouched pages cost nothing, and the
// memory goes back to the OS as soon as the run ends instead of waiting for
// the Go garbage collector. Elsewhere it is an ordinary Go slice.
package memlimit

import (
	"bytes"
	"context"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// Limiter is one run's allocator.
type Limiter struct {
	limit   uint64
	image   *Image
	refused atomic.Bool
	peak    atomic.Uint64
}

// New returns an allocator that refuses to grow any memory past limit bytes.
func New(limit uint64) *Limiter { return &Limiter{limit: limit} }

// Image is the initial contents of a module's memory, taken out of its
// data segments before compiling (wasmdata.Split).
//
// The memory of a run that starts from an image is returned to the pool
// restored to the image: only the pages that differ from it are copied
// back (and only the non-zero pages beyond it cleared), and the next run
// of the same module starts without copying anything. A Go module writes
// a few dozen of the hundreds of pages its data fills, so this replaces
// copying the data into memory and zeroing it all after the run.
type Image struct {
	key  string
	data []byte
}

// NewImage wraps a memory image; data must not change afterwards. Images
// with the same key (the module's sha256) must hold the same data: memory
// released by a run of one is reused as is by a run of the other.
func NewImage(key string, data []byte) *Image { return &Image{key: key, data: data} }

// same reports whether memory holding a holds b.
func same(a, b *Image) bool { return a == b || (a != nil && b != nil && a.key == b.key) }

// Len is the image's length in bytes.
func (i *Image) Len() int { return len(i.data) }

// WithImage makes the memory the limiter allocates start with img (nil:
// all zeros). The module must have had its data segments taken out, and
// its initial memory must hold img.
func (l *Limiter) WithImage(img *Image) *Limiter {
	l.image = img
	return l
}

// WithContext registers l in ctx for the instantiation.
func (l *Limiter) WithContext(ctx context.Context) context.Context {
	return experimental.WithMemoryAllocator(ctx, l)
}

// Refused reports whether a growth was refused.
func (l *Limiter) Refused() bool { return l.refused.Load() }

// Peak is the largest memory size granted, in bytes.
func (l *Limiter) Peak() uint64 { return l.peak.Load() }

// Allocate implements experimental.MemoryAllocator.
func (l *Limiter) Allocate(capBytes, maxBytes uint64) experimental.LinearMemory {
	max := maxBytes
	if max > l.limit {
		max = l.limit
	}
	return newMemory(l, capBytes, max)
}

func (l *Limiter) grant(size uint64) bool {
	if size > l.limit {
		l.refused.Store(true)
		return false
	}
	for {
		p := l.peak.Load()
		if size <= p || l.peak.CompareAndSwap(p, size) {
			return true
		}
	}
}

// sliceMemory is the portable LinearMemory.
type sliceMemory struct {
	l   *Limiter
	buf []byte
}

func (m *sliceMemory) Reallocate(size uint64) []byte {
	if !m.l.grant(size) {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	newCap := uint64(cap(m.buf)) * 2
	if newCap < size {
		newCap = size
	}
	if newCap > m.l.limit {
		newCap = m.l.limit
	}
	nb := make([]byte, size, newCap)
	// Beyond len, the backing array holds the image not yet exposed, or zeros.
	copy(nb, m.buf[:min(uint64(cap(m.buf)), size)])
	m.buf = nb
	return m.buf
}

func (m *sliceMemory) Free() { m.buf = nil }

// newSliceMemory is a Go slice holding img (beyond its length, until the
// first Reallocate).
func newSliceMemory(l *Limiter, capBytes uint64) *sliceMemory {
	if l.image == nil {
		return &sliceMemory{l: l, buf: make([]byte, 0, capBytes)}
	}
	buf := make([]byte, len(l.image.data), max(capBytes, uint64(len(l.image.data))))
	copy(buf, l.image.data)
	return &sliceMemory{l: l, buf: buf[:0]}
}

const pageSize = 4096

var zeroPage [pageSize]byte

// restore makes b hold img followed by zeros, writing only the pages that
// differ (reading is cheaper than writing, and a run changes few pages of
// its image).
func restore(b, img []byte) {
	for p := 0; p < len(b); p += pageSize {
		e := min(p+pageSize, len(b))
		page := b[p:e]
		switch {
		case e <= len(img):
			if !bytes.Equal(page, img[p:e]) {
				copy(page, img[p:e])
			}
		case p < len(img):
			copy(page, img[p:])
			clear(page[len(img)-p:])
		default:
			if !bytes.Equal(page, zeroPage[:len(page)]) {
				clear(page)
			}
		}
	}
}
