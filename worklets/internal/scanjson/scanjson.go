// Package scanjson reads the large lists of a scan document (software,
// pending_updates) without encoding/json. In a wasm module, decoding a
// 70 KB software list through reflection costs tens of milliseconds per
// run; this single pass over the bytes picks the few top-level fields a
// worklet needs from each object of a JSON array and skips the rest.
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
	want := make(map[string]bool, len(keys))
	for _, k := range keys {
		want[k] = true
	}
	i := space(raw, 0)
	if i+4 <= len(raw) && string(raw[i:i+4]) == "null" {
		return nil, nil
	}
	if i >= len(raw) || raw[i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	var out []Fields
	i = space(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return out, nil
	}
	for {
		if i >= len(raw) {
			return nil, errors.New("unexpected end of array")
		}
		if raw[i] == '{' {
			f, end, err := object(raw, i, want)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
			i = end
		} else {
			end, err := skip(raw, i)
			if err != nil {
				return nil, err
			}
			i = end
		}
		i = space(raw, i)
		if i >= len(raw) {
			return nil, errors.New("unexpected end of array")
		}
		switch raw[i] {
		case ',':
			i = space(raw, i+1)
		case ']':
			return out, nil
		default:
			return nil, fmt.Errorf("want ',' or ']' at byte %d", i)
		}
	}
}

func object(raw []byte, i int, want map[string]bool) (Fields, int, error) {
	f := Fields{}
	i = space(raw, i+1)
	if i < len(raw) && raw[i] == '}' {
		return f, i + 1, nil
	}
	for {
		if i >= len(raw) || raw[i] != '"' {
			return nil, i, fmt.Errorf("want a key at byte %d", i)
		}
		kEnd, err := skip(raw, i)
		if err != nil {
			return nil, i, err
		}
		key, err := unquote(raw[i:kEnd])
		if err != nil {
			return nil, i, err
		}
		i = space(raw, kEnd)
		if i >= len(raw) || raw[i] != ':' {
			return nil, i, fmt.Errorf("want ':' at byte %d", i)
		}
		vStart := space(raw, i+1)
		vEnd, err := skip(raw, vStart)
		if err != nil {
			return nil, i, err
		}
		if want[key] {
			v := raw[vStart:vEnd]
			switch {
			case v[0] == '"':
				s, err := unquote(v)
				if err != nil {
					return nil, i, err
				}
				f[key] = s
			case string(v) == "null":
				f[key] = ""
			case v[0] != '{' && v[0] != '[':
				f[key] = string(v)
			}
		}
		i = space(raw, vEnd)
		if i >= len(raw) {
			return nil, i, errors.New("unexpected end of object")
		}
		switch raw[i] {
		case ',':
			i = space(raw, i+1)
		case '}':
			return f, i + 1, nil
		default:
			return nil, i, fmt.Errorf("want ',' or '}' at byte %d", i)
		}
	}
}

func space(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skip returns the end of the JSON value at b[i].
func skip(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, errors.New("unexpected end")
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, nil
			}
		}
		return len(b), errors.New("unterminated string")
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				for j++; j < len(b) && b[j] != '"'; j++ {
					if b[j] == '\\' {
						j++
					}
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return len(b), errors.New("unterminated object or array")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	if j == i {
		return j, fmt.Errorf("unexpected %q at byte %d", b[i], i)
	}
	return j, nil
}

// unquote decodes a JSON string token (with its quotes).
func unquote(q []byte) (string, error) {
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
