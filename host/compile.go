package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/amagent/amagent/agent/version"
)

// Compiling a module is bounded (ABI.md section 5): wazero's CompileModule
// does not stop when its context ends and cannot be held to a memory
// budget, and a small module can keep it busy for hours. So:
//
//  1. Every module is measured first (compile_check.go): one over the
//     structural bounds is refused as "compile limit" before anything
//     compiles it.
//  2. With a cache directory and a CompileCommand (the agent), the module
//     is compiled in a child process (CompileChild) that bounds its own
//     memory (RLIMIT_AS and RLIMIT_DATA on Linux) and is killed at
//     Limits.CompileTimeout; it writes the compiled code into a staging
//     directory, which is checked into the cache (cache.go), and the agent
//     then loads the module from the cache, which is fast.
//  3. Without them (tests, tools built on this package, the interpreter),
//     the module compiles in this process in a goroutine: at
//     Limits.CompileTimeout the load is refused as "compile limit" and the
//     engine goes on, but the goroutine keeps compiling until wazero
//     returns (its result is then closed) and its memory is not bounded
//     beyond what the structural bounds imply.
//
// A module refused as "compile limit" is remembered by its sha256, in
// memory and (with a cache directory) on disk with the bound it passed, and
// refused at once until its bytes change or the bound is raised. The
// engine's lock is never held while compiling: concurrent loads of one
// module wait for the one compile under way (flight).

// flight is one compile under way; done is closed when c and err are set.
type flight struct {
	done chan struct{}
	c    compiled
	err  error
}

// compileNow compiles a module that is neither in memory nor refused.
func (e *Engine) compileNow(ctx context.Context, name, sum string, wasm []byte) (compiled, error) {
	if err := measure(wasm).check(); err != nil {
		e.log.Warn("module refused: compile limit", "worklet", name, "sha256", sum, "reason", err.(*CompileLimitError).Reason)
		return compiled{}, err
	}
	if e.codes != nil {
		if reason, ok := e.codes.refused(sum, e.limits); ok {
			return compiled{}, &CompileLimitError{Reason: reason}
		}
	}
	mod, image := e.prepare(sum, wasm)
	var cm wazero.CompiledModule
	var err error
	if e.codes == nil {
		cm, err = e.compileHere(ctx, e.rt, mod, nil)
	} else {
		cm, err = e.compileChecked(ctx, name, sum, mod)
	}
	if limit := (*CompileLimitError)(nil); errors.As(err, &limit) {
		e.log.Warn("module refused: compile limit", "worklet", name, "sha256", sum, "reason", limit.Reason)
		if e.codes != nil {
			if rerr := e.codes.refuse(sum, limit.Reason, e.limits); rerr != nil {
				e.log.Warn("compiled-code cache: remembering a refusal failed", "worklet", name, "error", rerr.Error())
			}
		}
	}
	if err != nil {
		return compiled{}, err
	}
	return compiled{cm: cm, image: image}, nil
}

// compileChecked loads the module from its checked cache entry, compiling
// it first (in the child, or here) when there is none or it is damaged.
func (e *Engine) compileChecked(ctx context.Context, name, sum string, mod []byte) (wazero.CompiledModule, error) {
	ps := sha256.Sum256(mod)
	prepared := hex.EncodeToString(ps[:])
	switch state, why := e.codes.check(sum, prepared); state {
	case entryGood:
		cm, err := e.rt.CompileModule(ctx, mod)
		if err == nil {
			return cm, nil
		}
		if !isCacheError(err) {
			return nil, fmt.Errorf("module: %w", err)
		}
		e.damaged(name, sum, err.Error())
	case entryDamaged:
		e.damaged(name, sum, why)
	}
	staging, err := e.codes.staging()
	if err != nil {
		e.log.Warn("compiled-code cache: no staging directory; compiling in the agent", "worklet", name, "error", err.Error())
		return e.compileHere(ctx, e.rt, mod, nil)
	}
	defer removeAll(staging)
	if err := e.compileInto(ctx, name, staging, mod); err != nil {
		return nil, err
	}
	if err := e.codes.keep(sum, prepared, staging); err != nil {
		// The module compiled within the bound; only keeping it failed
		// (a full disk): compile it here, which the bound just showed
		// to be safe.
		e.log.Warn("compiled-code cache: keeping an entry failed; compiling in the agent", "worklet", name, "error", err.Error())
		return e.compileHere(ctx, e.rt, mod, nil)
	}
	cm, err := e.rt.CompileModule(ctx, mod)
	if err != nil {
		if isCacheError(err) {
			e.codes.drop(sum)
			return e.compileHere(ctx, e.rt, mod, nil)
		}
		return nil, fmt.Errorf("module: %w", err)
	}
	return cm, nil
}

// damaged deletes the module's entry and logs it once per module.
func (e *Engine) damaged(name, sum, why string) {
	e.codes.drop(sum)
	e.mu.Lock()
	first := !e.warned[sum]
	e.warned[sum] = true
	e.mu.Unlock()
	if first {
		e.log.Warn("compiled-code cache entry for "+name+" was damaged; compiling again", "worklet", name, "sha256", sum, "reason", why)
	}
}

// isCacheError recognises wazero's errors reading a cache entry.
func isCacheError(err error) bool {
	return strings.Contains(err.Error(), "compilationcache")
}

// runtimeConfig is the engine's runtime configuration without a cache:
// what a compile elsewhere must match for its entry to be the one the
// engine looks up.
func (e *Engine) runtimeConfig() wazero.RuntimeConfig {
	return wazero.NewRuntimeConfig().WithCloseOnContextDone(e.closeOnDone).
		WithMemoryLimitPages(uint32(e.limits.MaxMemory >> 16))
}

// compileInto compiles mod so that its cache entry is written in staging:
// in the child process when there is one, else here.
func (e *Engine) compileInto(ctx context.Context, name, staging string, mod []byte) error {
	if len(e.child) > 0 {
		err := e.compileInChild(ctx, staging, mod)
		if !errors.Is(err, errNoChild) {
			return err
		}
		e.log.Warn("the compile process could not run; compiling in the agent (time bound only)", "worklet", name, "error", err.Error())
	}
	cache, err := wazero.NewCompilationCacheWithDir(staging)
	if err != nil {
		return fmt.Errorf("compiled-code cache: %w", err)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, e.runtimeConfig().WithCompilationCache(cache))
	cm, err := e.compileHere(ctx, rt, mod, func() {
		_ = rt.Close(context.Background())
		_ = cache.Close(context.Background())
	})
	if err != nil {
		return err
	}
	_ = cm.Close(ctx)
	return nil
}

// compileHere compiles in this process, in a goroutine: past the compile
// timeout (or when ctx ends) it returns without waiting, and the goroutine
// closes what it compiled when wazero returns. after, when set, runs once
// the goroutine is done.
func (e *Engine) compileHere(ctx context.Context, rt wazero.Runtime, mod []byte, after func()) (wazero.CompiledModule, error) {
	type result struct {
		cm  wazero.CompiledModule
		err error
	}
	ch := make(chan result, 1)
	go func() {
		cm, err := rt.CompileModule(context.WithoutCancel(ctx), mod)
		ch <- result{cm, err}
	}()
	abandon := func() {
		go func() {
			if r := <-ch; r.cm != nil {
				_ = r.cm.Close(context.Background())
			}
			if after != nil {
				after()
			}
		}()
	}
	timer := time.NewTimer(e.limits.CompileTimeout)
	defer timer.Stop()
	select {
	case r := <-ch:
		if after != nil {
			defer after()
		}
		if r.err != nil {
			return nil, fmt.Errorf("module: %w", r.err)
		}
		return r.cm, nil
	case <-timer.C:
		abandon()
		return nil, &CompileLimitError{Reason: e.timeoutReason()}
	case <-ctx.Done():
		abandon()
		return nil, ctx.Err()
	}
}

func (e *Engine) timeoutReason() string {
	return fmt.Sprintf("compiling took longer than %s (sandbox.compile_timeout)", e.limits.CompileTimeout)
}

// errNoChild is a compile process that could not run at all (not found,
// not this agent's version): the engine compiles here instead.
var errNoChild = errors.New("no compile process")

// compileInChild runs the compile process on mod under the compile bound.
func (e *Engine) compileInChild(ctx context.Context, staging string, mod []byte) error {
	cctx, cancel := context.WithTimeout(ctx, e.limits.CompileTimeout)
	defer cancel()
	args := append(append([]string{}, e.child[1:]...),
		"-dir", staging,
		"-memory", strconv.FormatInt(e.limits.CompileMemory, 10),
		"-pages", strconv.FormatInt(e.limits.MaxMemory>>16, 10),
		"-close-on-done="+strconv.FormatBool(e.closeOnDone),
		"-max", strconv.Itoa(len(mod)),
		"-version", version.Version)
	cmd := exec.CommandContext(cctx, e.child[0], args...)
	cmd.Stdin = bytes.NewReader(mod)
	stdout := &capWriter{max: 4 << 10}
	stderr := &capWriter{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	childProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: %v", errNoChild, err)
	}
	err := cmd.Wait()
	line, _, _ := strings.Cut(stdout.buf.String(), "\n")
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case cctx.Err() != nil:
		return &CompileLimitError{Reason: e.timeoutReason()}
	case err == nil && line == "ok":
		return nil
	case err == nil && strings.HasPrefix(line, "invalid: "):
		return fmt.Errorf("module: %s", strings.TrimPrefix(line, "invalid: "))
	case err == nil && strings.HasPrefix(line, "version: "):
		return fmt.Errorf("%w: it is agent %s, this is %s", errNoChild, strings.TrimPrefix(line, "version: "), version.Version)
	case err == nil && strings.HasPrefix(line, "cache: "):
		return fmt.Errorf("compiled-code cache: %s", strings.TrimPrefix(line, "cache: "))
	case outOfMemory(stderr.buf.String()):
		return &CompileLimitError{Reason: fmt.Sprintf("compiling needed more than %d bytes of memory (sandbox.compile_memory)", e.limits.CompileMemory)}
	case crashed(err, stderr.buf.String()):
		// Under an address-space limit a failed mapping can end the
		// compiler with a fault rather than Go's "out of memory": the
		// module made the compiler fail within its bounds either way.
		return &CompileLimitError{Reason: fmt.Sprintf("compiling crashed under the %d-byte memory bound (sandbox.compile_memory): %s", e.limits.CompileMemory,
			firstLine(stderr.buf.String()))}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(stderr.buf.String()), "\n")
	return fmt.Errorf("the compile process failed (%v): %s", err, first)
}

// crashed recognises a compile process ended by a fault (SIGSEGV, SIGBUS)
// rather than by an answer of its own.
func crashed(err error, stderr string) bool {
	if err == nil {
		return false
	}
	for _, s := range []string{"SIGSEGV", "SIGBUS", "unexpected signal", "signal: segmentation fault", "signal: bus error"} {
		if strings.Contains(stderr, s) || strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return first
}

// outOfMemory recognises a Go process that ran out of its address space.
func outOfMemory(stderr string) bool {
	// Under RLIMIT_AS a thread's stack may be what cannot be mapped.
	for _, s := range []string{"out of memory", "cannot allocate memory", "ENOMEM", "pthread_create failed", "failed to create new OS thread"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

func removeAll(dir string) { _ = os.RemoveAll(dir) }
