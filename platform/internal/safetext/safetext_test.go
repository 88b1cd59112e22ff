package safetext

import "testing"

func TestPageKeepsLinesEscapesTheRest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"<p>plain</p>\n\t", "<p>plain</p>\n\t"},
		{"a\x1b]0;pwned\x07b", `a\x1b]0;pwned\x07b`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"bad \x9b byte", `bad \x9b byte`},
		{"ok … é ✓\r\n", "ok … é ✓\r\n"},
	} {
		if got := string(Page([]byte(c.in))); got != c.want {
			t.Errorf("Page(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Term("a\nb"); got != `a\nb` {
		t.Errorf("Term keeps a newline: %q", got)
	}
}
