// Command benchreport reads `go test -bench` output (several -count runs)
// and prints, for every benchmark, the median ns/op with its spread (min and
// max), B/op and allocs/op, then the ratios of the pairs named in a pairs
// file: each line "NAME BASELINE [goal]" compares two benchmarks measured in
// the same run. Names are matched as suffixes of "pkg.BenchmarkName", so a
// line may say just "BenchmarkCheckinRoundTrip".
//
// Usage: benchreport -pairs scripts/bench-pairs.txt bench.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

type sample struct{ ns, bytes, allocs float64 }

type series struct {
	name    string
	samples []sample
	extra   map[string][]float64 // custom metrics (b.ReportMetric)
}

func main() {
	pairsFile := flag.String("pairs", "", "file of `NAME BASELINE [goal-ratio]` lines")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: benchreport [-pairs FILE] BENCH_OUTPUT")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	all, order := parse(f)
	fmt.Printf("%-70s %14s %22s %12s %10s\n", "benchmark", "median", "spread (min..max)", "B/op", "allocs/op")
	for _, k := range order {
		s := all[k]
		ns := column(s.samples, func(x sample) float64 { return x.ns })
		fmt.Printf("%-70s %14s %22s %12.0f %10.0f\n", trim(k, 70), dur(median(ns)),
			dur(ns[0])+".."+dur(ns[len(ns)-1]),
			median(column(s.samples, func(x sample) float64 { return x.bytes })),
			median(column(s.samples, func(x sample) float64 { return x.allocs })))
		keys := make([]string, 0, len(s.extra))
		for m := range s.extra {
			keys = append(keys, m)
		}
		sort.Strings(keys)
		for _, m := range keys {
			v := append([]float64(nil), s.extra[m]...)
			sort.Float64s(v)
			fmt.Printf("    %-66s %14.4g %22s\n", m, median(v), fmt.Sprintf("%.4g..%.4g", v[0], v[len(v)-1]))
		}
	}
	if *pairsFile == "" {
		return
	}
	pf, err := os.ReadFile(*pairsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("\n%-48s %-40s %10s %s\n", "benchmark", "baseline (same run)", "ratio", "goal")
	for _, line := range strings.Split(string(pf), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		a, b := find(all, fs[0]), find(all, fs[1])
		if a == nil || b == nil {
			fmt.Printf("%-48s %-40s %10s (not measured)\n", trim(fs[0], 48), trim(fs[1], 40), "-")
			continue
		}
		ra := median(column(a.samples, func(x sample) float64 { return x.ns }))
		rb := median(column(b.samples, func(x sample) float64 { return x.ns }))
		goal := ""
		if len(fs) > 2 {
			goal = strings.Join(fs[2:], " ")
		}
		ratio := ra / rb
		desc := fmt.Sprintf("%.3fx", ratio)
		if ratio < 1 {
			desc += fmt.Sprintf(" (%.1fx faster)", 1/ratio)
		}
		fmt.Printf("%-48s %-40s %10s %s\n", trim(fs[0], 48), trim(fs[1], 40), desc, goal)
	}
}

func parse(r io.Reader) (map[string]*series, []string) {
	all := map[string]*series{}
	var order []string
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "pkg: ") {
			pkg = strings.TrimPrefix(line, "pkg: ")
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		fs := strings.Fields(line)
		if len(fs) < 4 {
			continue
		}
		name := stripProcs(fs[0])
		key := pkg + "." + name
		s := all[key]
		if s == nil {
			s = &series{name: key, extra: map[string][]float64{}}
			all[key] = s
			order = append(order, key)
		}
		var smp sample
		for i := 2; i+1 < len(fs); i += 2 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				continue
			}
			switch fs[i+1] {
			case "ns/op":
				smp.ns = v
			case "B/op":
				smp.bytes = v
			case "allocs/op":
				smp.allocs = v
			default:
				s.extra[fs[i+1]] = append(s.extra[fs[i+1]], v)
			}
		}
		s.samples = append(s.samples, smp)
	}
	return all, order
}

func stripProcs(n string) string {
	if i := strings.LastIndexByte(n, '-'); i > 0 {
		if _, err := strconv.Atoi(n[i+1:]); err == nil {
			return n[:i]
		}
	}
	return n
}

func find(all map[string]*series, suffix string) *series {
	var best *series
	for k, s := range all {
		if k == suffix || strings.HasSuffix(k, "."+suffix) || strings.HasSuffix(k, "/"+suffix) {
			if best == nil || len(k) < len(best.name) {
				best = s
			}
		}
	}
	return best
}

func column(s []sample, f func(sample) float64) []float64 {
	out := make([]float64, len(s))
	for i, x := range s {
		out[i] = f(x)
	}
	sort.Float64s(out)
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func dur(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2fµs", ns/1e3)
	}
	return fmt.Sprintf("%.1fns", ns)
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n+1:]
}
