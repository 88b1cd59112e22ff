// Command gomin is the smallest useful Go wasip1 worklet, for the
// benchmark: the check of check.c (the file named by the fact
// "check.file" has a line "PermitRootLogin no") without encoding/json.
package main

import (
	"bufio"
	"os"
	"strings"
	"unsafe"
)

//go:wasmimport amagent fact
func fact(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport amagent response
func response(ptr unsafe.Pointer, n uint32) int32

func main() {
	key := []byte("check.file")
	n := fact(unsafe.Pointer(&key[0]), uint32(len(key)))
	if n < 2 {
		os.Exit(2)
	}
	buf := make([]byte, n)
	response(unsafe.Pointer(&buf[0]), uint32(n))
	f, err := os.Open(string(buf[1 : n-1])) // a JSON string without escapes
	if err != nil {
		os.Stdout.WriteString("cannot open the file\n")
		os.Exit(2)
	}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "PermitRootLogin no") {
			os.Stdout.WriteString("root login refused\n")
			return
		}
	}
	os.Stdout.WriteString("root login allowed\n")
	os.Exit(1)
}
