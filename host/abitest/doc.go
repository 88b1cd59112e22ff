// Package abitest is a black-box test of guest ABI v1 (shared/ABI.md): it
// builds the amagent binary and runs `amagent worklet test` on the modules
// under testdata/abi (conformance worklets written in WAT, C and Go from
// ABI.md alone) and testdata/hostile (modules that try to break the
// sandbox), asserting the JSON result fields, the error kinds and the
// command's exit codes. It imports nothing from the project: only the
// command line is under test.
package abitest
