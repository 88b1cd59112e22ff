package logging

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestWithProcessIsLast(t *testing.T) {
	var buf bytes.Buffer
	l := WithProcess(NewText(&buf, 0), "checkin")
	l.Info("performing checkin with device UUID", "device_uuid", "u-1")
	l.With("a", 1).Info("complete", "next_in", "1h")
	got := regexp.MustCompile(`time=\S+ `).ReplaceAllString(buf.String(), "time=T ")
	want := "time=T level=INFO msg=\"performing checkin with device UUID\" device_uuid=u-1 process=checkin\n" +
		"time=T level=INFO msg=complete a=1 next_in=1h process=checkin\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFileAndStderr(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	p := filepath.Join(dir, "sub", "amagent.log")
	l, c, err := New(Options{File: p, Stderr: &stderr})
	if err != nil {
		t.Fatal(err)
	}
	l.Info("hello", "k", "v")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "msg=hello k=v") || string(b) != stderr.String() {
		t.Fatalf("file %q stderr %q", b, stderr.String())
	}
}

func TestBadLogPath(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	os.WriteFile(blocker, nil, 0o600)
	if _, _, err := New(Options{File: filepath.Join(blocker, "amagent.log")}); err == nil {
		t.Fatal("log under a regular file accepted")
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "amagent.log")
	l, c, err := New(Options{File: p, MaxSizeMB: 1, MaxBackups: 2})
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 1000)
	for i := 0; i < 4*1100; i++ { // about 4.4 MB: several rotations
		l.Info("filler", "data", line)
	}
	c.Close()
	// amagent.log plus at most 2 backups. lumberjack removes old backups
	// in a goroutine of its own, so wait (briefly) for it.
	var total int64
	var files int
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		total, files = 0, 0
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if fi, err := e.Info(); err == nil {
				total += fi.Size()
				files++
			}
		}
		if files <= 3 || time.Now().After(deadline) {
			break
		}
	}
	if files > 3 || files < 2 || total > 3<<20+1<<16 {
		t.Fatalf("%d files, %d bytes: not rotated and bounded", files, total)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() > 1<<20 {
		t.Fatalf("current log: %v %v", fi, err)
	}
}
