package linux

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// DpkgUpgrade is one package upgrade recorded in dpkg.log: the package went
// from one version to another and reached the "installed" state.
type DpkgUpgrade struct {
	Name         string
	Architecture string
	From, To     string
	// Time is when the new version reached "status installed".
	Time time.Time
}

// dpkgLogTime is the timestamp layout of dpkg.log lines.
const dpkgLogTime = "2006-01-02 15:04:05"

// ParseDpkgLog reads dpkg.log (dpkg(1) --log format) and returns the
// upgrades that completed, in log order: an "upgrade <pkg> <old> <new>"
// action followed by "status installed <pkg> <new>". A package upgraded to
// the same version twice is reported once, at its latest time. Times are in
// loc (dpkg writes local time). Lines that are not dpkg log lines are
// skipped; a non-empty log without a single parsable line is an error.
func ParseDpkgLog(b []byte, loc *time.Location) ([]DpkgUpgrade, error) {
	if loc == nil {
		loc = time.UTC
	}
	type key struct{ name, arch, to string }
	pending := map[key]DpkgUpgrade{} // upgraded, not yet installed
	done := map[key]int{}            // index in out
	var out []DpkgUpgrade
	good, bad := 0, 0
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		if len(line) == 0 {
			continue
		}
		if len(line) < len(dpkgLogTime)+2 || !looksLikeLogTime(line) {
			bad++
			continue
		}
		good++
		rest := line[len(dpkgLogTime)+1:]
		// Most lines are neither an upgrade nor an install: skip them
		// before paying for field splitting and time parsing.
		if !bytes.HasPrefix(rest, []byte("upgrade ")) && !bytes.HasPrefix(rest, []byte("status installed ")) {
			continue
		}
		ts, err := time.ParseInLocation(dpkgLogTime, string(line[:len(dpkgLogTime)]), loc)
		if err != nil {
			good--
			bad++
			continue
		}
		f := strings.Fields(string(rest))
		switch {
		case len(f) == 4 && f[0] == "upgrade":
			name, arch, _ := strings.Cut(f[1], ":")
			// A reinstall of the same version is not an upgrade.
			if f[2] == f[3] || f[2] == "<none>" {
				continue
			}
			pending[key{name, arch, f[3]}] = DpkgUpgrade{Name: name, Architecture: arch, From: f[2], To: f[3], Time: ts}
		case len(f) == 4 && f[0] == "status" && f[1] == "installed":
			name, arch, _ := strings.Cut(f[2], ":")
			k := key{name, arch, f[3]}
			u, ok := pending[k]
			if !ok {
				continue
			}
			delete(pending, k)
			u.Time = ts
			if i, seen := done[k]; seen {
				out[i] = u
				continue
			}
			done[k] = len(out)
			out = append(out, u)
		}
	}
	if good == 0 && bad > 0 {
		return nil, fmt.Errorf("dpkg.log: none of %d lines starts with a \"YYYY-MM-DD hh:mm:ss\" timestamp", bad)
	}
	return out, nil
}

// looksLikeLogTime checks the shape "dddd-dd-dd dd:dd:dd " cheaply.
func looksLikeLogTime(b []byte) bool {
	const shape = "dddd-dd-dd dd:dd:dd "
	if len(b) < len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		c := b[i]
		if shape[i] == 'd' {
			if c < '0' || c > '9' {
				return false
			}
		} else if c != shape[i] {
			return false
		}
	}
	return true
}
