package host

import (
	"context"
	"encoding/json"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/amagent/amagent/agent/sysexec"
	"github.com/amagent/amagent/host/internal/guardfs"
)

// Bounds on what a recording copies from the machine.
const (
	recordMaxFile  = 1 << 20  // bytes per file; larger files are left out
	recordMaxTotal = 32 << 20 // bytes of files in all
	recordMaxFiles = 2000
	recordMaxStats = 20000 // path-metadata entries
)

// Record makes a recorded scan (ABI.md section 6) from the live machine for
// `amagent scan --record FILE`: the scan document; every file the jobs'
// manifests declare readable (or writable) that exists, trees walked, text
// as a string and anything else as base64, sizes capped; the metadata
// (`stat`) of every declared path and of every entry walked; and the
// programs their evaluate phase ran, answered live. The evaluate results
// are returned too.
//
// Files are read through the same guarded file system as a run's, with
// the same rules: a symbolic link is followed only while it stays inside
// its tree (a file grant's own link is read through), so a recording never
// holds what the sandbox would refuse.
func (e *Engine) Record(ctx context.Context, scan *Scan, jobs []Job, now time.Time) ([]byte, []Result, error) {
	rec := &execRecorder{}
	env := LiveEnv(scan)
	env.exec = rec.wrap(sysexec.Run)
	results := e.Evaluate(ctx, jobs, env)

	var declared []string
	for _, j := range jobs {
		m := j.Worklet.Manifest
		declared = append(declared, m.Evaluate.Read...)
		declared = append(declared, m.Remediate.Read...)
		declared = append(declared, m.Remediate.Write...)
	}
	g := guardfs.New(guardfs.Options{Grants: guardfs.ParseGrants(declared, nil), HostRoot: env.hostRoot})
	defer g.Close()
	r := &recorder{g: g, names: env.names(), files: map[string]FileContent{}, stats: map[string]PathStat{}}
	for _, gr := range guardfs.ParseGrants(declared, nil) {
		p := "/" + gr.Path
		if !r.stat(p) {
			continue
		}
		if gr.Tree {
			r.walk(p)
		} else {
			r.file(p)
		}
	}

	var execs []RecordedExec
	for _, x := range rec.runs {
		if !slices.ContainsFunc(execs, func(y RecordedExec) bool { return slices.Equal(y.Argv, x.Argv) }) {
			execs = append(execs, x)
		}
	}
	sort.SliceStable(execs, func(i, j int) bool { return strings.Join(execs[i].Argv, "\x00") < strings.Join(execs[j].Argv, "\x00") })
	if execs == nil {
		execs = []RecordedExec{}
	}
	out, err := json.MarshalIndent(Recording{ABI: ABIVersion, Time: now.UTC().Truncate(time.Second), Scan: scan.raw,
		Files: r.files, Stat: r.stats, Exec: execs}, "", "  ")
	if err != nil {
		return nil, results, err
	}
	return append(out, '\n'), results, nil
}

// recorder copies declared paths through a guarded file system.
type recorder struct {
	g     *guardfs.FS
	names *idNames
	files map[string]FileContent
	stats map[string]PathStat
	total int
}

// stat records p's metadata (lstat, resolved inside its grant); false
// when p cannot be described (missing, or refused).
func (r *recorder) stat(p string) bool {
	if _, seen := r.stats[p]; seen {
		return true
	}
	if len(r.stats) >= recordMaxStats {
		return false
	}
	fi, errno := r.g.LstatInfo(p)
	if errno != 0 {
		return false
	}
	r.stats[p] = pathStatOf(fi, r.names)
	return true
}

// walk records the tree below the directory p; links to directories are
// not walked (their entries are reachable by their own paths).
func (r *recorder) walk(p string) {
	f, errno := r.g.OpenFile(p, experimentalsys.O_RDONLY|experimentalsys.O_DIRECTORY, 0)
	if errno != 0 {
		return
	}
	ents, errno := f.Readdir(-1)
	f.Close()
	if errno != 0 {
		return
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name < ents[j].Name })
	for _, e := range ents {
		if e.Name == "." || e.Name == ".." {
			continue
		}
		child := path.Join(p, e.Name)
		if !r.stat(child) {
			continue
		}
		if r.stats[child].Type == "dir" {
			r.walk(child)
		} else {
			r.file(child)
		}
	}
}

// file records p's content when it is (or links, inside its grant, to) a
// regular file within the size bounds.
func (r *recorder) file(p string) {
	if _, seen := r.files[p]; seen || len(r.files) >= recordMaxFiles {
		return
	}
	st, errno := r.g.Stat(p)
	if errno != 0 || !st.Mode.IsRegular() || st.Size > recordMaxFile || r.total+int(st.Size) > recordMaxTotal {
		return
	}
	f, errno := r.g.OpenFile(p, experimentalsys.O_RDONLY, 0)
	if errno != 0 {
		return
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(fileReader{f}, recordMaxFile+1))
	if err != nil || len(b) > recordMaxFile || r.total+len(b) > recordMaxTotal {
		return
	}
	r.total += len(b)
	r.files[p] = FileContent(b)
}

// fileReader reads a guarded file as an io.Reader.
type fileReader struct{ f experimentalsys.File }

func (r fileReader) Read(b []byte) (int, error) {
	n, errno := r.f.Read(b)
	if errno != 0 {
		return n, errno
	}
	if n == 0 && len(b) > 0 {
		return 0, io.EOF
	}
	return n, nil
}
