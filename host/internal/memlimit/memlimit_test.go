package memlimit

import (
	"bytes"
	"testing"
)

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

// TestImage checks that memory starting from an image holds it, and that
// memory released after a run that wrote into it and beyond is handed to
// the next run (of the same image, another image or none) exactly as that
// run must start.
func TestImage(t *testing.T) {
	defer Release()
	mkImage := func(n int, seed byte) *Image {
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i*7)
		}
		return NewImage(string(rune('a'+seed)), b)
	}
	a := mkImage(300<<10+123, 1) // not a whole number of pages
	b := mkImage(100<<10, 9)
	a2 := mkImage(300<<10+123, 1) // the same module compiled again
	check := func(buf []byte, img *Image, step string) {
		t.Helper()
		n := 0
		if img != nil {
			n = len(img.data)
			if !bytes.Equal(buf[:n], img.data) {
				t.Fatalf("%s: image not in memory", step)
			}
		}
		for i, c := range buf[n:] {
			if c != 0 {
				t.Fatalf("%s: byte %d beyond the image is %d", step, n+i, c)
			}
		}
	}
	run := func(img *Image, step string) {
		t.Helper()
		l := New(4 << 20).WithImage(img)
		m := l.Allocate(64<<10, 1<<30)
		buf := m.Reallocate(512 << 10)
		check(buf, img, step)
		buf = m.Reallocate(1 << 20)
		check(buf, img, step+" after growing")
		// Write into the image, across its end and beyond it.
		for _, off := range []int{0, 5000, 300 << 10, 300<<10 + 200, 700 << 10, 1<<20 - 1} {
			buf[off] ^= 0xff
		}
		m.Free()
	}
	for _, step := range []struct {
		img  *Image
		name string
	}{{a, "a"}, {a, "a again"}, {b, "b after a"}, {nil, "zeros after b"}, {a, "a after zeros"}, {a2, "a's twin"}, {b, "b"}, {a, "a after b"}} {
		run(step.img, step.name)
	}
	// The portable memory holds the image too.
	l := New(4 << 20).WithImage(a)
	m := newSliceMemory(l, 64<<10)
	check(m.Reallocate(512<<10), a, "slice")
	check(m.Reallocate(2<<20), a, "slice after growing")
}

func TestRestore(t *testing.T) {
	img := bytes.Repeat([]byte{1, 2, 3}, 5000)
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i)
	}
	restore(b, img)
	if !bytes.Equal(b[:len(img)], img) || !bytes.Equal(b[len(img):], make([]byte, len(b)-len(img))) {
		t.Fatal("not restored")
	}
}
