// Command gostress exercises the Go runtime's control flow under wasm
// (goroutine switches, which unwind and resume stacks through the
// dispatch loops; stack growth; panics; the garbage collector; maps,
// reflection, fmt, json) and prints a transcript. wasmjump's test runs it
// before and after the rewrite and compares the transcripts. With the
// argument "spin" or "spincall" it never ends, to check that a deadline
// still stops it.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

type shape interface{ area() float64 }

type rect struct{ w, h float64 }
type circle struct{ r float64 }

func (r rect) area() float64   { return r.w * r.h }
func (c circle) area() float64 { return 3 * c.r * c.r }

func sum[T int | float64](xs []T) T {
	var s T
	for _, x := range xs {
		s += x
	}
	return s
}

//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

//go:noinline
func depth(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return depth(n-1) + int(pad[n%64]&1)
}

//go:noinline
func step(x uint32) uint32 { return x*1664525 + 1013904223 }

func recovered(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return "no panic"
}

func main() {
	mode := "run"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	out := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }

	// Goroutines: a pipeline and a ping-pong over unbuffered channels.
	src := make(chan int)
	sq := make(chan int)
	var wg sync.WaitGroup
	go func() {
		for i := range 2000 {
			src <- i
		}
		close(src)
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range src {
				sq <- v * v
			}
		}()
	}
	go func() { wg.Wait(); close(sq) }()
	total := 0
	for v := range sq {
		total += v
	}
	out("pipeline %d", total)
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	v := 0
	for range 1000 {
		ping <- v
		v = <-pong
	}
	close(ping)
	out("pingpong %d", v)
	var mu sync.Mutex
	counter := 0
	var wg2 sync.WaitGroup
	for i := range 8 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for range 500 {
				mu.Lock()
				counter += i
				mu.Unlock()
				runtime.Gosched()
			}
		}()
	}
	wg2.Wait()
	out("mutex %d", counter)
	sel1, sel2, done := make(chan int), make(chan string), make(chan bool)
	go func() {
		for i := range 300 {
			if i%3 == 0 {
				sel2 <- strconv.Itoa(i)
			} else {
				sel1 <- i
			}
		}
		done <- true
	}()
	n1, s2 := 0, ""
loop:
	for {
		select {
		case x := <-sel1:
			n1 += x
		case s := <-sel2:
			s2 += s[len(s)-1:]
		case <-done:
			break loop
		}
	}
	out("select %d %d %x", n1, len(s2), sha256.Sum256([]byte(s2)))

	// Recursion and stack growth.
	out("fib %d depth %d", fib(24), depth(20000))

	// Panics, runtime errors and recover.
	var m map[string]int
	var arr []int
	out("recover %q", recovered(func() { m["x"] = 1 }))
	out("recover %q", recovered(func() { _ = arr[len(os.Args)+3] }))
	out("recover %q", recovered(func() { panic(errors.New("custom")) }))
	out("recover %q", recovered(func() {}))

	// Maps, sorting, strings, generics, interfaces.
	words := map[string]int{}
	text := strings.Repeat("the quick brown fox jumps over the lazy dog ", 50)
	for _, w := range strings.Fields(text) {
		words[w]++
	}
	delete(words, "fox")
	keys := make([]string, 0, len(words))
	for k := range words {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d,", k, words[k])
	}
	out("words %s", b.String())
	shapes := []shape{rect{2, 3}, circle{1.5}, rect{0.5, 8}}
	var areas []float64
	for _, s := range shapes {
		switch s := s.(type) {
		case rect:
			areas = append(areas, s.area()+1)
		default:
			areas = append(areas, s.area())
		}
	}
	out("areas %v sum %.3f ints %d", areas, sum(areas), sum([]int{1, 2, 3, 4}))

	// Reflection and the garbage collector.
	type rec struct {
		Name  string            `json:"name"`
		Tags  []string          `json:"tags"`
		Attrs map[string]string `json:"attrs"`
		N     *int              `json:"n,omitempty"`
	}
	var recs []*rec
	for i := range 3000 {
		n := i
		recs = append(recs, &rec{Name: "r" + strconv.Itoa(i), Tags: []string{"a", strconv.Itoa(i % 7)}, Attrs: map[string]string{"k": fmt.Sprint(i)}, N: &n})
	}
	runtime.GC()
	js, err := json.Marshal(recs[:50])
	if err != nil {
		panic(err)
	}
	var back []rec
	if err := json.Unmarshal(js, &back); err != nil {
		panic(err)
	}
	recs = nil
	runtime.GC()
	out("json %d %x %s", len(back), sha256.Sum256(js), back[49].Attrs["k"])
	f := new(big.Int).MulRange(1, 60)
	out("big %s", f.String())

	switch mode {
	case "spin":
		for {
		}
	case "spincall":
		x := uint32(1)
		for {
			x = step(x)
		}
	}
}
