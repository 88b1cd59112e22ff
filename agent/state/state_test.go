package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileStoreAtomicWriteAndMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := NewFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	if _, err := s.Read("device_uuid"); !IsNotExist(err) {
		t.Fatalf("reading a missing key: %v, want not-exist", err)
	}
	for _, v := range []string{"first", "second, longer value"} {
		if err := s.Write("device_uuid", []byte(v)); err != nil {
			t.Fatal(err)
		}
		got, err := s.Read("device_uuid")
		if err != nil || string(got) != v {
			t.Fatalf("read %q, %v; want %q", got, err, v)
		}
	}
	fi, err := os.Stat(s.Path("device_uuid"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func TestKeysCannotEscape(t *testing.T) {
	s, _ := NewFileStore(t.TempDir())
	m := NewMemStore()
	for _, k := range []string{"", "../etc/passwd", "a/b", ".hidden", "x y"} {
		if err := s.Write(k, []byte("x")); err == nil || !strings.Contains(err.Error(), "invalid key") {
			t.Errorf("FileStore.Write(%q) = %v, want invalid key", k, err)
		}
		if _, err := m.Read(k); err == nil {
			t.Errorf("MemStore.Read(%q) accepted", k)
		}
	}
}

func TestQuarantine(t *testing.T) {
	s, _ := NewFileStore(t.TempDir())
	s.Write("outbox.json", []byte("{garbage"))
	dst, err := s.Quarantine("outbox.json")
	if err != nil || !strings.HasSuffix(dst, "outbox.json.corrupt") {
		t.Fatalf("Quarantine = %q, %v", dst, err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "{garbage" {
		t.Fatalf("corrupt bytes not kept: %q", b)
	}
	if _, err := s.Read("outbox.json"); !IsNotExist(err) {
		t.Fatalf("key still present after quarantine: %v", err)
	}
}

func TestMemStoreCopies(t *testing.T) {
	m := NewMemStore()
	b := []byte("abc")
	m.Write("k", b)
	b[0] = 'X'
	got, _ := m.Read("k")
	if string(got) != "abc" {
		t.Fatalf("MemStore kept the caller's slice: %q", got)
	}
	got[0] = 'Y'
	again, _ := m.Read("k")
	if string(again) != "abc" {
		t.Fatalf("MemStore returned its own slice: %q", again)
	}
}
