package linux

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// MemInfo is what the scan reports of /proc/meminfo, in bytes.
type MemInfo struct {
	Total, Available, Free, SwapTotal, SwapFree uint64
	// HasAvailable is false on kernels before 3.14 (no MemAvailable).
	HasAvailable bool
}

// ParseMemInfo parses /proc/meminfo ("Key:   123 kB" lines). Without
// MemAvailable (kernels before 3.14) Available is MemFree + Buffers +
// Cached, the estimate `free` used then. A file without MemTotal is an
// error.
func ParseMemInfo(b []byte) (MemInfo, error) {
	var m MemInfo
	var buffers, cached uint64
	haveTotal := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("meminfo: %s %q: %w", k, f[0], err)
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		switch k {
		case "MemTotal":
			m.Total, haveTotal = n, true
		case "MemAvailable":
			m.Available, m.HasAvailable = n, true
		case "MemFree":
			m.Free = n
		case "Buffers":
			buffers = n
		case "Cached":
			cached = n
		case "SwapTotal":
			m.SwapTotal = n
		case "SwapFree":
			m.SwapFree = n
		}
	}
	if !haveTotal {
		return m, fmt.Errorf("meminfo: no MemTotal line")
	}
	if !m.HasAvailable {
		m.Available = m.Free + buffers + cached
	}
	return m, sc.Err()
}

// ParseLoadAvg returns the three load averages of /proc/loadavg.
func ParseLoadAvg(b []byte) ([3]float64, error) {
	var out [3]float64
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return out, fmt.Errorf("/proc/loadavg: want three numbers, got %q", clip(string(b)))
	}
	for i := range 3 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return out, fmt.Errorf("/proc/loadavg: bad number %q", clip(f[i]))
		}
		out[i] = v
	}
	return out, nil
}
