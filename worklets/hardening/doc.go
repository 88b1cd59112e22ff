// Package hardening holds the tests of the hardening pack (the
// worklets/hardening-* folders, each mapped to one ComplianceAsCode rule by
// its manifest's references): every folder's cases through `amagent
// worklet test`, and, with AMAGENT_OSCAP=1, parity with OpenSCAP on root
// trees built from this machine's files (parity_test.go).
package hardening
