package logging

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// diskFile takes whole lines until it is full, then cuts one short and
// fails, as a file on a full disk does.
type diskFile struct {
	buf  bytes.Buffer
	room int // bytes left; <0: unlimited
}

func (d *diskFile) Write(p []byte) (int, error) {
	if d.room < 0 || len(p) <= d.room {
		d.buf.Write(p)
		if d.room >= 0 {
			d.room -= len(p)
		}
		return len(p), nil
	}
	n := d.room
	d.buf.Write(p[:n])
	d.room = 0
	return n, errors.New("write amagent.log: no space left on device")
}

// Issue 10 finding 7: with the log's disk full, lines were cut mid-line and
// nothing reached stderr. This test failed on the code before the fix.
func TestLogFallsBackToStderr(t *testing.T) {
	file := &diskFile{room: 30}
	var stderr bytes.Buffer
	log := NewText(&fallbackWriter{file: file, fallback: &stderr, path: "/var/log/amagent/amagent.log"}, 0)
	log.Info("first line fits") // ~60 bytes: cut short
	log.Info("second line")
	if n := strings.Count(stderr.String(), "cannot write /var/log/amagent/amagent.log"); n != 1 {
		t.Errorf("the switch to stderr was said %d times:\n%s", n, stderr.String())
	}
	for _, want := range []string{"msg=\"first line fits\"", "msg=\"second line\""} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("%s did not reach stderr:\n%s", want, stderr.String())
		}
	}
	file.room = -1 // space again
	log.Info("third line")
	got := file.buf.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "time=") || !strings.Contains(last, "third line") {
		t.Errorf("the line after recovery does not start a line of its own: %q", got)
	}
	if !strings.Contains(stderr.String(), "writable again") {
		t.Errorf("recovery not said:\n%s", stderr.String())
	}
}
