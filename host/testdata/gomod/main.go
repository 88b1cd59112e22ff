// Command gomod is a Go wasip1 test worklet: it checks that the file named
// by the parameter "file" has a line "PermitRootLogin no", reading the
// hostname through amagent.fact. With the parameter "panic" true, it panics.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unsafe"
)

//go:wasmimport amagent fact
func fact(ptr unsafe.Pointer, n uint32) int32

//go:wasmimport amagent response
func response(ptr unsafe.Pointer, n uint32) int32

func getFact(key string) string {
	b := []byte(key)
	n := fact(unsafe.Pointer(&b[0]), uint32(len(b)))
	if n < 0 {
		return ""
	}
	out := make([]byte, n)
	if n > 0 {
		response(unsafe.Pointer(&out[0]), uint32(n))
	}
	return string(out)
}

type input struct {
	Phase  string         `json:"phase"`
	Params map[string]any `json:"params"`
}

type result struct {
	Message string `json:"message"`
	Details any    `json:"details"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Println("bad input:", err)
		os.Exit(3)
	}
	if p, _ := in.Params["panic"].(bool); p {
		panic("asked to panic")
	}
	file, _ := in.Params["file"].(string)
	host := getFact("hostname")
	f, err := os.Open(file)
	if err != nil {
		json.NewEncoder(os.Stdout).Encode(result{Message: err.Error(), Details: host})
		os.Exit(2)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), "PermitRootLogin no") {
			json.NewEncoder(os.Stdout).Encode(result{Message: "root login refused", Details: host})
			return
		}
	}
	json.NewEncoder(os.Stdout).Encode(result{Message: "root login allowed", Details: host})
	f.Close()
	os.Exit(1)
}
