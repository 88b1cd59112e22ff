package scanjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// The word-at-a-time scanners must find the same byte as a plain loop at
// every alignment and position, including the last bytes of the input.
func TestScannersAtEveryOffset(t *testing.T) {
	for n := range 40 {
		for pos := range n {
			for _, c := range []byte{'"', '\\', '{', '}', '[', ']', 'x'} {
				b := bytes.Repeat([]byte{'a'}, n)
				b[pos] = c
				wantStr := bytes.IndexAny(b, "\"\\")
				if wantStr < 0 {
					wantStr = n
				}
				if got, _ := stringEnd(append([]byte(nil), b...), 0); c != '\\' && got != wantStr {
					t.Fatalf("stringEnd(%q) = %d, want %d", b, got, wantStr)
				}
				wantSt := bytes.IndexAny(b, "\"{}[]")
				if wantSt < 0 {
					wantSt = n
				}
				if got := nextStructural(b, 0); got != wantSt {
					t.Fatalf("nextStructural(%q) = %d, want %d", b, got, wantSt)
				}
			}
			for _, ws := range []byte{' ', '\n', '\t', '\r'} {
				b := bytes.Repeat([]byte{ws}, n)
				b[pos] = 'x'
				if got := Space(b, 0); got != pos {
					t.Fatalf("Space(%q) = %d, want %d", b, got, pos)
				}
				b[pos] = 0x01 // not JSON white space
				if got := Space(b, 0); got != pos {
					t.Fatalf("Space(%q) = %d, want %d", b, got, pos)
				}
			}
		}
		if got := Space(bytes.Repeat([]byte{' '}, n), 0); got != n {
			t.Fatalf("Space of %d spaces = %d", n, got)
		}
	}
	// Escapes: a backslash escapes the next byte wherever it falls.
	for pad := range 20 {
		s := strings.Repeat("a", pad) + `\"\\` + strings.Repeat("b", pad) + `"tail`
		got, esc := stringEnd([]byte(s), 0)
		if want := strings.LastIndex(s, `"tail`); got != want || !esc {
			t.Fatalf("stringEnd(%q) = %d %v, want %d true", s, got, esc, want)
		}
	}
}

// Skip and Objects agree with encoding/json on generated documents, in
// compact and indented form.
func TestSkipAndObjectsMatchEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		alpha := []string{"a", "é", `"`, `\`, "{", "}", "[", "]", " ", "\n", "~", "1", "😀", "<"}
		var b strings.Builder
		for range r.IntN(20) {
			b.WriteString(alpha[r.IntN(len(alpha))])
		}
		return b.String()
	}
	for round := range 200 {
		var items []map[string]any
		for range r.IntN(30) {
			items = append(items, map[string]any{
				"name": word(), "version": word(), "n": r.IntN(1000),
				"nested": map[string]any{"name": word(), "l": []any{word(), 1.5, nil, true}},
				"list":   []any{map[string]any{"x": word()}, []any{}},
			})
		}
		raw, _ := json.Marshal(items)
		if round%2 == 1 {
			raw, _ = json.MarshalIndent(items, "", strings.Repeat(" ", round%13))
		}
		if end, err := Skip(raw, 0); err != nil || end != len(raw) {
			t.Fatalf("Skip = %d %v, want %d", end, err, len(raw))
		}
		got, err := Objects(raw, "name", "version", "n", "absent")
		if err != nil || len(got) != len(items) {
			t.Fatalf("Objects: %d, %v", len(got), err)
		}
		for i, it := range items {
			want := Fields{"name": it["name"].(string), "version": it["version"].(string), "n": fmt.Sprint(it["n"])}
			if fmt.Sprint(got[i]) != fmt.Sprint(want) {
				t.Fatalf("object %d = %q, want %q", i, got[i], want)
			}
		}
	}
}
