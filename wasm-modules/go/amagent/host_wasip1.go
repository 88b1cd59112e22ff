//go:build wasip1

package amagent

import "unsafe"

//go:wasmimport amagent fact
func amFact(keyPtr unsafe.Pointer, keyLen uint32) int32

//go:wasmimport amagent exec
func amExec(reqPtr unsafe.Pointer, reqLen uint32) int32

//go:wasmimport amagent response
func amResponse(bufPtr unsafe.Pointer, bufCap uint32) int32

//go:wasmimport amagent log
func amLog(level int32, msgPtr unsafe.Pointer, msgLen uint32)

func hostFact(key string) int32 {
	return amFact(unsafe.Pointer(unsafe.StringData(key)), uint32(len(key)))
}

func hostFactBytes(key []byte) int32 {
	return amFact(unsafe.Pointer(unsafe.SliceData(key)), uint32(len(key)))
}

func hostExec(req []byte) int32 {
	return amExec(unsafe.Pointer(unsafe.SliceData(req)), uint32(len(req)))
}

func hostResponse(buf []byte) int32 {
	return amResponse(unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf)))
}

func hostLog(level Level, msg string) {
	amLog(int32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}
