// Package pkgmgr holds the pure parsers of what Linux package managers other
// than dpkg/apt print or store: rpm query output, dnf check-update and
// updateinfo, Alpine's apk installed database and `apk version`, `snap list`,
// `flatpak list`, and `needs-restarting -r`. Each parser takes bytes and
// returns scandoc values or an error that names the line that was wrong; none
// of them touches the machine, so each is tested on recorded outputs in
// testdata/.
package pkgmgr

import (
	"bufio"
	"bytes"
	"fmt"
)

// maxLine bounds one line of any parsed output (an rpm vendor, a snap
// name). Longer lines are an error, not a silent cut.
const maxLine = 1 << 20

// lines calls fn with each line of out (without its newline) and its
// 1-based number. It stops at the first error fn returns.
func lines(out []byte, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(n, sc.Text()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}

// quote shortens a line for an error message.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}
