//go:build (linux || darwin || freebsd) && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64)

package memlimit

import (
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// mmapMemory reserves max bytes of address space once; pages are committed
// by the kernel when first touched and returned by munmap on Free.
type mmapMemory struct {
	l    *Limiter
	buf  []byte // len is the current size; cap is the reservation
	size uint64
}

func newMemory(l *Limiter, capBytes, max uint64) experimental.LinearMemory {
	if max == 0 {
		return &sliceMemory{l: l}
	}
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
	return m.buf
}

func (m *mmapMemory) Free() {
	if m.buf != nil {
		_ = syscall.Munmap(m.buf[:cap(m.buf)])
		m.buf = nil
	}
}
