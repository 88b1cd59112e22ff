package linux

import (
	"strings"
	"testing"
)

// TestReadDpkgStatusLongLines: a description line longer than the
// reader's buffer is skipped in pieces, CRLF line ends are accepted, and a
// Package field too long to be a name is an error naming the line.
func TestReadDpkgStatusLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*dpkgLineBuf)
	status := "Package: a\r\nStatus: install ok installed\r\nDescription: " + long + "\r\n " + long + "\r\nVersion: 1.0\r\nArchitecture: armhf\r\n\r\n" +
		"Package: b\nStatus: install ok unpacked\nVersion: 2\n"
	ps, err := ReadDpkgStatus(strings.NewReader(status), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []DpkgPackage{
		{Name: "a", Version: "1.0", Architecture: "armhf", Want: "install", Flag: "ok", State: "installed"},
		{Name: "b", Version: "2", Want: "install", Flag: "ok", State: "unpacked"},
	}
	if len(ps) != len(want) || ps[0] != want[0] || ps[1] != want[1] {
		t.Errorf("got %+v, want %+v", ps, want)
	}
	_, err = ReadDpkgStatus(strings.NewReader("Package: "+long+"\n"), 0)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("over-long Package field: %v", err)
	}
}
