package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/amagent/amagent/host"
)

// ScanFunc collects the scan document (the native collectors' output)
// for a live run: this machine's, or with root set the tree mounted there
// (`amagent scan --once --root`); noPending leaves out pending updates.
type ScanFunc func(ctx context.Context, noPending bool, root string) ([]byte, error)

const runUsage = `usage:
  amagent worklet run DIR... [--root ROOT] [--phase evaluate|remediate] [--param k=v]... [--json] [--no-pending]
runs the worklets in DIR... live (their real files and programs, within
what each manifest grants) on this machine, or with --root on the system
mounted at ROOT (an image, a container's root, a chroot: its files, read
as that system sees them; no program is run). Prints one result per
worklet (with --json one object per line: worklet test's object plus
"name" and "references"), then a summary line. Exit code: 0 when every
worklet is compliant or not applicable (remediate: succeeded), 1 when any
is non-compliant (failed), 3 on an error. With one DIR the output and the
exit code are worklet test's (2 for not applicable).
`

// RunCommand is `amagent worklet run`: one phase of worklets, live on this
// machine or on a mounted tree, the way an admin tries a worklet on a test
// box or a pipeline checks an image. scan gives the scan document that the
// modules' facts read.
func RunCommand(scan ScanFunc) Subcommand {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		fs := flag.NewFlagSet("amagent worklet run", flag.ContinueOnError)
		fs.SetOutput(stderr)
		phase := fs.String("phase", host.PhaseEvaluate, "evaluate or remediate")
		asJSON := fs.Bool("json", false, "print one JSON object per worklet per line")
		root := fs.String("root", "", "run on the system mounted at `ROOT` instead of this one")
		noPending := fs.Bool("no-pending", false, "leave pending updates out of the scan (skips the package manager's simulation)")
		cacheDir := fs.String("cache", defaultCacheDir(), "compilation cache directory (\"\" for none)")
		verbose := fs.Bool("v", false, "log debug messages")
		var params paramFlags
		fs.Var(&params, "param", "set a parameter, `name=value` (repeatable; given to each worklet that declares it)")
		fs.Usage = func() { fmt.Fprint(stderr, runUsage); fs.PrintDefaults() }
		pos, err := splitArgs(fs, args)
		if err != nil {
			return ExitError
		}
		if len(pos) == 0 {
			fmt.Fprint(stderr, runUsage)
			return ExitError
		}
		if *phase != host.PhaseEvaluate && *phase != host.PhaseRemediate {
			fmt.Fprintf(stderr, "amagent worklet run: --phase %q is not evaluate or remediate\n", *phase)
			return ExitError
		}
		e, err := newEngine(ctx, *cacheDir, *verbose, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet run: %v\n", err)
			return ExitError
		}
		defer e.Close(context.Background())

		// The scan of the machine (or tree) runs while the worklets load:
		// the two are independent and each takes milliseconds.
		what := "this machine"
		if *root != "" {
			what = *root
		}
		type scanned struct {
			doc []byte
			err error
		}
		scanDone := make(chan scanned, 1)
		go func() {
			doc, err := scan(ctx, *noPending, *root)
			scanDone <- scanned{doc, err}
		}()

		// Load every worklet and resolve its parameters, so that a typo
		// fails at once.
		type loaded struct {
			dir    string
			w      *host.Worklet
			err    error
			params map[string]any
		}
		all := make([]loaded, len(pos))
		parallel(len(pos), func(i int) {
			all[i].dir = pos[i]
			all[i].w, all[i].err = e.Load(ctx, pos[i])
		})
		used := map[string]bool{}
		for i := range pos {
			if all[i].err != nil {
				continue
			}
			mine := params
			if len(pos) > 1 {
				mine = params.declaredBy(all[i].w.Manifest, used)
			}
			if all[i].params, err = mine.resolve(all[i].w.Manifest); err != nil {
				fmt.Fprintf(stderr, "amagent worklet run: %v\n", err)
				return ExitError
			}
		}
		if len(pos) > 1 {
			for _, kv := range params {
				if k, _, _ := strings.Cut(kv, "="); !used[k] {
					fmt.Fprintf(stderr, "amagent worklet run: --param %s: no worklet given declares it\n", k)
					return ExitError
				}
			}
		}
		sd := <-scanDone
		doc, err := sd.doc, sd.err
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet run: scanning %s: %v\n", what, err)
			return ExitError
		}
		sc, err := host.NewScan(doc)
		if err != nil {
			fmt.Fprintf(stderr, "amagent worklet run: %v\n", err)
			return ExitError
		}
		env := host.LiveEnv(sc)
		if *root != "" {
			if env, err = host.LiveEnvRoot(sc, *root); err != nil {
				fmt.Fprintf(stderr, "amagent worklet run: %v\n", err)
				return ExitError
			}
		}
		// Evaluations run side by side (a core each), as an agent's scan
		// runs them; remediations one at a time, in the order given.
		results := make([]host.Result, len(all))
		one := func(i int) {
			if l := all[i]; l.err != nil {
				results[i] = host.LoadErrorResult(dirName(l.dir), *phase, l.err)
			} else {
				results[i] = e.Run(ctx, l.w, *phase, l.params, env)
			}
		}
		if *phase == host.PhaseEvaluate {
			parallel(len(all), one)
		} else {
			for i := range all {
				one(i)
			}
		}
		if len(all) == 1 && !*asJSON {
			return report(stdout, results[0], false)
		}
		var sum runSummary
		for i, l := range all {
			r := results[i]
			name, refs := dirName(l.dir), []string{}
			if l.err == nil {
				name = l.w.Manifest.Name
				if l.w.Manifest.References != nil {
					refs = l.w.Manifest.References
				}
			}
			sum.add(r.Status)
			if *asJSON {
				writeRunJSON(stdout, name, refs, r)
			} else {
				fmt.Fprintf(stdout, "%s: ", name)
				writeHuman(stdout, r)
			}
		}
		if !*asJSON {
			fmt.Fprintln(stdout, sum.String())
		}
		if len(all) == 1 {
			return exitCode(results[0].Status)
		}
		return sum.exitCode()
	}
}

// parallel calls f(0..n-1) on as many goroutines as there are CPUs.
func parallel(n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, runtime.NumCPU()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// runLine is one line of `worklet run --json`: worklet test's object
// with the worklet's name and references.
type runLine struct {
	Name       string   `json:"name"`
	References []string `json:"references"`
	jsonResult
}

func writeRunJSON(w io.Writer, name string, refs []string, r host.Result) {
	d := r.Details
	if len(d) == 0 {
		d = json.RawMessage("null")
	}
	denied := r.Denied
	if denied == nil {
		denied = []string{}
	}
	b, _ := json.Marshal(runLine{Name: name, References: refs, jsonResult: jsonResult{Status: r.Status, ExitCode: r.ExitCode,
		Message: r.Message, Details: d, Error: r.Error, DurationMS: r.DurationMS(), Truncated: r.Truncated, Denied: denied}})
	fmt.Fprintf(w, "%s\n", b)
}

// runSummary counts the outcomes of a run of many worklets.
type runSummary struct{ ok, notApplicable, bad, errors int }

func (s *runSummary) add(status string) {
	switch exitCode(status) {
	case ExitCompliant:
		s.ok++
	case ExitNotApplicable:
		s.notApplicable++
	case ExitNonCompliant:
		s.bad++
	default:
		s.errors++
	}
}

func (s runSummary) String() string {
	return fmt.Sprintf("%d compliant or succeeded, %d non-compliant or failed, %d not applicable, %d errors",
		s.ok, s.bad, s.notApplicable, s.errors)
}

// exitCode: an error wins, then any non-compliant; not applicable counts
// as passing (a pipeline gate).
func (s runSummary) exitCode() int {
	switch {
	case s.errors > 0:
		return ExitError
	case s.bad > 0:
		return ExitNonCompliant
	}
	return ExitCompliant
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

// declaredBy is the flags whose names m declares; used records them.
func (p paramFlags) declaredBy(m *host.Manifest, used map[string]bool) paramFlags {
	var out paramFlags
	for _, kv := range p {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := m.Params[k]; ok {
			out = append(out, kv)
			used[k] = true
		}
	}
	return out
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
