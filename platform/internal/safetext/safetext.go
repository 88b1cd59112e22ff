// Package safetext shows text that devices chose (hostnames, results,
// messages, errors, scan documents) without letting it act on whatever
// displays it. A terminal acts on some characters: ESC starts a sequence
// that can retitle the window, clear the screen or rewrite what is shown,
// and so can the C1 controls (U+0080-U+009F, e.g. U+009B, a one-character
// CSI) and, as raw bytes, invalid UTF-8 such as 0x9b; bidi overrides
// reorder what the admin reads, in a terminal and in a browser alike.
// Term escapes a field for a terminal table, JSON rewrites encoded JSON,
// and Page rewrites a rendered console page: each shows such a character
// as a Go escape (\x1b, \u202e), so that the admin sees that it was there
// and nothing acts on it.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Term returns s with every character a terminal could act on, and every
// byte that is not UTF-8, shown as a Go escape (\x1b, \u202e, \t).
// Printable characters, ASCII space included, pass unchanged.
func Term(s string) string {
	if isPlainASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	appendEscaped(&b, s, false)
	return b.String()
}

// Page returns a rendered HTML page (or CSV) with the same characters
// escaped as Term, except that tab, newline and carriage return stay: the
// page's own markup contains no other control or format character, so any
// that is left came from a device.
func Page(b []byte) []byte {
	if isPlainText(b) {
		return b
	}
	var sb strings.Builder
	sb.Grow(len(b) + 16)
	appendEscaped(&sb, string(b), true)
	return []byte(sb.String())
}

func appendEscaped(b *strings.Builder, s string, keepLines bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(b, `\x%02x`, s[i])
		case keepLines && (r == '\t' || r == '\n' || r == '\r'):
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(b, `\x%02x`, r)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteString(s[i : i+size])
		case r > 0xffff:
			fmt.Fprintf(b, `\U%08x`, r)
		default: // C1 controls, bidi and other format characters, separators
			fmt.Fprintf(b, `\u%04x`, r)
		}
		i += size
	}
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isPlainText reports whether b is printable ASCII plus tab and line ends
// (no work for Page); any other byte takes the careful path.
func isPlainText(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c >= 0x7f {
			return false
		}
	}
	return true
}

// JSON rewrites encoded JSON so that it holds nothing a terminal acts on:
// encoding/json already escapes the C0 controls inside strings, but passes
// DEL, C1 controls and bidi characters through raw, and a json.RawMessage
// taken from a device may hold bytes that are not UTF-8. Those can only
// occur inside strings, where a \u escape (or U+FFFD for a bad byte) means
// the same to a JSON reader. The JSON stays valid and equal; only its
// bytes change.
func JSON(b []byte) []byte {
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
