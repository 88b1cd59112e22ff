//go:build linux

package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

var update = flag.Bool("update", false, "rewrite the golden.json of every recorded machine")

// machinesDir holds the recorded machines (testdata/machines/<name>/).
const machinesDir = "../../testdata/machines"

// machine is machine.json of a recorded machine.
type machine struct {
	Hostname    string               `json:"hostname"`
	GOOS        string               `json:"goos"`
	Now         time.Time            `json:"now"`
	Description string               `json:"description"`
	DiskUsage   map[string]diskUsage `json:"disk_usage"`
}

type diskUsage struct {
	Total uint64 `json:"total_bytes"`
	Used  uint64 `json:"used_bytes"`
}

// execRecord is one entry of exec.json: a program run and its answer.
type execRecord struct {
	Argv     []string `json:"argv"`
	ExitCode int      `json:"exit_code"`
	Stdout   string   `json:"stdout"`
	Stderr   string   `json:"stderr"`
}

// recordedFS is a recorded machine's root/ tree. File times are those of
// the recording (machine.json "now"), not of the git checkout, and disk
// usage is what machine.json says.
type recordedFS struct {
	fs.FS
	mtime time.Time
	usage map[string]diskUsage
	addrs []linux.IfAddr // netlink.json: the IPv4 addresses, which no file holds
}

func (r recordedFS) ReadLink(name string) (string, error) { return fs.ReadLink(r.FS, name) }
func (r recordedFS) Lstat(name string) (fs.FileInfo, error) {
	fi, err := fs.Lstat(r.FS, name)
	if err != nil {
		return nil, err
	}
	return fixedTimeInfo{fi, r.mtime}, nil
}

func (r recordedFS) InterfaceAddrs(ctx context.Context) ([]linux.IfAddr, error) { return r.addrs, nil }

// netlinkAddr is one entry of netlink.json (recorded from `ip -j -4 addr`).
type netlinkAddr struct {
	Index     int    `json:"index"`
	Interface string `json:"interface"`
	Address   string `json:"address"`
	PrefixLen int    `json:"prefix_len"`
	Scope     string `json:"scope"`
}

func (r recordedFS) Open(name string) (fs.File, error) {
	f, err := r.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return fixedTimeFile{f, r.mtime}, nil
}

func (r recordedFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(r.FS, name) }

func (r recordedFS) DiskUsage(ctx context.Context, mp string) (uint64, uint64, error) {
	u, ok := r.usage[mp]
	if !ok {
		return 0, 0, fmt.Errorf("no recorded usage for %s", mp)
	}
	return u.Total, u.Used, nil
}

type fixedTimeFile struct {
	fs.File
	t time.Time
}

func (f fixedTimeFile) Stat() (fs.FileInfo, error) {
	fi, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return fixedTimeInfo{fi, f.t}, nil
}

type fixedTimeInfo struct {
	fs.FileInfo
	t time.Time
}

func (i fixedTimeInfo) ModTime() time.Time { return i.t }

// recordingRunner answers programs from exec.json and fails the test on
// any program that was not recorded: a collector may run nothing else.
type recordingRunner struct {
	t    testing.TB
	recs []execRecord
	mu   sync.Mutex
	ran  [][]string
}

func (r *recordingRunner) Run(ctx context.Context, req sysexec.Request) (sysexec.Result, error) {
	r.mu.Lock()
	r.ran = append(r.ran, req.Argv)
	r.mu.Unlock()
	for _, rec := range r.recs {
		if slices.Equal(rec.Argv, req.Argv) {
			return sysexec.Result{ExitCode: rec.ExitCode, Stdout: []byte(rec.Stdout), Stderr: []byte(rec.Stderr)}, nil
		}
	}
	r.t.Errorf("collector ran %q, which is not in exec.json", req.Argv)
	return sysexec.Result{}, fmt.Errorf("%s: not recorded", req.Argv[0])
}

// noNetwork fails the test on any HTTP request: the metadata service must
// never be asked off AWS.
type noNetwork struct{ t testing.TB }

func (n noNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	n.t.Errorf("unexpected HTTP request to %s", req.URL)
	return nil, errors.New("network disabled in tests")
}

// loadMachine builds the Env of a recorded machine.
func loadMachine(t testing.TB, dir string) (*Env, machine, *recordingRunner) {
	t.Helper()
	var m machine
	b, err := os.ReadFile(filepath.Join(dir, "machine.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s/machine.json: %v", dir, err)
	}
	var recs []execRecord
	if b, err := os.ReadFile(filepath.Join(dir, "exec.json")); err == nil {
		if err := json.Unmarshal(b, &recs); err != nil {
			t.Fatalf("%s/exec.json: %v", dir, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var addrs []linux.IfAddr
	if b, err := os.ReadFile(filepath.Join(dir, "netlink.json")); err == nil {
		var nl []netlinkAddr
		if err := json.Unmarshal(b, &nl); err != nil {
			t.Fatalf("%s/netlink.json: %v", dir, err)
		}
		for _, a := range nl {
			ip, err := netip.ParseAddr(a.Address)
			if err != nil {
				t.Fatalf("%s/netlink.json: %v", dir, err)
			}
			addrs = append(addrs, linux.IfAddr{Index: a.Index, Interface: a.Interface, Addr: ip, PrefixLen: a.PrefixLen, Scope: a.Scope})
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	runner := &recordingRunner{t: t, recs: recs}
	env := &Env{
		FS:          recordedFS{FS: os.DirFS(filepath.Join(dir, "root")), mtime: m.Now, usage: m.DiskUsage, addrs: addrs},
		Exec:        runner.Run,
		Now:         func() time.Time { return m.Now },
		Hostname:    func() (string, error) { return m.Hostname, nil },
		GOOS:        m.GOOS,
		AWSEndpoint: "http://127.0.0.1:9", // never used: no recorded machine is on AWS unless it says so
		HTTP:        &http.Client{Transport: noNetwork{t}},
		Timeout:     10 * time.Second,
	}
	return env, m, runner
}

// linuxMachines lists the recorded machines with goos linux.
func linuxMachines(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(machinesDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(machinesDir, e.Name(), "machine.json"))
		if err != nil {
			continue
		}
		var m machine
		if json.Unmarshal(b, &m) == nil && m.GOOS == "linux" {
			out = append(out, e.Name())
		}
	}
	return out
}

func encodeGolden(t testing.TB, doc *scandoc.Document) []byte {
	d := *doc
	d.Timings = nil // wall times differ from run to run
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&d); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestRecordedMachines runs the full scan on every recorded Linux machine
// and compares the document with its golden.json (-update rewrites them).
func TestRecordedMachines(t *testing.T) {
	names := linuxMachines(t)
	if len(names) < 3 {
		t.Fatalf("want at least the three Debian/Ubuntu recorded machines, found %v", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(machinesDir, name)
			env, _, _ := loadMachine(t, dir)
			doc := (&Scanner{Env: env}).Collect(t.Context())
			got := encodeGolden(t, doc)
			golden := filepath.Join(dir, "golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./agent/scan -run TestRecordedMachines -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("scan of %s differs from golden.json:\n%s", name, lineDiff(string(want), string(got)))
			}
		})
	}
}

// lineDiff shows the first differing lines of two texts.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	n := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			fmt.Fprintf(&sb, "line %d:\n  want %s\n  got  %s\n", i+1, a, b)
			if n++; n == 10 {
				break
			}
		}
	}
	return sb.String()
}

// errorRecorder is a testing.TB that keeps Errorf calls instead of failing.
type errorRecorder struct {
	testing.TB
	errs []string
}

func (e *errorRecorder) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// TestRecordingRunnerRefusesUnrecorded: the golden tests would notice a
// collector running a program that the recording does not have.
func TestRecordingRunnerRefusesUnrecorded(t *testing.T) {
	rec := &errorRecorder{TB: t}
	r := &recordingRunner{t: rec, recs: []execRecord{{Argv: []string{"apt-get", "-s"}, Stdout: "ok"}}}
	if res, err := r.Run(t.Context(), sysexec.Request{Argv: []string{"apt-get", "-s"}}); err != nil || string(res.Stdout) != "ok" {
		t.Errorf("recorded program: %v %q", err, res.Stdout)
	}
	if _, err := r.Run(t.Context(), sysexec.Request{Argv: []string{"apt-get", "update"}}); err == nil || len(rec.errs) != 1 {
		t.Errorf("unrecorded program: err %v, test errors %v", err, rec.errs)
	}
}
