package logging

import (
	"fmt"
	"io"
	"sync"
)

// fallbackWriter writes each log line to the file; when the file cannot
// take a line (a full disk, a removed directory), the line goes to the
// fallback (stderr) instead, after one line saying so, and a line is
// never lost. When the file works again, that is said once too. A line cut
// short in the file is ended with a newline before the next one, so that
// operators' greps see whole lines.
type fallbackWriter struct {
	mu       sync.Mutex
	file     io.Writer
	fallback io.Writer // nil: the lines already reach stderr another way
	path     string
	failing  bool
	partial  bool
}

func (w *fallbackWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.partial {
		if _, err := w.file.Write([]byte("\n")); err == nil {
			w.partial = false
		}
	}
	var n int
	var err error
	if !w.partial {
		n, err = w.file.Write(p)
	} else {
		err = io.ErrShortWrite
	}
	if err == nil && n == len(p) {
		if w.failing {
			w.failing = false
			if w.fallback != nil {
				fmt.Fprintf(w.fallback, "amagent: %s is writable again; logging there\n", w.path)
			}
		}
		return len(p), nil
	}
	if n > 0 {
		w.partial = true
	}
	if err == nil {
		err = io.ErrShortWrite
	}
	if !w.failing {
		w.failing = true
		if w.fallback != nil {
			fmt.Fprintf(w.fallback, "amagent: cannot write %s (%v); logging to stderr until it can\n", w.path, err)
		}
	}
	if w.fallback != nil {
		_, _ = w.fallback.Write(p)
	}
	// The line went to stderr: the logger must not see an error it
	// would only drop.
	return len(p), nil
}

// teeWriter writes every line to each writer, whatever another did.
type teeWriter []io.Writer

func (t teeWriter) Write(p []byte) (int, error) {
	for _, w := range t {
		_, _ = w.Write(p)
	}
	return len(p), nil
}
