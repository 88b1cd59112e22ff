package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/logging"
	"github.com/amagent/amagent/host"
)

const usage = `usage:
  amagent run [--config FILE] [--foreground]   run the agent
  amagent config check [--config FILE]         validate a configuration file
  amagent scan --once [--json] [--no-pending]  run a scan now and print it
  amagent scan --record FILE [--worklet DIR]... record a scan for worklet tests
  amagent worklet test DIR [--scan FILE] [--phase evaluate|remediate] [--param k=v]... [--json]
  amagent worklet run DIR [--phase evaluate|remediate] [--param k=v]... [--json]   run it live here
  amagent worklet verify DIR [--key KEY]...    check a bundle's signature
  amagent enroll --server URL --access-key KEY|--access-key-file F|--access-key - [--config FILE] [--no-start] [--skip-check]
                                               configure, enroll this device and start the service
  amagent service install|uninstall|start|stop [--config FILE]   the system service (Windows, macOS; Linux: the package's unit)
  amagent version [--json]                     print the version (--json: commit, date, Go and wazero versions)
`

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// run is the whole program; main only adds signals and the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	switch args[0] {
	case "run":
		return runAgent(ctx, args[1:], stderr)
	case "config":
		if len(args) < 2 || args[1] != "check" {
			return usageError{"want: amagent config check [--config FILE]"}
		}
		return configCheck(args[2:], stdout, stderr)
	case "scan":
		return scanCommand(ctx, args[1:], stdout, stderr)
	case "worklet":
		return workletCommand(ctx, args[1:], stdout, stderr)
	case host.CompileChildCommand: // hidden: the engine's compile process
		return host.CompileChild(ctx, args[1:], os.Stdin, stdout, stderr)
	case "version", "--version", "-version":
		return versionCommand(args[1:], stdout, stderr)
	case "enroll":
		return enrollCommand(ctx, args[1:], os.Stdin, stdout, stderr)
	case "service":
		return serviceCommand(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
}

func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", config.DefaultPath, "configuration `file`")
	return fs, path
}

func configCheck(args []string, stdout, stderr io.Writer) error {
	fs, path := newFlags("config check", stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if _, err := config.Load(*path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", *path)
	return nil
}

func runAgent(ctx context.Context, args []string, stderr io.Writer) error {
	fs, path := newFlags("run", stderr)
	foreground := fs.Bool("foreground", false, "also write the log to stderr")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	lo := logging.Options{File: cfg.LogFile}
	if *foreground || cfg.LogStderr {
		lo.Stderr = stderr
	}
	log, closer, err := logging.New(lo)
	if err != nil {
		return err
	}
	defer closer.Close()
	d, cleanup, err := newDaemon(ctx, cfg, log)
	if err != nil {
		log.Error("agent cannot start", "error", err)
		return err
	}
	defer cleanup()
	return d.Run(ctx)
}
