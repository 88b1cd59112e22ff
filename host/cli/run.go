package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"

	"github.com/amagent/amagent/host"
)

// ScanFunc collects this machine's scan document (the native collectors'
// output) for a live run; noPending leaves out pending updates.
type ScanFunc func(ctx context.Context, noPending bool) ([]byte, error)

const runUsage = `usage:
  amagent worklet run DIR [--phase evaluate|remediate] [--param k=v]... [--json] [--no-pending]
runs the worklet in DIR live on this machine (its real files and programs,
within what its manifest grants), with the same output as 'worklet test'.
`

// RunCommand is `amagent worklet run`: one phase of a worklet, live on this
// machine, the way an admin tries a worklet on a test box. scan gives the
// scan document that the module's facts read.
func RunCommand(scan ScanFunc) Subcommand {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		fs := flag.NewFlagSet("amagent worklet run", flag.ContinueOnError)
		fs.SetOutput(stderr)
		phase := fs.String("phase", host.PhaseEvaluate, "evaluate or remediate")
		asJSON := fs.Bool("json", false, "print the outcome as one JSON object")
		noPending := fs.Bool("no-pending", false, "leave pending updates out of the scan (skips the package manager's simulation)")
		cacheDir := fs.String("cache", defaultCacheDir(), "compilation cache directory (\"\" for none)")
		verbose := fs.Bool("v", false, "log debug messages")
		var params paramFlags
		fs.Var(&params, "param", "set a parameter, `name=value` (repeatable)")
		fs.Usage = func() { fmt.Fprint(stderr, runUsage); fs.PrintDefaults() }
		pos, err := splitArgs(fs, args)
		if err != nil {
			return ExitError
		}
		if len(pos) != 1 {
			fmt.Fprint(stderr, runUsage)
			return ExitError
		}
		if *phase != host.PhaseEvaluate && *phase != host.PhaseRemediate {
			fmt.Fprintf(stderr, "amagent worklet run: --phase %q is not evaluate or remediate\n", *phase)
			return ExitError
		}
		level := slog.LevelInfo
		if *verbose {
			level = slog.LevelDebug
		}
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
		e, err := host.NewEngine(ctx, host.Options{CacheDir: *cacheDir, Log: log})
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet run: %v\n", err)
			return ExitError
		}
		defer e.Close(context.Background())

		dir := pos[0]
		w, err := e.Load(ctx, dir)
		if err != nil {
			return report(stdout, host.LoadErrorResult(dirName(dir), *phase, err), *asJSON)
		}
		over, err := params.resolve(w.Manifest)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet run: %v\n", err)
			return ExitError
		}
		doc, err := scan(ctx, *noPending)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet run: scanning this machine: %v\n", err)
			return ExitError
		}
		sc, err := host.NewScan(doc)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet run: %v\n", err)
			return ExitError
		}
		return report(stdout, e.Run(ctx, w, *phase, over, host.LiveEnv(sc)), *asJSON)
	}
}

// report prints a result as `worklet test` does and returns its exit code.
func report(w io.Writer, r host.Result, asJSON bool) int {
	if asJSON {
		writeJSON(w, r)
	} else {
		writeHuman(w, r)
	}
	return exitCode(r.Status)
}

// paramFlags are repeated --param name=value flags.
type paramFlags []string

func (p *paramFlags) String() string { return strings.Join(*p, ",") }

func (p *paramFlags) Set(v string) error {
	if k, _, ok := strings.Cut(v, "="); !ok || k == "" {
		return fmt.Errorf("--param %q is not name=value", v)
	}
	*p = append(*p, v)
	return nil
}

// resolve turns the flags into parameter values of the types the manifest
// declares: int and bool are parsed, a list is JSON ("[...]") or
// comma-separated. An undeclared name is an error that lists the
// declared ones.
func (p paramFlags) resolve(m *host.Manifest) (map[string]any, error) {
	if len(p) == 0 {
		return nil, nil
	}
	out := map[string]any{}
	for _, kv := range p {
		k, v, _ := strings.Cut(kv, "=")
		decl, ok := m.Params[k]
		if !ok {
			names := make([]string, 0, len(m.Params))
			for n := range m.Params {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("--param %s: %s declares no such parameter (it declares: %s)", k, m.Name, strings.Join(names, ", "))
		}
		switch decl.Type {
		case host.ParamInt:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("--param %s: %q is not an integer", k, v)
			}
			out[k] = n
		case host.ParamBool:
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, fmt.Errorf("--param %s: %q is not true or false", k, v)
			}
			out[k] = b
		case host.ParamList:
			var list []any
			if strings.HasPrefix(strings.TrimSpace(v), "[") {
				if err := json.Unmarshal([]byte(v), &list); err != nil {
					return nil, fmt.Errorf("--param %s: %v", k, err)
				}
			} else if v != "" {
				for _, s := range strings.Split(v, ",") {
					list = append(list, s)
				}
			}
			if list == nil {
				list = []any{}
			}
			out[k] = list
		default:
			out[k] = v
		}
	}
	return out, nil
}
