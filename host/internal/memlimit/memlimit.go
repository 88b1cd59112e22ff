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
	"context"
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// Limiter is one run's allocator.
type Limiter struct {
	limit   uint64
	refused atomic.Bool
	peak    atomic.Uint64
}

// New returns an allocator that refuses to grow any memory past limit bytes.
func New(limit uint64) *Limiter { return &Limiter{limit: limit} }

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
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *sliceMemory) Free() { m.buf = nil }
