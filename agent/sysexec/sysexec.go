// Package sysexec runs programs the way the agent always runs them: argv
// only, never through a shell, the program resolved on a fixed system path
// (never the environment's PATH), with a timeout and capped output.
package sysexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrTimeout is returned when a program runs past its timeout.
var ErrTimeout = errors.New("timed out")

// DefaultTimeout applies when a Request has none.
const DefaultTimeout = 30 * time.Second

// DefaultMaxOutput caps stdout and stderr each when a Request has no cap.
const DefaultMaxOutput = 16 << 20

// Request is one program to run.
type Request struct {
	Argv      []string
	Stdin     []byte
	Timeout   time.Duration
	MaxOutput int      // per stream; 0 means DefaultMaxOutput
	Env       []string // nil means a minimal environment (LANG=C, fixed PATH)
}

// Result is what a program did. A non-zero exit is not an error.
type Result struct {
	ExitCode  int
	Stdout    []byte
	Stderr    []byte
	Truncated bool
	Duration  time.Duration
}

// Runner runs a Request. Collectors and the sandbox take a Runner so that
// tests can answer from recordings.
type Runner func(ctx context.Context, req Request) (Result, error)

// LookPath resolves a program name on the fixed system path. Absolute paths
// are taken as they are; relative paths with a separator are refused.
func LookPath(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty program name")
	}
	if filepath.IsAbs(name) {
		return name, nil
	}
	if strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("program %q: relative paths are not allowed", name)
	}
	for _, dir := range filepath.SplitList(SystemPath) {
		for _, ext := range exeSuffixes {
			p := filepath.Join(dir, name+ext)
			if isExecutable(p) {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("program %q not found on the system path %s", name, SystemPath)
}

// Run runs one program. It returns an error when the program could not be
// started or ran past its timeout (ErrTimeout); otherwise the exit code is
// in the Result.
func Run(ctx context.Context, req Request) (Result, error) {
	if len(req.Argv) == 0 {
		return Result{}, errors.New("empty argv")
	}
	path, err := LookPath(req.Argv[0])
	if err != nil {
		return Result{}, err
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	max := req.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, req.Argv[1:]...)
	cmd.Args[0] = req.Argv[0]
	cmd.Env = req.Env
	if cmd.Env == nil {
		cmd.Env = []string{"LANG=C", "LC_ALL=C", "PATH=" + SystemPath}
	}
	if req.Stdin != nil {
		cmd.Stdin = bytes.NewReader(req.Stdin)
	}
	stdout := &capWriter{max: max}
	stderr := &capWriter{max: max}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	setProcessGroup(cmd)
	cmd.WaitDelay = time.Second
	start := time.Now()
	err = cmd.Run()
	res := Result{
		Stdout:    stdout.buf.Bytes(),
		Stderr:    stderr.buf.Bytes(),
		Truncated: stdout.truncated || stderr.truncated,
		Duration:  time.Since(start),
		ExitCode:  -1,
	}
	if cmd.ProcessState != nil {
		res.ExitCode = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() == context.DeadlineExceeded {
		return res, fmt.Errorf("%s: %w after %s", req.Argv[0], ErrTimeout, timeout)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && res.ExitCode >= 0 {
			return res, nil
		}
		return res, fmt.Errorf("running %s: %w", req.Argv[0], err)
	}
	return res, nil
}

type capWriter struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	room := w.max - w.buf.Len()
	if room <= 0 {
		w.truncated = w.truncated || len(p) > 0
		return len(p), nil
	}
	if len(p) > room {
		w.buf.Write(p[:room])
		w.truncated = true
		return len(p), nil
	}
	w.buf.Write(p)
	return len(p), nil
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() {
		return false
	}
	return isExecMode(fi)
}
