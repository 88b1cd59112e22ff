// Package logging builds the agent's one logger: log/slog's text handler
// writing amagent.log, rotated by size, optionally copied to stderr.
//
// The seed's lines end with process=<name>. slog's Logger.With would put
// such an attribute first, so WithProcess wraps a handler that appends it
// to each record instead, keeping it last.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Rotation defaults: amagent.log never grows past MaxSizeMB and at most
// MaxBackups old files are kept beside it.
const (
	MaxSizeMB  = 10
	MaxBackups = 3
)

// Options says where the log goes.
type Options struct {
	// File is the path of amagent.log; empty means no file.
	File string
	// Stderr, when set, also receives every line (foreground runs).
	Stderr io.Writer
	// Level is the lowest level written; the zero value is Info.
	Level slog.Level
	// MaxSizeMB and MaxBackups override the rotation defaults when > 0.
	MaxSizeMB, MaxBackups int
	// Fallback receives the lines the file cannot take; nil means
	// stderr (or nothing more when Stderr already gets every line).
	Fallback io.Writer
}

// New returns the logger and a closer for its file.
func New(o Options) (*slog.Logger, io.Closer, error) {
	var ws []io.Writer
	var closer io.Closer = nopCloser{}
	if o.File != "" {
		if err := os.MkdirAll(filepath.Dir(o.File), 0o750); err != nil {
			return nil, nil, fmt.Errorf("log directory: %w", err)
		}
		// Open once now so that a bad path is an error at start, not a
		// silent loss of every line later.
		f, err := os.OpenFile(o.File, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			return nil, nil, fmt.Errorf("log file: %w", err)
		}
		f.Close()
		lj := &lumberjack.Logger{
			Filename:   o.File,
			MaxSize:    pick(o.MaxSizeMB, MaxSizeMB),
			MaxBackups: pick(o.MaxBackups, MaxBackups),
		}
		fw := &fallbackWriter{file: lj, path: o.File, fallback: o.Fallback}
		if fw.fallback == nil && o.Stderr == nil {
			fw.fallback = os.Stderr
		}
		ws = append(ws, fw)
		closer = lj
	}
	if o.Stderr != nil {
		ws = append(ws, o.Stderr)
	}
	var w io.Writer = io.Discard
	switch len(ws) {
	case 1:
		w = ws[0]
	case 2:
		w = teeWriter(ws)
	}
	return NewText(w, o.Level), closer, nil
}

// NewText returns a logger writing the seed's key=value lines to w.
func NewText(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func pick(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// WithProcess returns a logger whose records all end with
// process=<name>, after the record's own attributes.
func WithProcess(l *slog.Logger, name string) *slog.Logger {
	return slog.New(&processHandler{inner: l.Handler(), attr: slog.String("process", name)})
}

type processHandler struct {
	inner slog.Handler
	attr  slog.Attr
}

func (h *processHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *processHandler) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attr)
	return h.inner.Handle(ctx, r)
}

func (h *processHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &processHandler{inner: h.inner.WithAttrs(as), attr: h.attr}
}

func (h *processHandler) WithGroup(name string) slog.Handler {
	return &processHandler{inner: h.inner.WithGroup(name), attr: h.attr}
}
