package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// tableWidth is the width tables keep to unless --wide is given.
const tableWidth = 100

// table prints aligned columns. Every cell goes through termSafe; without
// wide, the widest columns are cut (with "…") until the table fits
// tableWidth columns.
type table struct {
	header []string
	right  []bool // right-aligned (numbers)
	whole  []bool // never cut (UUIDs: a cut one names nothing)
	rows   [][]string
}

func newTable(header ...string) *table {
	return &table{header: header, right: make([]bool, len(header)), whole: make([]bool, len(header))}
}

// keep marks columns that are never cut.
func (t *table) keep(cols ...int) *table {
	for _, c := range cols {
		t.whole[c] = true
	}
	return t
}

// numeric marks columns as right-aligned.
func (t *table) numeric(cols ...int) *table {
	for _, c := range cols {
		t.right[c] = true
	}
	return t
}

func (t *table) add(cells ...any) {
	row := make([]string, len(t.header))
	for i, c := range cells {
		if i < len(row) {
			row[i] = termSafe(fmt.Sprint(c))
		}
	}
	t.rows = append(t.rows, row)
}

// cut shortens s to n runes, the last one "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func (t *table) write(w io.Writer, wide bool) error {
	const gap = 2
	widths := make([]int, len(t.header))
	for i, h := range t.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	if !wide {
		total := func() int {
			n := gap * (len(widths) - 1)
			for _, x := range widths {
				n += x
			}
			return n
		}
		// Take a column from the widest until the table fits; a column
		// keeps at least its header and 6 runes.
		for total() > tableWidth {
			best := -1
			for i, x := range widths {
				floor := max(6, utf8.RuneCountInString(t.header[i]))
				if !t.whole[i] && x > floor && (best < 0 || x > widths[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			widths[best]--
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			c = cut(c, widths[i])
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if t.right[i] {
				b.WriteString(pad + c)
			} else if i < len(cells)-1 {
				b.WriteString(c + pad)
			} else {
				b.WriteString(c)
			}
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", gap))
			}
		}
		b.WriteString("\n")
	}
	line(t.header)
	for _, r := range t.rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
