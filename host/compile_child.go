package host

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/tetratelabs/wazero"

	"github.com/amagent/amagent/agent/version"
)

// CompileChildCommand is the hidden subcommand of the agent that runs
// CompileChild; the agent's Options.CompileCommand is its own binary and
// this.
const CompileChildCommand = "__compile-module"

// CompileChild is the compile process (compile.go): it bounds its own
// memory to -memory bytes more than it uses when it starts (Linux), reads
// the module's bytes from stdin, compiles them with the engine's runtime
// configuration into a compilation cache in -dir, and prints one line:
// "ok", "invalid: <why>" (the module does not compile), "cache: <why>"
// (writing the entry failed) or "version: <v>" (another agent's binary).
// Running out of memory ends it with Go's "out of memory" on stderr; the
// engine kills it at its deadline.
func CompileChild(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet(CompileChildCommand, flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("dir", "", "compilation cache `directory` to write the entry in")
	memory := fl.Int64("memory", 512<<20, "memory `bytes` the compile may use")
	pages := fl.Uint64("pages", 65536, "the engine's memory limit in wasm `pages`")
	closeOnDone := fl.Bool("close-on-done", true, "the engine's WithCloseOnContextDone")
	max := fl.Int64("max", 64<<20, "largest module in `bytes`")
	ver := fl.String("version", "", "the agent version of the engine")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fl.NArg() > 0 {
		return errors.New("want: " + CompileChildCommand + " -dir DIR [-memory BYTES] [-pages N] [-close-on-done] [-max BYTES] -version V < module.wasm")
	}
	if *ver != version.Version {
		fmt.Fprintf(stdout, "version: %s\n", version.Version)
		return nil
	}
	if err := limitMemory(*memory); err != nil {
		fmt.Fprintf(stderr, "compile process: memory bound not set: %v\n", err)
	}
	debug.SetMemoryLimit(*memory)
	wasm, err := io.ReadAll(io.LimitReader(stdin, *max+1))
	if err != nil {
		return fmt.Errorf("reading the module: %w", err)
	}
	if int64(len(wasm)) > *max {
		return fmt.Errorf("the module is over %d bytes", *max)
	}
	cache, err := wazero.NewCompilationCacheWithDir(*dir)
	if err != nil {
		fmt.Fprintf(stdout, "cache: %s\n", oneLine(err))
		return nil
	}
	cfg := wazero.NewRuntimeConfig().WithCloseOnContextDone(*closeOnDone).
		WithMemoryLimitPages(uint32(min(*pages, 65536))).WithCompilationCache(cache)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	_, err = rt.CompileModule(ctx, wasm)
	_ = rt.Close(ctx)
	_ = cache.Close(ctx)
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	switch {
	case err == nil:
		fmt.Fprintln(stdout, "ok")
	case errors.As(err, &pathErr), errors.As(err, &linkErr), errors.Is(err, syscall.ENOSPC):
		fmt.Fprintf(stdout, "cache: %s\n", oneLine(err))
	default:
		fmt.Fprintf(stdout, "invalid: %s\n", oneLine(err))
	}
	return nil
}

func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
