// Package tomlkeys finds where each key of a TOML document is written, so
// that the agent's configuration and the worklet manifest can name the line
// of every error, and suggests the nearest known key for a misspelt one.
// The TOML decoder (BurntSushi/toml) knows positions but does not export
// them for keys that decoded well.
package tomlkeys

import (
	"strings"
)

// Lines maps each key of doc, dotted as toml.Key.String() writes it
// ("checkin.interval", "params.port.default"), to the line (from 1) where
// it is first written; a table header counts for the table's own key. It
// reads the document line by line and is meant for documents the decoder
// accepted: keys inside inline tables and arrays of tables are found with
// their table's prefix only.
func Lines(doc []byte) map[string]int {
	out := map[string]int{}
	var table []string
	inMulti := "" // the delimiter of the multi-line string being skipped
	for i, line := range strings.Split(string(doc), "\n") {
		n := i + 1
		if inMulti != "" {
			if strings.Count(line, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		s := strings.TrimSpace(line)
		switch {
		case s == "" || s[0] == '#':
			continue
		case strings.HasPrefix(s, "["):
			inner := strings.TrimPrefix(s, "[")
			inner = strings.TrimPrefix(inner, "[")
			segs, rest, ok := keyPath(inner)
			if !ok || !strings.HasPrefix(rest, "]") {
				continue
			}
			table = segs
			set(out, table, n)
			continue
		}
		segs, rest, ok := keyPath(s)
		if !ok || !strings.HasPrefix(rest, "=") {
			continue
		}
		full := append(append([]string{}, table...), segs...)
		for j := len(table) + 1; j <= len(full); j++ {
			set(out, full[:j], n)
		}
		for _, d := range []string{`"""`, `'''`} {
			if strings.Count(rest, d)%2 == 1 {
				inMulti = d
				break
			}
		}
	}
	return out
}

func set(m map[string]int, key []string, line int) {
	k := Join(key)
	if _, ok := m[k]; !ok {
		m[k] = line
	}
}

// keyPath reads a dotted key at the start of s: bare, "quoted" or
// 'literal' parts separated by dots; rest starts after it and its spaces.
func keyPath(s string) (segs []string, rest string, ok bool) {
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", false
		}
		var seg string
		switch s[0] {
		case '"', '\'':
			end := 1
			for end < len(s) && s[end] != s[0] {
				if s[0] == '"' && s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				return nil, "", false
			}
			seg, s = unescape(s[1:end], s[0] == '"'), s[end+1:]
		default:
			end := 0
			for end < len(s) && isBare(s[end]) {
				end++
			}
			if end == 0 {
				return nil, "", false
			}
			seg, s = s[:end], s[end:]
		}
		segs = append(segs, seg)
		s = strings.TrimLeft(s, " \t")
		if !strings.HasPrefix(s, ".") {
			return segs, s, true
		}
		s = s[1:]
	}
}

func unescape(s string, basic bool) string {
	if !basic {
		return s
	}
	return strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(s)
}

func isBare(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// Join writes a key path as toml.Key.String() does: parts joined by dots,
// a part that is not bare quoted.
func Join(key []string) string {
	parts := make([]string, len(key))
	for i, k := range key {
		bare := k != ""
		for j := 0; j < len(k); j++ {
			if !isBare(k[j]) {
				bare = false
			}
		}
		if bare {
			parts[i] = k
		} else {
			parts[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(k) + `"`
		}
	}
	return strings.Join(parts, ".")
}

// Nearest is the known key closest to the unknown dotted key: in the same
// table, one whose last part is within a third of its length in edits (at
// least 2), or else one whose last part holds it as a "_" word
// ("timeout" -> "max_timeout", the closest of those); else one with the same last part in
// another table. It is "" when nothing is that close.
func Nearest(key string, known []string) string {
	prefix, leaf := splitLast(key)
	best, bestD := "", max(2, len(leaf)/3)+1
	for _, k := range known {
		p, l := splitLast(k)
		if p != prefix {
			continue
		}
		if d := distance(leaf, l); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return best
	}
	bestD = -1
	for _, k := range known {
		p, l := splitLast(k)
		if d := distance(leaf, l); p == prefix && strings.Contains("_"+l+"_", "_"+leaf+"_") && (bestD < 0 || d < bestD) {
			best, bestD = k, d
		}
	}
	if best != "" {
		return best
	}
	for _, k := range known {
		if _, l := splitLast(k); l == leaf && k != key {
			return k
		}
	}
	return ""
}

func splitLast(key string) (prefix, leaf string) {
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i], key[i+1:]
	}
	return "", key
}

// distance is the Damerau-Levenshtein distance (optimal string alignment:
// a swap of two neighbours is one edit) between a and b, in bytes.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// TypeName names a TOML type as BurntSushi/toml's MetaData.Type reports
// it ("String", "Integer", ...) in the words of an error message ("a
// string", "an integer").
func TypeName(t string) string {
	switch t {
	case "String":
		return "a string"
	case "Integer":
		return "an integer"
	case "Float":
		return "a number with a fraction"
	case "Bool":
		return "true or false"
	case "Array":
		return "a list"
	case "Hash", "ArrayHash":
		return "a table"
	case "":
		return "nothing"
	}
	return "a " + strings.ToLower(t)
}
