// Package sysexec runs programs the way the agent always runs them: argv
// only, never through a shell, the program resolved on a fixed system path
// (never the environment's PATH), with a timeout and capped output. A
// contained run (Request.Contain, the sandbox's exec) also ends every
// process it started before Run returns: see Containment.
package sysexec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
	// Contain runs the program as the sandbox must: every process it
	// starts, daemons included where Containment is "cgroup", has ended
	// when Run returns, however the call ends; on Linux the child has
	// no_new_privs; its working directory is "/" and it inherits no
	// descriptor but 0-2. Off for the agent's own work (an installer's
	// postinst may start a service that must outlive the call).
	Contain bool
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
//
// The program runs in a process group of its own, killed whole when the
// timeout passes or ctx is done. With req.Contain the whole group (on
// Linux, the call's own cgroup v2 when the agent may create one: see
// Containment) is killed when the call ends in any way, so nothing the
// program started outlives Run.
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
	cmd := exec.Command(path, req.Argv[1:]...)
	cmd.Args[0] = req.Argv[0]
	cmd.Env = req.Env
	if cmd.Env == nil {
		cmd.Env = []string{"LANG=C", "LC_ALL=C", "PATH=" + SystemPath}
	}
	if req.Contain {
		cmd.Dir = containedDir
	}

	// The pipes are ours, not os/exec's, so that waiting for the program
	// and draining its output are separate steps with their own bounds.
	pipes, err := newPipes(req.Stdin != nil)
	if err != nil {
		return Result{}, fmt.Errorf("running %s: %w", req.Argv[0], err)
	}
	defer pipes.closeAll()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pipes.inR, pipes.outW, pipes.errW
	if pipes.inR == nil {
		cmd.Stdin = nil // /dev/null
	}

	start := time.Now()
	p, err := startProcess(cmd, req.Contain)
	pipes.closeChildEnds()
	if err != nil {
		return Result{}, fmt.Errorf("starting %s: %w", req.Argv[0], err)
	}
	stdout := &capWriter{max: max}
	stderr := &capWriter{max: max}
	drained := pipes.drain(req.Stdin, stdout, stderr)

	exited := make(chan struct{})
	go func() {
		p.waitExit()
		close(exited)
	}()
	select {
	case <-exited:
	case <-ctx.Done():
		p.killAll()
		<-exited
	}
	if req.Contain {
		p.killAll()
	}
	state, waitErr := p.reap()
	p.release()
	// The output is complete when every holder of the pipes is gone; one
	// that escaped (a setsid daemon without a cgroup, or anything when not
	// contained) gets a second before the pipes are closed under it.
	select {
	case <-drained:
	case <-time.After(drainDelay):
		pipes.closeAll()
		select {
		case <-drained:
		case <-time.After(drainDelay):
		}
	}
	res := Result{ExitCode: -1, Duration: time.Since(start)}
	res.Stdout, res.Truncated = stdout.snapshot()
	var errTrunc bool
	res.Stderr, errTrunc = stderr.snapshot()
	res.Truncated = res.Truncated || errTrunc
	if state != nil {
		res.ExitCode = state.ExitCode()
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return res, fmt.Errorf("%s: %w after %s", req.Argv[0], ErrTimeout, timeout)
	case ctx.Err() != nil:
		return res, fmt.Errorf("running %s: %w", req.Argv[0], ctx.Err())
	case waitErr != nil:
		return res, fmt.Errorf("running %s: %w", req.Argv[0], waitErr)
	case res.ExitCode < 0:
		return res, fmt.Errorf("running %s: %s", req.Argv[0], state)
	}
	return res, nil
}

// drainDelay bounds how long Run waits for the program's output after it
// exited (as os/exec's WaitDelay).
const drainDelay = time.Second

// pipes are the program's stdin, stdout and stderr.
type pipes struct {
	inR, inW   *os.File // nil when the request has no stdin
	outR, outW *os.File
	errR, errW *os.File
	once       sync.Once
}

func newPipes(withStdin bool) (*pipes, error) {
	p := &pipes{}
	var err error
	if p.outR, p.outW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if p.errR, p.errW, err = os.Pipe(); err != nil {
		p.closeAll()
		return nil, err
	}
	if withStdin {
		if p.inR, p.inW, err = os.Pipe(); err != nil {
			p.closeAll()
			return nil, err
		}
	}
	return p, nil
}

// closeChildEnds closes the parent's copies of the ends the child holds,
// so that the readers see EOF when the last holder is gone.
func (p *pipes) closeChildEnds() {
	for _, f := range []*os.File{p.inR, p.outW, p.errW} {
		if f != nil {
			_ = f.Close()
		}
	}
}

// closeAll closes every end; a blocked read or write returns.
func (p *pipes) closeAll() {
	p.once.Do(func() {
		for _, f := range []*os.File{p.inR, p.inW, p.outR, p.outW, p.errR, p.errW} {
			if f != nil {
				_ = f.Close()
			}
		}
	})
}

// drain feeds stdin and copies stdout and stderr; the channel closes when
// both outputs reached EOF (or were closed).
func (p *pipes) drain(stdin []byte, stdout, stderr io.Writer) <-chan struct{} {
	if p.inW != nil {
		go func() {
			_, _ = p.inW.Write(stdin)
			_ = p.inW.Close()
		}()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _, _ = io.Copy(stdout, p.outR) }()
	go func() { defer wg.Done(); _, _ = io.Copy(stderr, p.errR) }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// capWriter keeps the first max bytes written; safe for one writer and a
// concurrent snapshot.
type capWriter struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (w *capWriter) snapshot() ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Clone(w.buf.Bytes()), w.truncated
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
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

// Containment modes (see Containment).
const (
	// ContainmentCgroup: each contained call runs in a cgroup v2 of its
	// own, killed whole (cgroup.kill) when the call ends: setsid daemons
	// included.
	ContainmentCgroup = "cgroup"
	// ContainmentProcessGroup: each call runs in a process group of its
	// own, killed whole when the call ends; a process that leaves the
	// group (setsid, setpgid) escapes.
	ContainmentProcessGroup = "process-group"
	// ContainmentProcess: only the started program is killed.
	ContainmentProcess = "process"
)
