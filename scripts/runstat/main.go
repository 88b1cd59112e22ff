// Command runstat runs whole programs side by side, interleaved, and prints
// each one's median wall time with its spread and its peak resident memory,
// then the first program's ratios against each of the others (baselines
// measured in the same run), so that `make bench` compares whole processes
// under the same load.
//
// Usage:
//
//	runstat [-n 5] [-warmup 1] -- LABEL PROGRAM ARGS... [::: LABEL PROGRAM ARGS...]...
//
// Each group separated by ":::" is one program, its first word the label.
// Every round runs each program once, the starting program rotating from
// round to round (A B, B A, A B, ...: interleaved, so that load and drift
// fall on every side alike). Warm-up runs (not counted) fill the page cache.
//
// Peak memory is the kernel's ru_maxrss for the child (what /usr/bin/time
// -f %M prints): for a program that starts others, the largest single
// process of its tree, not their sum. Linux carries the launching
// process's peak into a child that execs from a vfork, so no figure can
// be below runstat's own (the "floor" line, measured on /bin/true).
//
// A program that exits non-zero is still measured; the count of such runs
// and the last line of its stderr are printed beside its figures.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"time"
)

// program is one side of the comparison.
type program struct {
	label  string
	argv   []string
	walls  []time.Duration
	rss    []int64 // KiB, per run
	fails  int
	errMsg string
}

func main() {
	n := flag.Int("n", 5, "counted runs of each program")
	warmup := flag.Int("warmup", 1, "uncounted runs of each program first")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: runstat [-n N] [-warmup W] -- LABEL PROGRAM ARGS... [::: LABEL PROGRAM ARGS...]...")
		flag.PrintDefaults()
	}
	flag.Parse()
	progs, err := parsePrograms(flag.Args())
	if err != nil || *n < 1 {
		if err == nil {
			err = fmt.Errorf("-n must be at least 1, got %d", *n)
		}
		fmt.Fprintln(os.Stderr, "runstat:", err)
		flag.Usage()
		os.Exit(2)
	}
	for _, p := range progs {
		if _, err := exec.LookPath(p.argv[0]); err != nil {
			fmt.Fprintf(os.Stderr, "runstat: %s: %v\n", p.label, err)
			os.Exit(1)
		}
	}
	for i := 0; i < *warmup; i++ {
		for _, p := range progs {
			runOnce(p.argv)
		}
	}
	for r := 0; r < *n; r++ {
		for k := range progs {
			p := progs[(r+k)%len(progs)]
			wall, rss, err := runOnce(p.argv)
			p.walls = append(p.walls, wall)
			p.rss = append(p.rss, rss)
			if err != nil {
				p.fails++
				p.errMsg = err.Error()
			}
		}
	}
	fmt.Print(report(progs, floor()))
}

// parsePrograms splits "LABEL PROG ARGS... ::: LABEL PROG ARGS..." into
// programs.
func parsePrograms(args []string) ([]*program, error) {
	var out []*program
	var cur []string
	flush := func() error {
		if len(cur) < 2 {
			return fmt.Errorf("each program needs a label and a command, got %q", cur)
		}
		out = append(out, &program{label: cur[0], argv: cur[1:]})
		cur = nil
		return nil
	}
	for _, a := range args {
		if a == ":::" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		cur = append(cur, a)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// runOnce runs argv with stdout discarded and returns its wall time, its
// peak RSS in KiB and, for a non-zero exit, an error with stderr's last
// line.
func runOnce(argv []string) (time.Duration, int64, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	var stderr tailWriter
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var rss int64
	if cmd.ProcessState != nil {
		rss = maxRSSKiB(cmd.ProcessState)
	}
	if err != nil {
		if last := stderr.lastLine(); last != "" {
			err = fmt.Errorf("%v: %s", err, last)
		}
	}
	return wall, rss, err
}

// floor is the peak RSS this launcher gives a trivial child, in KiB (0
// when /bin/true is absent).
func floor() int64 {
	if _, err := os.Stat("/bin/true"); err != nil {
		return 0
	}
	_, rss, _ := runOnce([]string{"/bin/true"})
	return rss
}

// report formats every program's figures, then the first program's ratios
// against each of the others (its baselines).
func report(progs []*program, floorKiB int64) string {
	var b strings.Builder
	first := progs[0]
	bw, br := medianDur(first.walls), medianInt(first.rss)
	for _, p := range progs {
		w := sortedDur(p.walls)
		fmt.Fprintf(&b, "%-52s median %9s  spread %s..%s  peak RSS %5.1f MiB (max %.1f)  runs %d",
			p.label, round(medianDur(p.walls)), round(w[0]), round(w[len(w)-1]),
			mib(medianInt(p.rss)), mib(maxInt(p.rss)), len(p.walls))
		if p.fails > 0 {
			fmt.Fprintf(&b, "  [exit non-zero in %d of %d runs: %s]", p.fails, len(p.walls), p.errMsg)
		}
		b.WriteByte('\n')
	}
	for _, p := range progs[1:] {
		fmt.Fprintf(&b, "    %s vs %s: time %s (paired per round %s), memory %.2fx\n",
			first.label, p.label, timeRatio(float64(bw)/float64(medianDur(p.walls))),
			timeRatio(pairedRatio(first.walls, p.walls)), float64(br)/float64(medianInt(p.rss)))
	}
	if floorKiB > 0 {
		fmt.Fprintf(&b, "    (peak RSS floor of this launcher, /bin/true: %.1f MiB)\n", mib(floorKiB))
	}
	for _, p := range progs {
		fmt.Fprintf(&b, "RESULT %s wall_ns=%d peak_rss_kib=%d fails=%d\n",
			p.label, medianDur(p.walls).Nanoseconds(), medianInt(p.rss), p.fails)
	}
	return b.String()
}

// timeRatio says "0.25x (4.0x faster)" or "3.10x (slower)".
func timeRatio(r float64) string {
	switch {
	case r <= 0:
		return "-"
	case r < 1:
		return fmt.Sprintf("%.3gx (%.1fx faster)", r, 1/r)
	}
	return fmt.Sprintf("%.3gx (slower)", r)
}

// pairedRatio is the median over rounds of a[i]/b[i]: runs of the same
// round saw the same load.
func pairedRatio(a, b []time.Duration) float64 {
	var rs []float64
	for i := range a {
		if i < len(b) && b[i] > 0 {
			rs = append(rs, float64(a[i])/float64(b[i]))
		}
	}
	if len(rs) == 0 {
		return 0
	}
	sort.Float64s(rs)
	if len(rs)%2 == 1 {
		return rs[len(rs)/2]
	}
	return (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
}

func sortedDur(v []time.Duration) []time.Duration {
	s := append([]time.Duration(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

func medianDur(v []time.Duration) time.Duration {
	s := sortedDur(v)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianInt(v []int64) int64 {
	s := append([]int64(nil), v...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func maxInt(v []int64) int64 {
	var m int64
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// round formats d with three significant digits or so: 2.35s, 14.21ms.
func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.0fµs", float64(d)/1e3)
}

// ansi matches terminal colour sequences (facter colours its errors).
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// tailWriter keeps the last 4 KiB written to it.
type tailWriter struct{ buf []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(p), nil
}

func (t *tailWriter) lastLine() string {
	s := bytes.TrimRight(t.buf, "\n")
	if i := bytes.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	line := strings.TrimSpace(ansi.ReplaceAllString(string(s), ""))
	if len(line) > 160 {
		line = line[:160] + "..."
	}
	return line
}
