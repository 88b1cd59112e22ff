//go:build !wasip1

package amagent

import (
	"fmt"
	"os"
)

// Outside a wasip1 module there is no host: the package still builds so
// that `go vet ./...` and editors work, and calls fail with ErrUnavailable.
// Tests set testFacts to answer fact calls from a map (key -> raw JSON).

var (
	testFacts map[string]string
	testSlot  []byte
)

func hostFact(key string) int32 {
	if testFacts == nil {
		return codeUnavailable
	}
	v, ok := testFacts[key]
	if !ok {
		testSlot = nil
		return -1
	}
	testSlot = []byte(v)
	return int32(len(v))
}

func hostFactBytes(key []byte) int32 { return hostFact(string(key)) }

func hostExec([]byte) int32 { return codeUnavailable }

func hostResponse(buf []byte) int32 {
	if testFacts == nil {
		return codeUnavailable
	}
	return int32(copy(buf, testSlot))
}

func hostLog(level Level, msg string) {
	fmt.Fprintf(os.Stderr, "amagent log level %d: %s\n", level, msg)
}
