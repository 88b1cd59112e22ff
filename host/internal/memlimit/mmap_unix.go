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
	hwm uint64 // the largest size handed out: what must be cleaned on reuse
	img *Image // what the memory started with (nil: zeros)
}

// region is a released reservation: all zeros, except that it holds img
// from address 0.
type region struct {
	b   []byte
	img *Image
}

// A few released regions are kept, clean, for the next runs: touching
// fresh anonymous pages (a page fault each) was most of the cost of
// instantiating a Go module. Release returns them to the OS.
var pool struct {
	sync.Mutex
	free []region
}

// PoolSize is how many regions are kept for reuse.
const PoolSize = 4

func newMemory(l *Limiter, capBytes, max uint64) experimental.LinearMemory {
	if max == 0 {
		return newSliceMemory(l, capBytes)
	}
	img := l.image
	if img != nil && uint64(len(img.data)) > max {
		return newSliceMemory(l, capBytes)
	}
	// Take a region holding the same image (or zeros), else, for an
	// image, one holding zeros or another image, which needs the image
	// copied (and the rest of the other one cleared). A run without an
	// image does not take a region holding one: a fresh mapping costs it
	// a page fault for each page it touches, a few for a small module,
	// less than clearing a large image.
	pool.Lock()
	pick := -1
	for i, r := range pool.free {
		if uint64(cap(r.b)) < max {
			continue
		}
		if same(r.img, img) {
			pick = i
			break
		}
		if img != nil && (pick < 0 || r.img == nil) {
			pick = i
		}
	}
	if pick >= 0 {
		r := pool.free[pick]
		pool.free = append(pool.free[:pick], pool.free[pick+1:]...)
		pool.Unlock()
		if !same(r.img, img) {
			// Holds another module's image: make it hold this one's.
			var n int
			if img != nil {
				n = copy(r.b, img.data)
			}
			if r.img != nil && len(r.img.data) > n {
				clear(r.b[n:len(r.img.data)])
			}
		}
		return &mmapMemory{l: l, buf: r.b[:0], img: img}
	}
	pool.Unlock()
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return newSliceMemory(l, capBytes)
	}
	if img != nil {
		copy(b, img.data)
	}
	return &mmapMemory{l: l, buf: b[:0], img: img}
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
	// Large high-water marks are cheaper to give back than to clean.
	if m.hwm <= 32<<20 {
		if m.img != nil {
			restore(b[:m.hwm], m.img.data)
		} else {
			clear(b[:m.hwm])
		}
		pool.Lock()
		if len(pool.free) < PoolSize {
			pool.free = append(pool.free, region{b: b, img: m.img})
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
	for _, r := range free {
		_ = syscall.Munmap(r.b)
	}
}
