package e2e

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/amagent/amagent/platform/internal/store"
)

// The fault-injection suite's helpers: processes started with the flags a
// scenario needs, kill -9, the platform's database read directly (the CLI
// shows only the latest 50 commands), execution counts from the agent's
// log, tmpfs mounts, and process measurements for the soak.

// faultsLong reports whether the long variants run (make soak).
func faultsLong() bool { return os.Getenv("AMAGENT_FAULTS_LONG") != "" }

// pick is short in the default run and long under AMAGENT_FAULTS_LONG.
func pick[T any](short, long T) T {
	if faultsLong() {
		return long
	}
	return short
}

// fStart starts the platform with serve flags added to the usual ones
// (a later flag wins). With db != "" it serves that PostgreSQL database.
func (p *platform) fStart(db string, extra ...string) {
	p.t.Helper()
	lw := &lockedWriter{w: &bytes.Buffer{}}
	if old, ok := platLogs.Load(p); ok {
		lw = old.(*lockedWriter) // one log across restarts
	}
	platLogs.Store(p, lw)
	p.log = lw.w
	args := []string{"serve", "--listen", "127.0.0.1:" + strconv.Itoa(p.port), "--access-key", accessKey, "--checkin-interval", "1s"}
	if db != "" {
		args = append(args, "--database", db)
	} else {
		args = append(args, "--data", p.data)
	}
	p.cmd = exec.Command(p.bin, append(args, extra...)...)
	p.cmd.Stdout, p.cmd.Stderr = lw, lw
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	waitFor(p.t, 15*time.Second, "platform listening on "+strconv.Itoa(p.port), func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(p.port), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, func() string { return p.logText() })
}

// kill9 ends the platform with SIGKILL.
func (p *platform) kill9() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
	p.cmd = nil
}

func (p *platform) alive() bool {
	return p.cmd != nil && p.cmd.Process != nil && p.cmd.Process.Signal(syscall.Signal(0)) == nil && p.cmd.ProcessState == nil
}

// platLogs keeps the output of each platform started by fStart, readable
// while it runs.
var platLogs sync.Map // *platform -> *lockedWriter

// logText is the output of the platform's runs by fStart.
func (p *platform) logText() string {
	if lw, ok := platLogs.Load(p); ok {
		return lw.(*lockedWriter).String()
	}
	return ""
}

// lockedWriter lets the test read a process's output while it writes.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// agentOpts shape a fault-suite agent's configuration.
type agentOpts struct {
	server   string
	stateDir string // default: <dir>/state
	logFile  string // default: <dir>/amagent.log
	interval string // [checkin] interval, default 200ms
	trusted  []string
	env      []string
}

// fAgent makes an agent whose configuration the scenario chose: fast
// check-ins (200 ms, which the platform's 1 s check-in interval replaces
// after the first check-in) and a short backoff.
func fAgent(t *testing.T, bin string, o agentOpts) *agent {
	t.Helper()
	dir := t.TempDir()
	if o.stateDir == "" {
		o.stateDir = filepath.Join(dir, "state")
	}
	if o.logFile == "" {
		o.logFile = filepath.Join(dir, "amagent.log")
	}
	if o.interval == "" {
		o.interval = "200ms"
	}
	iv, _ := time.ParseDuration(o.interval)
	keys, _ := json.Marshal(o.trusted)
	if o.trusted == nil {
		keys = []byte("[]")
	}
	cfg := fmt.Sprintf(`server = %q
access_key = %q
state_dir = %q
log_file = %q
dry_run = true

[checkin]
interval = %q
variance = %q
retry_initial = "100ms"
retry_max = "1s"

[scan]
skip_pending = true

[worklets]
trusted_keys = %s
`, o.server, accessKey, o.stateDir, o.logFile, o.interval, (iv / 4).String(), keys)
	path := filepath.Join(dir, "amagent.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, bin: bin, dir: dir, cfg: path}
	return a
}

// fLog is the agent's log file (which fAgent may have put elsewhere).
func fLog(a *agent) string {
	b, _ := os.ReadFile(logPathOf(a))
	return string(b)
}

func logPathOf(a *agent) string {
	b, _ := os.ReadFile(a.cfg)
	if m := regexp.MustCompile(`(?m)^log_file = "(.*)"$`).FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return filepath.Join(a.dir, "amagent.log")
}

func stateDirOf(a *agent) string {
	b, _ := os.ReadFile(a.cfg)
	if m := regexp.MustCompile(`(?m)^state_dir = "(.*)"$`).FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return filepath.Join(a.dir, "state")
}

// kill9 ends the agent with SIGKILL.
func (a *agent) kill9() {
	if a.cmd == nil {
		return
	}
	a.cmd.Process.Kill()
	<-a.waitc
	a.cmd = nil
}

// running reports whether the agent process has not exited.
func (a *agent) running() bool {
	if a.cmd == nil {
		return false
	}
	select {
	case err := <-a.waitc:
		a.waitc <- err
		return false
	default:
		return true
	}
}

// enrolled waits for the agent's device to be on the platform and returns
// its UUID.
func enrolled(t *testing.T, p *platform, a *agent, db string) string {
	t.Helper()
	var dev string
	waitFor(t, 20*time.Second, "the agent to enroll and check in", func() bool {
		dev = strings.TrimSpace(readFile(filepath.Join(stateDirOf(a), "device_uuid")))
		if dev == "" {
			return false
		}
		d, err := findDevice(p, db, dev)
		return err == nil && !d.LastSeen.IsZero()
	}, func() string { return fLog(a) + "\n" + a.out.String() })
	return dev
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// openStore opens the platform's database (SQLite data directory, or the
// PostgreSQL URL db) for the duration of f.
func openStore(p *platform, db string, f func(store.Store) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var st store.Store
	var err error
	if db != "" {
		st, err = store.OpenPostgres(ctx, db)
	} else {
		st, err = store.OpenSQLite(ctx, p.data)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	return f(st)
}

func findDevice(p *platform, db, ref string) (store.Device, error) {
	var d store.Device
	err := openStore(p, db, func(st store.Store) error {
		var err error
		d, err = st.FindDevice(context.Background(), ref)
		return err
	})
	return d, err
}

// commands returns every command of a device by id.
func commands(t *testing.T, p *platform, db, dev string) map[int64]store.Command {
	t.Helper()
	out := map[int64]store.Command{}
	err := openStore(p, db, func(st store.Store) error {
		d, err := st.FindDevice(context.Background(), dev)
		if err != nil {
			return err
		}
		cs, err := st.Commands(context.Background(), d.ID, 1<<30)
		for _, c := range cs {
			out[c.ID] = c
		}
		return err
	})
	if err != nil {
		t.Fatalf("reading the commands of %s: %v", dev, err)
	}
	return out
}

// finished reports whether a command has a result (or was given up).
func finished(c store.Command) bool { return !c.DoneAt.IsZero() }

// waitAnswered waits until every command in ids has ended.
func waitAnswered(t *testing.T, p *platform, db, dev string, ids []int64, limit time.Duration, show ...func() string) map[int64]store.Command {
	t.Helper()
	var cs map[int64]store.Command
	waitFor(t, limit, fmt.Sprintf("%d commands to be answered", len(ids)), func() bool {
		cs = commands(t, p, db, dev)
		for _, id := range ids {
			if !finished(cs[id]) {
				return false
			}
		}
		return true
	}, append(show, func() string {
		var open []string
		for _, id := range ids {
			if c := cs[id]; !finished(c) {
				open = append(open, fmt.Sprintf("%d(offers %d)", id, c.Offers))
			}
		}
		return "not answered: " + strings.Join(open, " ")
	})...)
	return cs
}

var execRE = regexp.MustCompile(`msg="executing command".* command_id=(\d+) `)

// executions counts the "executing command" lines per command id in an
// agent log (the log survives kill -9: each line is one write).
func executions(log string) map[int64]int {
	n := map[int64]int{}
	for _, m := range execRE.FindAllStringSubmatch(log, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		if id != 0 {
			n[id]++
		}
	}
	return n
}

// queueCLI queues through `amplatform queue` (db: PostgreSQL URL or "").
func queueCLI(t *testing.T, p *platform, db, dev string, args ...string) (int64, error) {
	full := append([]string{"queue", dev}, args...)
	if db != "" {
		full = append(full, "--database", db)
	} else {
		full = append(full, "--data", p.data)
	}
	out, err := exec.Command(p.bin, full...).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("amplatform %s: %v: %s", strings.Join(full[:len(full)-1], " "), err, bytes.TrimSpace(out))
	}
	s := strings.TrimSpace(string(out))
	id, err := strconv.ParseInt(s[strings.LastIndexAny(s, " \t\n")+1:], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("queue printed %q, want the command id", s)
	}
	return id, nil
}

// mustQueue queues or fails.
func mustQueue(t *testing.T, p *platform, db, dev string, args ...string) int64 {
	t.Helper()
	id, err := queueCLI(t, p, db, dev, args...)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// mountTmpfs mounts a tmpfs of size bytes on dir, or returns why it
// cannot (not root, no mount permission); the mount is undone at cleanup.
func mountTmpfs(t *testing.T, dir string, size int64) error {
	t.Helper()
	if os.Geteuid() != 0 {
		return errors.New("not running as root (mount -t tmpfs needs it)")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mount -t tmpfs on %s: %v: %s", dir, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		for range 50 {
			if exec.Command("umount", dir).Run() == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		exec.Command("umount", "-l", dir).Run()
	})
	return nil
}

// fill writes a filler file into dir until the file system is full and
// returns its path (remove it to give the space back).
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("filling %s: %v", dir, err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	// Whatever a smaller write can still take.
	for {
		if _, err := f.Write(buf[:64]); err != nil {
			break
		}
	}
	return path
}

// freeBytes is the space left on dir's file system.
func freeBytes(dir string) int64 {
	var s syscall.Statfs_t
	if syscall.Statfs(dir, &s) != nil {
		return -1
	}
	return int64(s.Bavail) * int64(s.Bsize)
}

// rssKiB reads VmRSS of a process.
func rssKiB(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}

// goroutineSlots reads the Go runtime's runtime.allglen from a running
// process's memory: the number of goroutine structures it ever needed at
// once (the high-water mark of live goroutines; free ones are reused).
// It grows only when more goroutines live at once than ever before, so
// equal values at the start and end of a soak mean no goroutine growth.
// It needs the binary's symbol table (the suite builds without -s) and
// root or ptrace rights over the process.
func goroutineSlots(bin string, pid int) (int64, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return 0, fmt.Errorf("%s has no symbol table: %w", bin, err)
	}
	var addr uint64
	for _, s := range syms {
		if s.Name == "runtime.allglen" {
			addr = s.Value
		}
	}
	if addr == 0 {
		return 0, errors.New("runtime.allglen not in the symbol table")
	}
	if f.Type == elf.ET_DYN {
		return 0, errors.New("position-independent binary: its load address would be needed")
	}
	m, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return 0, err
	}
	defer m.Close()
	var b [8]byte
	if _, err := m.ReadAt(b[:], int64(addr)); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b[:])), nil
}

var goroutineHeader = regexp.MustCompile(`(?m)^goroutine [1-9][0-9]* `)

// quitAndCount sends SIGQUIT to the agent (the Go runtime then writes
// every goroutine's stack to stderr and exits) and counts the goroutines
// in the dump.
func quitAndCount(a *agent) (int, error) {
	if a.cmd == nil {
		return 0, errors.New("agent not running")
	}
	a.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-a.waitc:
	case <-time.After(10 * time.Second):
		a.cmd.Process.Kill()
		<-a.waitc
		a.cmd = nil
		return 0, errors.New("no exit within 10s of SIGQUIT")
	}
	a.cmd = nil
	n := len(goroutineHeader.FindAllString(a.out.String(), -1))
	if n == 0 {
		return 0, fmt.Errorf("no goroutine dump on stderr: %s", tail(a.out.String(), 300))
	}
	return n, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// table collects the suite's rows and prints them aligned.
type table struct {
	mu   sync.Mutex
	rows [][]string
}

func (tb *table) add(cells ...string) {
	tb.mu.Lock()
	tb.rows = append(tb.rows, cells)
	tb.mu.Unlock()
}

func (tb *table) String() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	w := map[int]int{}
	for _, r := range tb.rows {
		for i, c := range r {
			w[i] = max(w[i], len(c))
		}
	}
	var b strings.Builder
	for k, r := range tb.rows {
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
			} else {
				fmt.Fprintf(&b, "%-*s  ", w[i], c)
			}
		}
		b.WriteString("\n")
		if k == 0 {
			for i := range r {
				b.WriteString(strings.Repeat("-", w[i]))
				if i < len(r)-1 {
					b.WriteString("  ")
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// seed is the suite's random seed: AMAGENT_FAULTS_SEED, or the time.
func seed(t *testing.T) uint64 {
	if s := os.Getenv("AMAGENT_FAULTS_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("AMAGENT_FAULTS_SEED=%q: want a number", s)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

func newRand(s uint64) *rand.Rand { return rand.New(rand.NewPCG(s, s+1)) }

// adminPost posts JSON to the admin API with the platform's admin token.
func adminPost(client *http.Client, base, token, path string, body any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// commandView is the part of a stored command the suite counts.
type commandView struct {
	Status, Error string
	Offers        int
	DoneAt        time.Time
	Output        string
}

func views(cs map[int64]store.Command) map[int64]commandView {
	out := make(map[int64]commandView, len(cs))
	for id, c := range cs {
		out[id] = commandView{Status: c.Status, Error: c.Error, Offers: c.Offers + c.Reoffers, DoneAt: c.DoneAt, Output: string(c.Output)}
	}
	return out
}

// settled starts the agent and waits for its first complete check-in
// (its signal handlers are in place by then).
func settled(t *testing.T, a *agent) {
	t.Helper()
	from := len(fLog(a))
	a.start()
	waitFor(t, 20*time.Second, "the agent's first check-in after its start", func() bool {
		return strings.Contains(fLog(a)[from:], "msg=complete")
	}, func() string { return tail(fLog(a), 2000) + a.out.String() })
}
