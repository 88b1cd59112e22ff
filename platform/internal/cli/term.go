package cli

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Devices choose most of what amplatform prints (hostnames, results,
// messages, errors, scan documents). A terminal acts on some characters:
// ESC starts a sequence that can retitle the window, clear the screen or
// rewrite what is shown, and so can the C1 controls (U+0080-U+009F, e.g.
// U+009B, a one-character CSI) and, as raw bytes, invalid UTF-8 such as
// 0x9b; bidi overrides reorder what the admin reads. Every string that
// reaches stdout goes through termSafe (tables) or jsonSafe (--json).

// termSafe returns s with every character a terminal could act on, and
// every byte that is not UTF-8, shown as a Go escape (\x1b, \u202e, \t):
// the admin sees that it was there, and the terminal does nothing.
// Printable characters, ASCII space included, pass unchanged.
func termSafe(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		case r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		default: // C1 controls, bidi and other format characters, separators
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// jsonSafe rewrites encoded JSON so that it holds nothing a terminal acts
// on: encoding/json already escapes the C0 controls inside strings, but
// passes DEL, C1 controls and bidi characters through raw, and a
// json.RawMessage taken from a device may hold bytes that are not UTF-8.
// Those can only occur inside strings, where a \u escape (or U+FFFD for a
// bad byte) means the same to a JSON reader. The JSON stays valid and
// equal; only its bytes change.
func jsonSafe(b []byte) []byte {
	clean := true
	for _, c := range b {
		if c >= 0x7f || c < 0x20 && c != '\n' && c != '\t' && c != '\r' {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out = append(out, `\ufffd`...)
		case r < 0x20 && r != '\n' && r != '\t' && r != '\r':
			out = fmt.Appendf(out, `\u%04x`, r)
		case r < 0x7f || (r != 0x7f && unicode.IsPrint(r)):
			out = append(out, b[i:i+size]...)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += size
	}
	return out
}
