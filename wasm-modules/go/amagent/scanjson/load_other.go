//go:build !wasm

package scanjson

import "encoding/binary"

// load64 reads 8 bytes at b[i] little-endian.
func load64(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }
