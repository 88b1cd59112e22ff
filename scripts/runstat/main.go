// Command runstat runs a command several times and prints its median wall
// time, spread and peak resident memory (from the kernel's rusage), so that
// whole programs can be compared side by side in one run of `make bench`.
//
// Usage: runstat -n 5 -label NAME -- PROGRAM ARGS...
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"time"
)

func main() {
	n := flag.Int("n", 5, "runs")
	label := flag.String("label", "", "label for the output line")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: runstat [-n N] [-label L] -- PROGRAM ARGS...")
		os.Exit(2)
	}
	if *label == "" {
		*label = args[0]
	}
	var walls []time.Duration
	var maxRSS int64
	for i := 0; i < *n; i++ {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = nil, nil
		start := time.Now()
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "runstat: %s: %v\n", *label, err)
			os.Exit(1)
		}
		walls = append(walls, time.Since(start))
		if rss := maxRSSKiB(cmd.ProcessState); rss > maxRSS {
			maxRSS = rss
		}
	}
	sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
	med := walls[len(walls)/2]
	fmt.Printf("%-40s median %10s  spread %s..%s  peak RSS %.1f MiB  (runs %d)\n",
		*label, med.Round(10*time.Microsecond), walls[0].Round(10*time.Microsecond),
		walls[len(walls)-1].Round(10*time.Microsecond), float64(maxRSS)/1024, *n)
	fmt.Printf("RESULT %s wall_ns=%d peak_rss_kib=%d\n", *label, med.Nanoseconds(), maxRSS)
}
