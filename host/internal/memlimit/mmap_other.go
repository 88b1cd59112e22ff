//go:build !((linux || darwin || freebsd) && (amd64 || arm64 || riscv64 || ppc64le || s390x || loong64))

package memlimit

import "github.com/tetratelabs/wazero/experimental"

func newMemory(l *Limiter, capBytes, max uint64) experimental.LinearMemory {
	return newSliceMemory(l, capBytes)
}

// Release is a no-op where memory is a Go slice.
func Release() {}
