//go:build wasm

package scanjson

import "unsafe"

// load64 reads 8 bytes at b[i] little-endian (wasm is), as one load.
func load64(b []byte, i int) uint64 {
	_ = b[i+7]
	return *(*uint64)(unsafe.Pointer(&b[i]))
}
