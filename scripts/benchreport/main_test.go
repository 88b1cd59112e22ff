package main

import (
	"strings"
	"testing"
)

func TestParseMediansAndMetrics(t *testing.T) {
	in := `goos: linux
pkg: github.com/x/host
BenchmarkFact-2   	 1000	  80.0 ns/op	  0 B/op	  0 allocs/op
BenchmarkFact-2   	 1000	  60.0 ns/op	  0 B/op	  0 allocs/op
BenchmarkFact-2   	 1000	  70.0 ns/op	  0 B/op	  0 allocs/op
BenchmarkScan/full-2   10   1500000 ns/op   30.5 peak-MiB   100 B/op   3 allocs/op
pkg: github.com/x/agent
BenchmarkFact-2   	 1000	  10.0 ns/op
`
	all, order := parse(strings.NewReader(in))
	if len(order) != 3 {
		t.Fatalf("order %v", order)
	}
	f := all["github.com/x/host.BenchmarkFact"]
	if got := median(column(f.samples, func(s sample) float64 { return s.ns })); got != 70 {
		t.Fatalf("median %v, want 70", got)
	}
	s := all["github.com/x/host.BenchmarkScan/full"]
	if s == nil || s.extra["peak-MiB"][0] != 30.5 || s.samples[0].allocs != 3 {
		t.Fatalf("scan series %+v", s)
	}
	if find(all, "host.BenchmarkFact") != f {
		t.Fatal("suffix match failed")
	}
	if find(all, "BenchmarkNope") != nil {
		t.Fatal("found a benchmark that is not there")
	}
}
