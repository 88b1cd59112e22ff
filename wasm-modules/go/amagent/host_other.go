//go:build !wasip1

package amagent

import (
	"fmt"
	"os"
)

// Outside a wasip1 module there is no host: the package still builds so
// that `go vet ./...` and editors work, and calls fail with ErrUnavailable.

func hostFact(string) int32     { return codeUnavailable }
func hostExec([]byte) int32     { return codeUnavailable }
func hostResponse([]byte) int32 { return codeUnavailable }

func hostLog(level Level, msg string) {
	fmt.Fprintf(os.Stderr, "amagent log level %d: %s\n", level, msg)
}
