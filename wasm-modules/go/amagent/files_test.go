package amagent

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestStat(t *testing.T) {
	testFacts = map[string]string{"/etc/shadow": `{"type":"file","mode":"0640","uid":0,"gid":42,"user":"root","group":"shadow","size":1042,"mtime":"2026-11-01T00:00:00Z"}`}
	defer func() { testFacts = nil }()
	p, err := Stat("/etc/shadow")
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != "file" || p.Perm() != 0o640 || p.Group != "shadow" || p.GID != 42 || p.Size != 1042 {
		t.Errorf("Stat = %+v", p)
	}
	if _, err := Stat("/etc/absent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Stat of a missing path: %v, want ErrNotFound", err)
	}
}

func TestFileErrorsNameTheCause(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(filepath.Join(dir, "absent")); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadFile of a missing file: %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "f"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadFileString(filepath.Join(dir, "f")); s != "x\n" || err != nil {
		t.Errorf("ReadFileString = %q, %v", s, err)
	}
	if names, err := ListDir(dir); len(names) != 1 || names[0] != "f" || err != nil {
		t.Errorf("ListDir = %v, %v", names, err)
	}
	if err := fileError("read", "/etc/shadow", os.ErrPermission); !errors.Is(err, ErrDenied) {
		t.Errorf("a permission error is not ErrDenied: %v", err)
	}
}
