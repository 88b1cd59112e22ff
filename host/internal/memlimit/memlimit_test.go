package memlimit

import "testing"

func TestLimitAndReuseIsZeroed(t *testing.T) {
	l := New(4 << 20)
	m := l.Allocate(64<<10, 1<<30)
	b := m.Reallocate(1 << 20)
	if len(b) != 1<<20 {
		t.Fatalf("len %d", len(b))
	}
	for i := range b {
		b[i] = 0xAA
	}
	if b2 := m.Reallocate(2 << 20); len(b2) != 2<<20 || b2[0] != 0xAA || b2[len(b2)-1] != 0 {
		t.Fatal("growth lost data or is not zero beyond the old size")
	}
	if m.Reallocate(5<<20) != nil || !l.Refused() {
		t.Fatal("growth past the limit was not refused")
	}
	if l.Peak() != 2<<20 {
		t.Errorf("peak %d", l.Peak())
	}
	m.Free()
	// The next run may get the same region back: it must be all zeros.
	for range 3 {
		l2 := New(4 << 20)
		m2 := l2.Allocate(0, 1<<30)
		b2 := m2.Reallocate(4 << 20)
		for i, c := range b2 {
			if c != 0 {
				t.Fatalf("reused memory not zero at %d", i)
			}
		}
		for i := range b2 {
			b2[i] = 0x55
		}
		m2.Free()
	}
	Release()
}

func TestSliceMemory(t *testing.T) {
	l := New(1 << 20)
	m := &sliceMemory{l: l}
	if b := m.Reallocate(64 << 10); len(b) != 64<<10 {
		t.Fatal(len(b))
	}
	if m.Reallocate(2<<20) != nil || !l.Refused() {
		t.Fatal("not refused")
	}
	m.Free()
}
