package host

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/sysexec"
)

// Bounds on what a recording copies from the machine.
const (
	recordMaxFile  = 1 << 20  // bytes per file; larger files are left out
	recordMaxTotal = 32 << 20 // bytes of files in all
	recordMaxFiles = 2000
)

// Record makes a recorded scan (ABI.md section 6) from the live machine for
// `amagent scan --record FILE`: the scan document, every file the jobs'
// manifests declare readable (or writable) that exists (trees walked, sizes
// capped), and the programs their evaluate phase ran, answered live. The
// evaluate results are returned too.
func (e *Engine) Record(ctx context.Context, scan *Scan, jobs []Job, now time.Time) ([]byte, []Result, error) {
	rec := &execRecorder{}
	env := LiveEnv(scan)
	env.exec = rec.wrap(sysexec.Run)
	results := e.Evaluate(ctx, jobs, env)

	files := map[string]string{}
	total := 0
	add := func(p string) {
		if _, seen := files[p]; seen || len(files) >= recordMaxFiles {
			return
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > recordMaxFile || total+int(fi.Size()) > recordMaxTotal {
			return
		}
		f, err := os.Open(p)
		if err != nil {
			return
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, recordMaxFile+1))
		if err != nil || len(b) > recordMaxFile {
			return
		}
		total += len(b)
		files[filepath.ToSlash(p)] = string(b)
	}
	for _, j := range jobs {
		m := j.Worklet.Manifest
		var paths []string
		paths = append(paths, m.Evaluate.Read...)
		paths = append(paths, m.Remediate.Read...)
		paths = append(paths, m.Remediate.Write...)
		for _, p := range paths {
			if !strings.HasSuffix(p, "/") {
				add(p)
				continue
			}
			_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil || len(files) >= recordMaxFiles {
					return nil
				}
				if d.Type().IsRegular() {
					add(path)
				}
				return nil
			})
		}
	}
	var execs []RecordedExec
	for _, r := range rec.runs {
		if !slices.ContainsFunc(execs, func(x RecordedExec) bool { return slices.Equal(x.Argv, r.Argv) }) {
			execs = append(execs, r)
		}
	}
	sort.SliceStable(execs, func(i, j int) bool { return strings.Join(execs[i].Argv, "\x00") < strings.Join(execs[j].Argv, "\x00") })
	if execs == nil {
		execs = []RecordedExec{}
	}
	out, err := json.MarshalIndent(Recording{ABI: ABIVersion, Time: now.UTC().Truncate(time.Second), Scan: scan.raw, Files: files, Exec: execs}, "", "  ")
	if err != nil {
		return nil, results, err
	}
	return append(out, '\n'), results, nil
}
