package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/agent/checkin"
	"github.com/amagent/amagent/agent/config"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/scan"
	"github.com/amagent/amagent/agent/state"
	"github.com/amagent/amagent/agent/worklets"
	"github.com/amagent/amagent/host"
	"github.com/amagent/amagent/host/cli"
)

// exitCode carries a subcommand's own exit code up to main.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// scanCommand is `amagent scan`: --once is the scan package's; --record
// FILE writes a recorded scan (ABI.md section 6) for worklet tests.
func scanCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprint(stdout, scanUsage)
			return nil
		}
	}
	for _, a := range args {
		if a == "--record" || a == "-record" || len(a) > 9 && (a[:9] == "--record=" || a[:8] == "-record=") {
			return recordCommand(ctx, args, stdout, stderr)
		}
	}
	if code := scan.ScanCommand(ctx, args, stdout, stderr); code != 0 {
		return exitCode(code)
	}
	return nil
}

// scanUsage is `amagent scan --help`: both forms, --record included.
const scanUsage = `usage:
  amagent scan --once [--json] [--no-pending] [-v]
      run one scan now and print it (a summary; the scan document with --json)
  amagent scan --record FILE [--no-pending] [--config FILE] [--worklet DIR]...
      scan, then write a recorded scan to FILE (mode 0600) for
      ` + "`amagent worklet test DIR --scan FILE`" + `: the scan document, the files the
      worklets (each --worklet DIR, and those assigned in the state_dir of
      --config) declare readable or writable, their metadata, and the
      programs their evaluate phase ran with the answers

flags:
  --once          run one scan now and print it
  --json          print the scan document as JSON (with --once)
  --no-pending    leave out pending updates (skip the package manager simulation)
  -v              log each collector command to stderr (with --once)
  --record FILE   write a recorded scan to FILE
  --config FILE   configuration file (default ` + config.DefaultPath + `)
  --worklet DIR   also record what the worklet in DIR reads and runs (repeatable)
`

func recordCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("amagent scan --record", flag.ContinueOnError)
	fl.SetOutput(stderr)
	out := fl.String("record", "", "write the recorded scan to `FILE` (mode 0600: it holds file contents)")
	cfgPath := fl.String("config", config.DefaultPath, "configuration `file`: the assigned worklets cached in its state_dir are recorded too")
	fl.Bool("once", true, "accepted for symmetry with --once")
	noPending := fl.Bool("no-pending", false, "leave out pending updates (skip the package manager simulation)")
	var dirs multiFlag
	fl.Var(&dirs, "worklet", "also record what the worklet in `DIR` reads and runs (repeatable)")
	if err := fl.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" || fl.NArg() > 0 {
		return usageError{"want: amagent scan --record FILE [--no-pending] [--config FILE] [--worklet DIR]..."}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := config.Default()
	haveCfg := false
	if c, err := config.Load(*cfgPath); err == nil {
		cfg, haveCfg = c, true
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	engine, err := host.NewEngine(ctx, host.Options{Limits: sandboxLimits(cfg), Log: log})
	if err != nil {
		return err
	}
	defer engine.Close(context.Background())

	var jobs []host.Job
	for _, d := range dirs {
		w, err := engine.Load(ctx, d)
		if err != nil {
			return fmt.Errorf("worklet %s: %w", d, err)
		}
		jobs = append(jobs, host.Job{Worklet: w})
	}
	if haveCfg {
		assigned, err := assignedBundles(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "amagent scan: assigned worklets left out: %v\n", err)
		}
		for _, b := range assigned {
			w, err := engine.Load(ctx, b.Dir)
			if err != nil {
				fmt.Fprintf(stderr, "amagent scan: %s left out: %v\n", b.Assignment.Name, err)
				continue
			}
			jobs = append(jobs, host.Job{Worklet: w, Params: b.Assignment.Params})
		}
	}
	env := scanEnv(cfg)
	env.SkipPending = env.SkipPending || *noPending
	scanner := &scan.Scanner{Env: env, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	doc, err := json.Marshal(scanner.Collect(ctx))
	if err != nil {
		return err
	}
	sc, err := host.NewScan(doc)
	if err != nil {
		return err
	}
	rec, results, err := engine.Record(ctx, sc, jobs, time.Now().UTC())
	if err != nil {
		return err
	}
	if err := state.WriteFileAtomic(*out, rec, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "recorded scan written to %s (%d bytes, %d worklets)\n", *out, len(rec), len(jobs))
	for i, r := range results {
		fmt.Fprintf(stdout, "  %-28s %s %s\n", jobs[i].Worklet.Manifest.Name, r.Status, r.Message)
	}
	return nil
}

// assignedBundles are the verified cached bundles of the worklets that the
// platform last assigned (state_dir/platform_config.json).
func assignedBundles(cfg config.Config) ([]*worklets.Bundle, error) {
	b, err := os.ReadFile(filepath.Join(cfg.StateDir, checkin.KeyPlatformConfig))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var pc protocol.Config
	if err := json.Unmarshal(b, &pc); err != nil {
		return nil, fmt.Errorf("%s: %w", checkin.KeyPlatformConfig, err)
	}
	keys, err := trustedKeys(cfg)
	if err != nil {
		return nil, err
	}
	c := &worklets.Cache{Dir: filepath.Join(cfg.StateDir, "bundles")}
	bs, errs := c.Cached(pc.Worklets, keys)
	return bs, errors.Join(errs...)
}

// workletCommand is `amagent worklet test ...` (the host's) and
// `amagent worklet verify DIR`.
func workletCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "verify" {
		return verifyCommand(args[1:], stdout, stderr)
	}
	extra := map[string]cli.Subcommand{"run": cli.RunCommand(liveScan)}
	if code := cli.WorkletCommandWith(ctx, args, stdout, stderr, extra); code != 0 {
		return exitCode(code)
	}
	return nil
}

// liveScan is this machine's scan document for `amagent worklet run`,
// collected with the default configuration, or with root set the scan of
// the tree mounted there.
func liveScan(ctx context.Context, noPending bool, root string) ([]byte, error) {
	env := scanEnv(config.Default())
	if root != "" {
		renv, done, err := scan.RootEnv(root)
		if err != nil {
			return nil, err
		}
		defer done()
		env = renv
	}
	env.SkipPending = env.SkipPending || noPending
	scanner := &scan.Scanner{Env: env, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return json.Marshal(scanner.Collect(ctx))
}

func verifyCommand(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("amagent worklet verify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	cfgPath := fl.String("config", config.DefaultPath, "configuration `file` whose [worklets] trusted_keys are used when no --key is given")
	sig := fl.String("signature", "", "base64 `signature`; default: DIR/bundle.json")
	var keyFlags multiFlag
	fl.Var(&keyFlags, "key", "trusted public `key` (base64 ed25519, repeatable)")
	var dir string
	rest := args
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		dir, rest = rest[0], rest[1:]
	}
	if err := fl.Parse(rest); err != nil {
		return usageError{err.Error()}
	}
	if dir == "" && fl.NArg() == 1 {
		dir = fl.Arg(0)
	} else if fl.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fl.Arg(0))}
	}
	if dir == "" {
		return usageError{"want: amagent worklet verify DIR [--key KEY]... [--signature SIG] [--config FILE]"}
	}
	var keys []ed25519.PublicKey
	for _, k := range keyFlags {
		pub, err := bundle.ParsePublicKey(k)
		if err != nil {
			return fmt.Errorf("--key %q: %w", k, err)
		}
		keys = append(keys, pub)
	}
	if len(keys) == 0 {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return fmt.Errorf("no --key given and the configuration cannot be read: %w", err)
		}
		if keys, err = trustedKeys(cfg); err != nil {
			return err
		}
	}
	b, err := worklets.VerifyDir(dir, *sig, keys)
	if err != nil {
		fmt.Fprintf(stdout, "REFUSED %s: %v\n", dir, err)
		return exitCode(1)
	}
	fmt.Fprintf(stdout, "OK %s@%s module sha256 %s manifest sha256 %s\n", b.Assignment.Name, b.Assignment.Version, b.ModuleSHA256, b.ManifestSHA256)
	return nil
}
