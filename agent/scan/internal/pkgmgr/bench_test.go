package pkgmgr

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkParseRPMQuery parses a 1,500-package rpm query output (the size
// of a RHEL workstation).
func BenchmarkParseRPMQuery(b *testing.B) {
	var buf bytes.Buffer
	for i := range 1500 {
		fmt.Fprintf(&buf, "pkg-%04d\t(none)\t1.%d.0\t%d.el9\tx86_64\t1714033900\tRed Hat, Inc.\n", i, i%10, i%7)
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseRPMQuery(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAPKInstalled parses a 500-package apk database with 20
// file lines per package.
func BenchmarkParseAPKInstalled(b *testing.B) {
	var buf bytes.Buffer
	for i := range 500 {
		fmt.Fprintf(&buf, "C:Q1abc=\nP:pkg-%d\nV:1.%d-r0\nA:x86_64\nT:a package\nm:Someone <x@example.org>\nt:1705323391\n", i, i)
		for j := range 20 {
			fmt.Fprintf(&buf, "R:file%d\na:0:0:644\nZ:Q1xyz=\n", j)
		}
		buf.WriteString("\n")
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := ParseAPKInstalled(in); err != nil {
			b.Fatal(err)
		}
	}
}
