package redteam

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amagent/amagent/host"
)

// Finding 3: symlinks escaped the file grants, and undeclared paths looked
// missing. These run live on real temporary directories, with the
// fs-probe module (testdata/redteam/fs-probe) taking its orders from its
// params.

const fsProbeParams = `
[params.mode]
type = "string"
default = ""
[params.path]
type = "string"
default = ""
[params.marker]
type = "string"
default = ""
[params.n]
type = "int"
default = 1
`

const secretMarker = "TOPSECRET-7f3a"

// needLinks skips where the test cannot make symbolic links.
func needLinks(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// probeDetails decodes the module's details into a map.
func probeDetails(t *testing.T, res host.Result) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(res.Details, &d); err != nil {
		t.Fatalf("details of %s %q: %s: %v", res.Status, res.Message, res.Details, err)
	}
	return d
}

// swapper replaces name, until stop is called, with a regular file and
// then with a symbolic link to target, each time atomically (rename).
func swapper(t *testing.T, name, target string) (stop func() int64) {
	t.Helper()
	dir := filepath.Dir(name)
	var swaps atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tmpFile, tmpLink := filepath.Join(dir, ".swap-file"), filepath.Join(dir, ".swap-link")
		for {
			select {
			case <-done:
				return
			default:
			}
			if os.WriteFile(tmpFile, []byte("public\n"), 0o644) == nil {
				_ = os.Rename(tmpFile, name)
			}
			_ = os.Remove(tmpLink)
			if os.Symlink(target, tmpLink) == nil {
				_ = os.Rename(tmpLink, name)
			}
			swaps.Add(1)
		}
	})
	return func() int64 {
		close(done)
		wg.Wait()
		return swaps.Load()
	}
}

// TestSwapRaceReadsNothingOutside: a granted file inside a read tree is
// swapped by another process between a regular file and a link to a 0600
// file outside the grant while the module opens and reads it 10,000
// times: no read returns the secret. (Failed before the fix: the path was
// checked, then opened again by name; the issue saw 1-26 leaks in 30,000.)
func TestSwapRaceReadsNothingOutside(t *testing.T) {
	needLinks(t)
	base := t.TempDir()
	tree := filepath.Join(base, "tree")
	mustDo(t, os.Mkdir(tree, 0o755))
	secret := filepath.Join(base, "secret")
	mustDo(t, os.WriteFile(secret, []byte(secretMarker+"\n"), 0o600))
	target := filepath.Join(tree, "f")
	mustDo(t, os.WriteFile(target, []byte("public\n"), 0o644))

	e, _ := engine(t, host.Limits{})
	dir := worklet(t, "fs-probe", "[evaluate]\nread = [\""+tree+"/\"]\n"+fsProbeParams)
	stop := swapper(t, target, "../secret")
	var leaks, ok, refused float64
	const runs, per = 5, 2000
	for range runs {
		res := runLive(t, e, dir, host.PhaseEvaluate, map[string]any{"mode": "read-loop", "path": target, "marker": secretMarker, "n": per})
		d := probeDetails(t, res)
		leaks += d["leaks"].(float64)
		ok += d["ok"].(float64)
		refused += d["refused"].(float64)
	}
	swaps := stop()
	t.Logf("%d opens: %v read the public file, %v refused (the link), %d swaps", runs*per, ok, refused, swaps)
	if leaks != 0 {
		t.Fatalf("%v of %d reads returned the secret outside the grant", leaks, runs*per)
	}
	if ok+refused != runs*per || ok == 0 || refused == 0 {
		t.Fatalf("the race was not exercised: %v read, %v refused of %d", ok, refused, runs*per)
	}
}

// TestSwapRaceWritesNothingOutside: the same swap inside a write tree in
// remediate, the module appending a line 10,000 times: the file outside
// is never written. (Failed before the fix: lines were appended to the
// outside file.)
func TestSwapRaceWritesNothingOutside(t *testing.T) {
	needLinks(t)
	base := t.TempDir()
	tree := filepath.Join(base, "w")
	mustDo(t, os.Mkdir(tree, 0o755))
	outside := filepath.Join(base, "outside")
	mustDo(t, os.WriteFile(outside, []byte("original\n"), 0o600))
	target := filepath.Join(tree, "f")
	mustDo(t, os.WriteFile(target, []byte("public\n"), 0o644))

	e, _ := engine(t, host.Limits{})
	dir := worklet(t, "fs-probe", "[remediate]\nwrite = [\""+tree+"/\"]\n"+fsProbeParams)
	stop := swapper(t, target, "../outside")
	var ok, refused float64
	const runs, per = 5, 2000
	for range runs {
		res := runLive(t, e, dir, host.PhaseRemediate, map[string]any{"mode": "write-loop", "path": target, "n": per})
		d := probeDetails(t, res)
		ok += d["ok"].(float64)
		refused += d["refused"].(float64)
	}
	stop()
	t.Logf("%d opens for writing: %v wrote inside, %v refused", runs*per, ok, refused)
	if b, _ := os.ReadFile(outside); string(b) != "original\n" {
		t.Fatalf("the file outside the grant was written: %q", b)
	}
	if ok+refused != runs*per || refused == 0 {
		t.Fatalf("the race was not exercised: %v wrote, %v refused of %d", ok, refused, runs*per)
	}
}

// TestDanglingLinkCreatesNothingOutside: creating a file through a
// dangling link inside a write tree, pointing outside, fails and creates
// nothing. (Failed before the fix: the fallback check of the parent passed
// and the file was created outside.)
func TestDanglingLinkCreatesNothingOutside(t *testing.T) {
	needLinks(t)
	base := t.TempDir()
	tree := filepath.Join(base, "w")
	mustDo(t, os.Mkdir(tree, 0o755))
	mustDo(t, os.Symlink("../created", filepath.Join(tree, "dangle")))
	e, _ := engine(t, host.Limits{})
	dir := worklet(t, "fs-probe", "[remediate]\nwrite = [\""+tree+"/\"]\n"+fsProbeParams)
	res := runLive(t, e, dir, host.PhaseRemediate, map[string]any{"mode": "create", "path": filepath.Join(tree, "dangle")})
	if !strings.Contains(res.Message, "Permission denied") {
		t.Errorf("create through a dangling link: %q, want Permission denied", res.Message)
	}
	if _, err := os.Lstat(filepath.Join(base, "created")); err == nil {
		t.Fatal("a file was created outside the write tree")
	}
	if !slices.Contains(res.Denied, filepath.Join(tree, "dangle")) {
		t.Errorf("denied %q does not list the link", res.Denied)
	}
}

// TestStatThroughOutsideFolderLeaksNothing: stat and lstat of a path
// through a folder link inside a read tree that points outside answer
// EACCES, with no size or inode. (Failed before the fix: Lstat went by
// name and leaked the size and inode.)
func TestStatThroughOutsideFolderLeaksNothing(t *testing.T) {
	needLinks(t)
	base := t.TempDir()
	tree := filepath.Join(base, "tree")
	mustDo(t, os.Mkdir(tree, 0o755))
	mustDo(t, os.WriteFile(filepath.Join(base, "secret"), []byte(secretMarker), 0o600))
	mustDo(t, os.Symlink("..", filepath.Join(tree, "up")))
	e, _ := engine(t, host.Limits{})
	dir := worklet(t, "fs-probe", "[evaluate]\nread = [\""+tree+"/\"]\n"+fsProbeParams)
	res := runLive(t, e, dir, host.PhaseEvaluate, map[string]any{"mode": "stat", "path": filepath.Join(tree, "up", "secret")})
	d := probeDetails(t, res)
	if res.Message != "stat Permission denied, lstat Permission denied" || d["size"].(float64) != -1 || d["ino"].(float64) != 0 {
		t.Fatalf("stat through a folder outside: %q %s", res.Message, res.Details)
	}
}

// TestFutimensOnReadGrantInRemediate: a read-only grant allows no change
// of times in remediate, by descriptor or by path; the mtime is unchanged.
// (Failed before the fix: futimens on the read-only descriptor worked.)
func TestFutimensOnReadGrantInRemediate(t *testing.T) {
	base := t.TempDir()
	f := filepath.Join(base, "ro.conf")
	mustDo(t, os.WriteFile(f, []byte("x\n"), 0o644))
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	mustDo(t, os.Chtimes(f, mtime, mtime))
	e, _ := engine(t, host.Limits{})
	dir := worklet(t, "fs-probe", "[remediate]\nread = [\""+f+"\"]\nwrite = [\""+base+"/other/\"]\n"+fsProbeParams)
	res := runLive(t, e, dir, host.PhaseRemediate, map[string]any{"mode": "futimens", "path": f})
	d := probeDetails(t, res)
	if d["futimens_errno"] == nil || d["futimens_errno"].(float64) == 0 || d["utimensat_errno"].(float64) == 0 {
		t.Errorf("times changed on a read-only grant: %q %s", res.Message, res.Details)
	}
	if fi, err := os.Stat(f); err != nil || !fi.ModTime().Equal(mtime) {
		t.Fatalf("mtime of a read-only grant is now %v (was %v)", fi.ModTime(), mtime)
	}
}

// TestUndeclaredPathIsRefused: an undeclared path is EACCES, never made
// to look missing, is listed in the run's denied and logged once with the
// worklet and the path. (Failed before the fix: ENOENT, and not listed.)
func TestUndeclaredPathIsRefused(t *testing.T) {
	base := t.TempDir()
	tree := filepath.Join(base, "tree")
	mustDo(t, os.Mkdir(tree, 0o755))
	secret := filepath.Join(base, "secret")
	mustDo(t, os.WriteFile(secret, []byte(secretMarker), 0o600))
	e, logs := engine(t, host.Limits{})
	dir := worklet(t, "fs-probe", "[evaluate]\nread = [\""+tree+"/\"]\n"+fsProbeParams)
	for range 2 {
		res := runLive(t, e, dir, host.PhaseEvaluate, map[string]any{"mode": "read", "path": secret})
		if !strings.Contains(res.Message, "Permission denied") {
			t.Errorf("read of an undeclared path: %q, want Permission denied", res.Message)
		}
		if !slices.Contains(res.Denied, secret) {
			t.Errorf("denied %q does not list %s", res.Denied, secret)
		}
	}
	line := `msg="worklet path denied" worklet=rt-fs-probe phase=evaluate path=` + secret
	if n := strings.Count(logs.String(), line); n != 2 { // once per run
		t.Errorf("%d log lines %q, want one per run:\n%s", n, line, logs)
	}
}

// userName is the name /etc/passwd gives uid, or "".
func userName(uid int) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Split(sc.Text(), ":"); len(fields) > 2 && fields[2] == strconv.Itoa(uid) {
			return fields[0]
		}
	}
	return ""
}

// TestPathFact: fact("/path") answers the mode (setuid included), owner
// and type of a declared file, and -2 (denied, listed) for an undeclared
// one. (Failed before the fix: a key starting with "/" was looked up in
// the scan document and answered -1.)
func TestPathFact(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no permission bits on Windows")
	}
	base := t.TempDir()
	tree := filepath.Join(base, "tree")
	mustDo(t, os.Mkdir(tree, 0o755))
	f := filepath.Join(tree, "tool")
	mustDo(t, os.WriteFile(f, []byte("12345"), 0o600))
	mustDo(t, os.Chmod(f, 0o4750|os.ModeSetuid))
	mustDo(t, os.Chmod(f, os.FileMode(0o750)|os.ModeSetuid))
	e, _ := engine(t, host.Limits{})
	dir := worklet(t, "fs-probe", "[evaluate]\nread = [\""+tree+"/\"]\n"+fsProbeParams)
	res := runLive(t, e, dir, host.PhaseEvaluate, map[string]any{"mode": "fact", "path": f})
	var got host.PathStat
	if err := json.Unmarshal(res.Details, &got); err != nil {
		t.Fatalf("fact %s: %q %s", f, res.Message, res.Details)
	}
	fi, _ := os.Stat(f)
	want := host.PathStat{Type: "file", Mode: "4750", UID: int64(os.Getuid()), GID: got.GID, User: userName(os.Getuid()),
		Group: got.Group, Size: 5, Mtime: fi.ModTime().UTC().Format(time.RFC3339)}
	if got != want {
		t.Errorf("fact %s:\n got %+v\nwant %+v", f, got, want)
	}
	res = runLive(t, e, dir, host.PhaseEvaluate, map[string]any{"mode": "fact", "path": filepath.Join(base, "elsewhere")})
	if string(res.Details) != "-2" || !slices.Contains(res.Denied, filepath.Join(base, "elsewhere")) {
		t.Errorf("fact of an undeclared path: %s, denied %q", res.Details, res.Denied)
	}
	res = runLive(t, e, dir, host.PhaseEvaluate, map[string]any{"mode": "fact", "path": filepath.Join(tree, "missing")})
	if string(res.Details) != "-1" {
		t.Errorf("fact of a declared missing path: %s", res.Details)
	}
}

// TestRecordFollowsSandboxRules: scan --record reads through the same
// rules as a run: links that leave their tree are not followed (their
// targets' content and metadata are absent), links inside it are
// recorded with what a run would read. (Failed before the fix, though not
// by leaking: links were skipped, so a link inside a tree was missing from
// the recording and replay disagreed with a live run; and no stat was
// recorded.)
func TestRecordFollowsSandboxRules(t *testing.T) {
	needLinks(t)
	base := t.TempDir()
	tree := filepath.Join(base, "tree")
	mustDo(t, os.Mkdir(tree, 0o755))
	mustDo(t, os.WriteFile(filepath.Join(base, "secret"), []byte(secretMarker), 0o600))
	mustDo(t, os.WriteFile(filepath.Join(tree, "a"), []byte("inside\n"), 0o644))
	mustDo(t, os.WriteFile(filepath.Join(tree, "bin"), []byte{0, 1, 2, 0xff}, 0o644))
	mustDo(t, os.Symlink("a", filepath.Join(tree, "in")))
	mustDo(t, os.Symlink("../secret", filepath.Join(tree, "out")))
	mustDo(t, os.Symlink("..", filepath.Join(tree, "up")))
	e, _ := engine(t, host.Limits{})
	w, err := e.Load(t.Context(), worklet(t, "fs-probe", "[evaluate]\nread = [\""+tree+"/\"]\n"+fsProbeParams))
	mustDo(t, err)
	scan, err := host.NewScan([]byte(`{"os": {"family": "linux"}}`))
	mustDo(t, err)
	out, _, err := e.Record(t.Context(), scan, []host.Job{{Worklet: w}}, time.Now())
	mustDo(t, err)
	if strings.Contains(string(out), secretMarker) {
		t.Fatalf("the recording holds the secret outside the tree:\n%s", out)
	}
	rec, err := host.ParseRecording(out)
	mustDo(t, err)
	for p := range rec.Files {
		if !strings.HasPrefix(p, tree+"/") {
			t.Errorf("recorded a file outside the tree: %s", p)
		}
	}
	if rec.Files[filepath.Join(tree, "in")] != "inside\n" || rec.Files[filepath.Join(tree, "bin")] != "\x00\x01\x02\xff" {
		t.Errorf("files: %q", rec.Files)
	}
	if _, ok := rec.Files[filepath.Join(tree, "out")]; ok {
		t.Error("recorded the content behind a link that leaves the tree")
	}
	if !strings.Contains(string(out), `"base64": "AAEC/w=="`) {
		t.Errorf("binary content not in base64:\n%s", out)
	}
	for p := range rec.Stat {
		if p != tree && !strings.HasPrefix(p, tree+"/") {
			t.Errorf("stat of a path outside the tree: %s", p)
		}
	}
	if rec.Stat[filepath.Join(tree, "out")].Type != "symlink" || rec.Stat[tree].Type != "dir" || rec.Stat[filepath.Join(tree, "a")].Mode != "0644" {
		t.Errorf("stat: %+v", rec.Stat)
	}
}
