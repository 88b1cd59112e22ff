// Package scanjson reads JSON without encoding/json, for worklets that
// handle the scan's large lists (software, pending_updates). In a wasm
// module, decoding a 70 KB software list through reflection costs tens of
// milliseconds per run; Objects picks the few top-level fields a worklet
// needs from each object of a JSON array in a single pass and skips the
// rest. Space, Skip and Unquote are the pieces it is made of, for reading
// other documents the same way (the SDK's input document parser uses them).
//
// It is plain Go with no host access: it builds and is tested on any
// platform, and in GOOS=wasip1 modules.
package scanjson

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Fields is one object's selected fields: strings decoded, true/false and
// numbers as their JSON text, null as "".
type Fields map[string]string

// Objects returns, for each element of the JSON array raw that is an
// object, the values of the named top-level keys it has. Non-object
// elements are skipped. A JSON null array yields no objects.
func Objects(raw []byte, keys ...string) ([]Fields, error) {
	i := Space(raw, 0)
	if i+4 <= len(raw) && string(raw[i:i+4]) == "null" {
		return nil, nil
	}
	if i >= len(raw) || raw[i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	var out []Fields
	i = Space(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return out, nil
	}
	for {
		if i >= len(raw) {
			return nil, errors.New("unexpected end of array")
		}
		if raw[i] == '{' {
			f, end, err := object(raw, i, keys)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
			i = end
		} else {
			end, err := Skip(raw, i)
			if err != nil {
				return nil, err
			}
			i = end
		}
		i = Space(raw, i)
		if i >= len(raw) {
			return nil, errors.New("unexpected end of array")
		}
		switch raw[i] {
		case ',':
			i = Space(raw, i+1)
		case ']':
			return out, nil
		default:
			return nil, fmt.Errorf("want ',' or ']' at byte %d", i)
		}
	}
}

func object(raw []byte, i int, keys []string) (Fields, int, error) {
	f := make(Fields, len(keys))
	i = Space(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return f, i + 1, nil
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return nil, i, fmt.Errorf("want a key at byte %d", i)
		}
		kClose, escaped := stringEnd(raw, i+1)
		if kClose >= len(raw) {
			return nil, i, errors.New("unterminated string")
		}
		var k int
		if escaped {
			s, err := Unquote(raw[i : kClose+1])
			if err != nil {
				return nil, i, err
			}
			k = wanted(keys, []byte(s))
		} else {
			k = wanted(keys, raw[i+1:kClose])
		}
		i = Space(raw, kClose+1)
		if i >= len(raw) || raw[i] != ':' {
			return nil, i, fmt.Errorf("want ':' at byte %d", i)
		}
		vStart := Space(raw, i+1)
		var vEnd int
		if vStart < len(raw) && raw[vStart] == '"' {
			vClose, escaped := stringEnd(raw, vStart+1)
			if vClose >= len(raw) {
				return nil, i, errors.New("unterminated string")
			}
			vEnd = vClose + 1
			if k >= 0 {
				s := string(raw[vStart+1 : vClose])
				if escaped {
					var err error
					if s, err = Unquote(raw[vStart:vEnd]); err != nil {
						return nil, i, err
					}
				}
				f[keys[k]] = s
			}
		} else {
			var err error
			if vEnd, err = Skip(raw, vStart); err != nil {
				return nil, i, err
			}
		}
		if k >= 0 && raw[vStart] != '"' {
			key := keys[k]
			v := raw[vStart:vEnd]
			switch {
			case string(v) == "null":
				f[key] = ""
			case v[0] != '{' && v[0] != '[':
				f[key] = string(v)
			}
		}
		i = Space(raw, vEnd)
		if i >= len(raw) {
			return nil, i, errors.New("unexpected end of object")
		}
		switch raw[i] {
		case ',':
			i = Space(raw, i+1)
		case '}':
			return f, i + 1, nil
		default:
			return nil, i, fmt.Errorf("want ',' or '}' at byte %d", i)
		}
	}
}

// wanted returns the index of k in keys, or -1.
func wanted(keys []string, k []byte) int {
	for i, w := range keys {
		if w == string(k) {
			return i
		}
	}
	return -1
}

// Space returns the index of the first byte at or after i that is not
// JSON white space.
func Space(b []byte, i int) int {
	if i < len(b) && !isSpace(b[i]) {
		return i
	}
	return skipSpace(b, i)
}

// Skip returns the end of the JSON value that starts at b[i]: a string
// with its escapes, an object or array by nesting (brackets must match), a
// scalar up to the next delimiter. It checks structure, not every detail
// (a scalar's spelling, a string's escapes): Unquote or encoding/json do
// that for the values a caller keeps.
func Skip(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("unexpected end")
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i+1)
		if end >= len(b) {
			return len(b), errors.New("unterminated string")
		}
		return end + 1, nil
	case '{', '[':
		var small [32]byte
		stack := small[:0]
		for j := i; ; j++ {
			j = nextStructural(b, j)
			if j >= len(b) {
				return len(b), errors.New("unterminated object or array")
			}
			switch c := b[j]; c {
			case '"':
				end, _ := stringEnd(b, j+1)
				if end >= len(b) {
					return len(b), errors.New("unterminated string")
				}
				j = end
			case '{', '[':
				stack = append(stack, c)
			default: // '}', ']'
				if len(stack) == 0 || (c == '}') != (stack[len(stack)-1] == '{') {
					return j, fmt.Errorf("mismatched %c at byte %d", c, j)
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return j + 1, nil
				}
			}
		}
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ':' && b[j] != '"' && !isSpace(b[j]) {
		j++
	}
	if j == i {
		return j, fmt.Errorf("unexpected %q at byte %d", b[i], i)
	}
	return j, nil
}

// Equal reports whether the JSON string token raw (quotes included)
// stands for s. It decodes raw only when raw is longer than s quoted and
// has escapes: an escape always takes more bytes than what it stands for,
// so most tokens are told apart by their length or compared as they are.
func Equal(raw []byte, s string) bool {
	n := len(raw) - 2
	if n < len(s) || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	if n == len(s) {
		return string(raw[1:len(raw)-1]) == s
	}
	if _, escaped := stringEnd(raw[:len(raw)-1], 1); !escaped {
		return false
	}
	u, err := Unquote(raw)
	return err == nil && u == s
}

// Unquote decodes a JSON string token, quotes included (as Skip delimits it).
func Unquote(q []byte) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", errors.New("not a JSON string")
	}
	s := q[1 : len(q)-1]
	plain := true
	for _, c := range s {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(s), nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", errors.New("bad escape at end of string")
		}
		switch s[i] {
		case '"', '\\', '/':
			out = append(out, s[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if i+5 > len(s) {
				return "", errors.New("short \\u escape")
			}
			r, err := strconv.ParseUint(string(s[i+1:i+5]), 16, 32)
			if err != nil {
				return "", fmt.Errorf("bad \\u escape: %w", err)
			}
			i += 4
			ru := rune(r)
			if ru >= 0xD800 && ru < 0xDC00 && i+7 <= len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if lo, err := strconv.ParseUint(string(s[i+3:i+7]), 16, 32); err == nil && lo >= 0xDC00 && lo < 0xE000 {
					ru = (ru-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
					i += 6
				}
			}
			out = utf8.AppendRune(out, ru)
		default:
			return "", fmt.Errorf("bad escape \\%c", s[i])
		}
	}
	return string(out), nil
}
