package linux

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// ParseOSRelease parses an os-release(5) file: KEY=value lines, values
// optionally in single or double quotes with backslash escapes inside
// double quotes. Comments and blank lines are skipped. A line that is not
// an assignment is an error naming the line.
func ParseOSRelease(b []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("os-release line %d: not a KEY=value assignment: %q", n, clip(line))
		}
		val, err := unquote(v)
		if err != nil {
			return nil, fmt.Errorf("os-release line %d (%s): %w", n, k, err)
		}
		out[k] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("os-release: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("os-release: no assignments found")
	}
	return out, nil
}

func unquote(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	q := v[0]
	if q != '"' && q != '\'' {
		return v, nil
	}
	if len(v) < 2 || v[len(v)-1] != q {
		return "", fmt.Errorf("unterminated quoted value %q", clip(v))
	}
	v = v[1 : len(v)-1]
	if q == '\'' {
		return v, nil
	}
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			i++
			c = v[i]
		}
		sb.WriteByte(c)
	}
	return sb.String(), nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
