//go:build (linux || darwin || freebsd) && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64)

package memlimit

import (
	"sync"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapMemory reserves max bytes of address space once; pages are committed
// by the kernel when first touched.
type mmapMemory struct {
	l   *Limiter
	buf []byte // len is the current size; cap is the reservation
	hwm uint64 // the largest size handed out: what must be zeroed on reuse
}

// A few released regions are kept, zeroed, for the next runs: touching
// fresh anonymous pages (a page fault each) was most of the cost of
// instantiating a Go module. Release returns them to the OS.
var pool struct {
	sync.Mutex
	free [][]byte
}

// PoolSize is how many regions are kept for reuse.
const PoolSize = 4

func newMemory(l *Limiter, capBytes, max uint64) experimental.LinearMemory {
	if max == 0 {
		return &sliceMemory{l: l}
	}
	pool.Lock()
	for i, b := range pool.free {
		if uint64(cap(b)) >= max {
			pool.free = append(pool.free[:i], pool.free[i+1:]...)
			pool.Unlock()
			return &mmapMemory{l: l, buf: b[:0]}
		}
	}
	pool.Unlock()
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return &sliceMemory{l: l, buf: make([]byte, 0, capBytes)}
	}
	return &mmapMemory{l: l, buf: b[:0]}
}

func (m *mmapMemory) Reallocate(size uint64) []byte {
	if size > uint64(cap(m.buf)) || !m.l.grant(size) {
		m.l.refused.Store(true)
		return nil
	}
	m.buf = m.buf[:size]
	m.hwm = max(m.hwm, size)
	return m.buf
}

func (m *mmapMemory) Free() {
	if m.buf == nil {
		return
	}
	b := m.buf[:cap(m.buf)]
	m.buf = nil
	// Large high-water marks are cheaper to give back than to zero.
	if m.hwm <= 32<<20 {
		clear(b[:m.hwm])
		pool.Lock()
		if len(pool.free) < PoolSize {
			pool.free = append(pool.free, b)
			pool.Unlock()
			return
		}
		pool.Unlock()
	}
	_ = syscall.Munmap(b)
}

// Release unmaps the regions kept for reuse (after a scan).
func Release() {
	pool.Lock()
	free := pool.free
	pool.free = nil
	pool.Unlock()
	for _, b := range free {
		_ = syscall.Munmap(b)
	}
}
