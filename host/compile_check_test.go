package host

import (
	"os"
	"path/filepath"
	"testing"
)

// TestShippedModulesWithinCompileBounds: every module in the repository
// (worklets, SDK templates and conformance modules, test modules) is well
// inside the structural compile bounds, and the reader knows all of their
// instructions.
func TestShippedModulesWithinCompileBounds(t *testing.T) {
	var n int
	for _, root := range []string{"../worklets", "../wasm-modules", "../testdata", "testdata"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".wasm" {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n++
			s := measure(b)
			if err := s.check(); err != nil {
				t.Errorf("%s: %v", p, err)
			}
			if s.opaque > 0 {
				t.Errorf("%s: %d functions the reader could not decode", p, s.opaque)
			}
			// A tenth of each bound: a real module should be far from it.
			if s.maxControl > maxControl/10 || s.maxDepth > maxDepth/10 || s.maxLocals > maxLocals/10 {
				t.Errorf("%s: %+v is within 10x of a bound", p, s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 20 {
		t.Fatalf("found %d modules", n)
	}
}

// TestMeasureSIMD: SIMD instructions are decoded, so that a function using
// them is still measured.
func TestMeasureSIMD(t *testing.T) {
	body := []byte{0}               // no locals
	body = append(body, 0x02, 0x40) // block
	body = append(body, 0xfd, 0x0c) // v128.const
	body = append(body, make([]byte, 16)...)
	body = append(body, 0xfd, 0x15, 0x03)                      // i8x16.extract_lane_s 3
	body = append(body, 0x1a)                                  // drop
	body = append(body, 0x41, 0, 0xfd, 0x00, 0x04, 0x00, 0x1a) // i32.const 0 v128.load align=4 offset=0 drop
	body = append(body, 0x0b, 0x0b)
	code := append([]byte{1, byte(len(body))}, body...)
	wasm := append([]byte("\x00asm\x01\x00\x00\x00"), 10, byte(len(code)))
	wasm = append(wasm, code...)
	s := measure(wasm)
	if s.opaque != 0 || s.maxControl != 1 || s.maxDepth != 1 {
		t.Errorf("%+v: want one block, nothing opaque", s)
	}
}
