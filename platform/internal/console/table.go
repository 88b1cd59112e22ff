package console

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/amagent/amagent/wasm-modules/go/debver"
)

// A table is sorted and paged on the server, by query parameters named
// after the table's id (<id>.sort, <id>.dir, <id>.page), so that several
// tables on one page keep their own order and every state is a link.

// Column is a table column; Key is what <id>.sort names.
type Column struct {
	Key, Label string
	Num        bool // right-aligned, sorts descending first
	NoSort     bool
}

// Cell is one table cell. Sort orders the column (a string, int, int64 or
// float64); without it the text does.
type Cell struct {
	Text  string
	Href  string
	Class string
	Title string
	Sort  any
	// Pre shows Text preformatted inside a <details> with Title as summary.
	Pre bool
	// Form, when set, is a one-button POST form (with the CSRF token).
	Form *CellForm
}

// CellForm is a one-button form in a cell.
type CellForm struct {
	Action string
	Label  string
	Fields map[string]string
	Danger bool
}

// Table is what the "table" template draws.
type Table struct {
	ID      string
	Caption string
	Columns []Column
	Rows    [][]Cell
	Empty   string
	// Set by sortPage / links.
	Headers []Header
	Total   int
	Page    int
	Pages   int
	Prev    string
	Next    string
	First   int // 1-based index of the first row shown
	Last    int
	// Exports are download links (CSV, JSON) next to the caption.
	Exports []Link
}

// Header is one column head with its sort link.
type Header struct {
	Label    string
	Href     string
	AriaSort string // ascending, descending or none
	Arrow    string
	Num      bool
}

// Link is a labelled link.
type Link struct{ Label, Href string }

// tableState is a table's sort and page as asked for.
type tableState struct {
	sort string
	desc bool
	page int
}

func readState(q url.Values, id string, cols []Column, defSort string, defDesc bool) tableState {
	st := tableState{sort: defSort, desc: defDesc, page: 1}
	if s := q.Get(id + ".sort"); s != "" && slices.ContainsFunc(cols, func(c Column) bool { return c.Key == s && !c.NoSort }) {
		st.sort = s
		st.desc = q.Get(id+".dir") == "desc"
	}
	if n, err := strconv.Atoi(q.Get(id + ".page")); err == nil && n > 1 {
		st.page = n
	}
	return st
}

// sortPage sorts the table's rows in memory by the asked column and keeps
// one page of perPage rows.
func (t *Table) sortPage(path string, q url.Values, defSort string, defDesc bool, perPage int) {
	st := readState(q, t.ID, t.Columns, defSort, defDesc)
	idx := slices.IndexFunc(t.Columns, func(c Column) bool { return c.Key == st.sort })
	if idx >= 0 {
		slices.SortStableFunc(t.Rows, func(a, b []Cell) int {
			c := compareCells(a[idx], b[idx])
			if st.desc {
				return -c
			}
			return c
		})
	}
	total := len(t.Rows)
	t.links(path, q, st, total, perPage)
	lo := min((t.Page-1)*perPage, total)
	hi := min(lo+perPage, total)
	t.Rows = t.Rows[lo:hi]
}

// links fills headers and page links for a table whose rows are already
// the asked page (sorted by the database).
func (t *Table) links(path string, q url.Values, st tableState, total, perPage int) {
	t.Total = total
	t.Pages = max(1, (total+perPage-1)/perPage)
	t.Page = min(st.page, t.Pages)
	t.First = min((t.Page-1)*perPage+1, total)
	t.Last = min(t.Page*perPage, total)
	with := func(set map[string]string) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = slices.Clone(vs)
		}
		v.Del("done")
		for k, x := range set {
			if x == "" {
				v.Del(k)
			} else {
				v.Set(k, x)
			}
		}
		s := path
		if enc := v.Encode(); enc != "" {
			s += "?" + enc
		}
		return s + "#" + t.ID
	}
	t.Headers = make([]Header, len(t.Columns))
	for i, c := range t.Columns {
		h := Header{Label: c.Label, Num: c.Num, AriaSort: "none"}
		if !c.NoSort {
			dir := "asc"
			if c.Num {
				dir = "desc"
			}
			if c.Key == st.sort {
				if st.desc {
					h.AriaSort, h.Arrow, dir = "descending", "▼", "asc"
				} else {
					h.AriaSort, h.Arrow, dir = "ascending", "▲", "desc"
				}
			}
			h.Href = with(map[string]string{t.ID + ".sort": c.Key, t.ID + ".dir": dir, t.ID + ".page": ""})
		}
		t.Headers[i] = h
	}
	if t.Page > 1 {
		t.Prev = with(map[string]string{t.ID + ".page": strconv.Itoa(t.Page - 1)})
	}
	if t.Page < t.Pages {
		t.Next = with(map[string]string{t.ID + ".page": strconv.Itoa(t.Page + 1)})
	}
}

// version sorts as a package version (dpkg's rules).
type version string

func versionKey(v string) version { return version(v) }

func compareCells(a, b Cell) int {
	switch x := a.Sort.(type) {
	case version:
		if y, ok := b.Sort.(version); ok {
			return debver.Compare(string(x), string(y))
		}
	case int:
		if y, ok := b.Sort.(int); ok {
			return cmp.Compare(x, y)
		}
	case int64:
		if y, ok := b.Sort.(int64); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.Sort.(float64); ok {
			return cmp.Compare(x, y)
		}
	case string:
		if y, ok := b.Sort.(string); ok {
			return cmp.Compare(strings.ToLower(x), strings.ToLower(y))
		}
	}
	return cmp.Compare(strings.ToLower(a.Text), strings.ToLower(b.Text))
}

// num is a right-aligned number cell.
func num(n int) Cell { return Cell{Text: strconv.Itoa(n), Sort: n, Class: "num"} }

// numLink is a number cell linking somewhere when it is not zero.
func numLink(n int, href, class string) Cell {
	c := Cell{Text: strconv.Itoa(n), Sort: n, Class: "num"}
	if n > 0 {
		c.Href = href
		c.Class += " " + class
	}
	return c
}

// text is a plain text cell.
func text(s string) Cell { return Cell{Text: s} }
