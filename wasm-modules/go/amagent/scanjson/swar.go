package scanjson

import "math/bits"

// Scanning eight bytes per step. In a wasm module every loop iteration
// costs far more than the work in it (the runtime checks for cancellation
// at each loop header), so the loops that cross long stretches of text
// (white space, string contents, nested values) look at a 64-bit word at a
// time and find the first interesting byte in it with bit tricks.

const (
	lo7  = 0x7f7f7f7f7f7f7f7f
	high = 0x8080808080808080
	ones = 0x0101010101010101
)

// eq has the high bit set in each byte of x that equals the byte of bc
// (bc is c*ones), and no other bits; exact, with no carries between bytes.
func eq(x, bc uint64) uint64 {
	t := x ^ bc
	return ^(((t & lo7) + lo7) | t | lo7)
}

// first is the index of the lowest byte whose high bit is set in m != 0.
func first(m uint64) int { return bits.TrailingZeros64(m) >> 3 }

// skipSpace returns the first index at or after i whose byte is not JSON
// white space (space, tab, newline, carriage return).
func skipSpace(b []byte, i int) int {
	for i+8 <= len(b) {
		x := load64(b, i)
		ws := eq(x, ' '*ones) | eq(x, '\n'*ones) | eq(x, '\t'*ones) | eq(x, '\r'*ones)
		if m := ^ws & high; m != 0 {
			return i + first(m)
		}
		i += 8
	}
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// stringEnd returns the index of the quote that closes the string whose
// contents start at b[i], and whether it had escapes; len(b) if none.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for {
		for i+8 <= len(b) {
			x := load64(b, i)
			if m := eq(x, '"'*ones) | eq(x, '\\'*ones); m != 0 {
				i += first(m)
				break
			}
			i += 8
		}
		for i < len(b) && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			return len(b), escaped
		}
		if b[i] == '"' {
			return i, escaped
		}
		escaped = true
		i += 2
	}
}

// nextStructural returns the first index at or after i of a quote or a
// bracket ({ } [ ]), or len(b).
func nextStructural(b []byte, i int) int {
	for i+8 <= len(b) {
		x := load64(b, i)
		y := x | 0x20*ones // '[' -> '{', ']' -> '}'; no other byte maps to them
		if m := eq(x, '"'*ones) | eq(y, '{'*ones) | eq(y, '}'*ones); m != 0 {
			return i + first(m)
		}
		i += 8
	}
	for i < len(b) {
		switch b[i] {
		case '"', '{', '}', '[', ']':
			return i
		}
		i++
	}
	return i
}
