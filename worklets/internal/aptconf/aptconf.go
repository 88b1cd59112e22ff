// Package aptconf reads APT configuration files (apt.conf(5)) far enough for
// the worklets: scoped names ("APT::Periodic::Unattended-Upgrade") written
// flat or nested in braces, quoted or bare values, list blocks of strings,
// "//", "/* */" and "#" comments, and #clear. Names are case-insensitive and
// returned in lower case. Later assignments replace earlier ones; list items
// accumulate, as in APT.
package aptconf

import (
	"fmt"
	"sort"
	"strings"
)

// Config maps lower-case full names to their values: one value for a
// scalar, the items for a list.
type Config map[string][]string

// Get returns the last scalar value of name ("" when unset).
func (c Config) Get(name string) string {
	v := c[strings.ToLower(name)]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// List returns the items of list name.
func (c Config) List(name string) []string { return c[strings.ToLower(name)] }

// Parse adds the statements of one file (named for error messages) to c.
func (c Config) Parse(file, text string) error {
	toks, err := tokenize(text)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var scope []string // name prefixes of the open blocks
	prefix := func() string {
		if len(scope) == 0 {
			return ""
		}
		return scope[len(scope)-1]
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t.kind == ';':
		case t.kind == '}':
			if len(scope) == 0 {
				return fmt.Errorf("%s:%d: unbalanced }", file, t.line)
			}
			scope = scope[:len(scope)-1]
		case t.kind == 's':
			// A bare string inside a block is a list item.
			name := strings.TrimSuffix(prefix(), "::")
			c[name] = append(c[name], t.text)
		case t.kind == 'w' && strings.EqualFold(t.text, "#clear"):
			if i+1 < len(toks) && toks[i+1].kind == 'w' {
				name := strings.ToLower(toks[i+1].text)
				for k := range c {
					if k == name || strings.HasPrefix(k, name+"::") {
						delete(c, k)
					}
				}
				i++
			}
		case t.kind == 'w' && strings.HasPrefix(t.text, "#"):
			// #include and other directives: skip to the end of the statement.
			for i+1 < len(toks) && toks[i+1].kind != ';' {
				i++
			}
		case t.kind == 'w':
			name := prefix() + strings.ToLower(strings.TrimSuffix(t.text, "::"))
			if i+1 >= len(toks) {
				return fmt.Errorf("%s:%d: %s has no value", file, t.line, t.text)
			}
			next := toks[i+1]
			switch next.kind {
			case '{':
				scope = append(scope, name+"::")
				i++
			case 's', 'w':
				c[name] = []string{next.text}
				i++
			case ';':
				c[name] = []string{""}
			default:
				return fmt.Errorf("%s:%d: unexpected %q after %s", file, next.line, string(next.kind), t.text)
			}
		default:
			return fmt.Errorf("%s:%d: unexpected %q", file, t.line, string(t.kind))
		}
	}
	if len(scope) > 0 {
		return fmt.Errorf("%s: unclosed block %s", file, strings.TrimSuffix(scope[len(scope)-1], "::"))
	}
	return nil
}

type token struct {
	kind rune // 'w' word, 's' string, '{', '}', ';'
	text string
	line int
}

func tokenize(s string) ([]token, error) {
	var out []token
	line := 1
	atLineStart := true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\n':
			line++
			i++
			atLineStart = true
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(s[i:i+2+end], "\n")
			i += end + 4
			continue
		case c == '#' && atLineStart && !strings.HasPrefix(s[i:], "#clear") && !strings.HasPrefix(s[i:], "#include"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		}
		atLineStart = false
		switch c {
		case '{', '}', ';':
			out = append(out, token{kind: rune(c), line: line})
			i++
		case '"':
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated string", line)
			}
			out = append(out, token{kind: 's', text: s[i+1 : i+1+end], line: line})
			line += strings.Count(s[i+1:i+1+end], "\n")
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};\"", rune(s[j])) {
				j++
			}
			out = append(out, token{kind: 'w', text: s[i:j], line: line})
			i = j
		}
	}
	return out, nil
}

// PartFiles filters and sorts the names of /etc/apt/apt.conf.d entries the
// way APT does: only names of letters, digits, '_', '-' and '.', and not
// backup or package-manager leftovers.
func PartFiles(names []string) []string {
	var out []string
	for _, n := range names {
		ok := n != ""
		for _, r := range n {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
				ok = false
			}
		}
		for _, suffix := range []string{".disabled", ".bak", ".save", ".orig", ".distUpgrade"} {
			if strings.HasSuffix(n, suffix) {
				ok = false
			}
		}
		if strings.Contains(n, ".dpkg-") || strings.Contains(n, ".ucf-") {
			ok = false
		}
		if ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
