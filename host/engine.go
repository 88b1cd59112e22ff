package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/amagent/amagent/host/internal/guardfs"
	"github.com/amagent/amagent/host/internal/memlimit"
	"github.com/amagent/amagent/host/internal/wasmdata"
	"github.com/amagent/amagent/host/internal/wasmjump"
)

// Limits is the agent's sandbox configuration ([sandbox] in amagent.toml):
// the most any manifest may ask for. Zero values mean the defaults below.
type Limits struct {
	MaxMemory    int64         // bytes of linear memory; default 256 MiB
	MaxTimeout   time.Duration // wall clock per run; default 60s
	MaxOutput    int           // bytes of stdout (and of stderr) per run; default 1 MiB
	MaxExecCalls int           // exec calls per run; default 64
	// MaxHostBytes bounds the bytes the host answers into the response
	// slot over one run; default 16 MiB.
	MaxHostBytes int64
	// ExecOutput caps stdout and stderr of each program a module runs;
	// default 1 MiB.
	ExecOutput int
	// MaxModuleSize is the largest .wasm accepted; default 64 MiB.
	MaxModuleSize int64
	// CompileTimeout bounds compiling one module; default 30s. A module
	// that passes it is refused as "compile limit" until its bytes change.
	CompileTimeout time.Duration
	// CompileMemory bounds the memory of the process that compiles a
	// module (Linux, with a compile child: see compile.go); default
	// 512 MiB.
	CompileMemory int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxMemory <= 0 {
		l.MaxMemory = 256 << 20
	}
	if l.MaxTimeout <= 0 {
		l.MaxTimeout = 60 * time.Second
	}
	if l.MaxOutput <= 0 {
		l.MaxOutput = 1 << 20
	}
	if l.MaxExecCalls <= 0 {
		l.MaxExecCalls = 64
	}
	if l.MaxHostBytes <= 0 {
		l.MaxHostBytes = 16 << 20
	}
	if l.ExecOutput <= 0 {
		l.ExecOutput = 1 << 20
	}
	if l.MaxModuleSize <= 0 {
		l.MaxModuleSize = 64 << 20
	}
	if l.CompileTimeout <= 0 {
		l.CompileTimeout = 30 * time.Second
	}
	if l.CompileMemory <= 0 {
		l.CompileMemory = 512 << 20
	}
	return l
}

// Options configure an Engine.
type Options struct {
	// CacheDir holds compiled code across restarts (e.g.
	// <state_dir>/wasm-cache); "" keeps it in memory only.
	CacheDir string
	Limits   Limits
	Log      *slog.Logger
	// Interpreter forces wazero's interpreter even where its compiler runs.
	Interpreter bool
	// CompileCommand is the argv of a process that runs CompileChild (the
	// agent sets its own binary and hidden subcommand): with a CacheDir,
	// modules are compiled there, under Limits.CompileTimeout and
	// Limits.CompileMemory, and loaded from the cache. nil compiles in this
	// process under the time bound only (compile.go).
	CompileCommand []string

	// noCloseOnDone turns WithCloseOnContextDone off (benchmarks only).
	noCloseOnDone bool
}

// Engine runs worklets and policies: one wazero runtime for the agent,
// compiled modules cached by sha256, a fresh instance per run.
type Engine struct {
	rt     wazero.Runtime
	cache  wazero.CompilationCache
	limits Limits
	log    *slog.Logger

	// How modules are compiled (compile.go): codes is the checked
	// compiled-code cache (nil without a CacheDir), child the compile
	// process's argv (nil: in this process).
	codes       *codeCache
	child       []string
	closeOnDone bool
	interpreter bool

	mu       sync.Mutex
	compiled map[string]compiled
	inflight map[string]*flight // sha256 -> the compile under way
	refused  map[string]string  // sha256 -> why it is over the compile bound
	warned   map[string]bool    // sha256 -> a damaged cache entry was logged
	// capWarned holds the limit caps already logged at warning level
	// (worklet, key, asked): a module is loaded for every run, and a cap
	// is the same every time.
	capWarned sync.Map
}

// compiled is a compiled module and, when its data segments were taken
// out, the initial memory that its runs start from.
type compiled struct {
	cm    wazero.CompiledModule
	image *memlimit.Image
}

// NewEngine makes the runtime, with the WASI and amagent host modules.
func NewEngine(ctx context.Context, o Options) (*Engine, error) {
	e := &Engine{limits: o.Limits.withDefaults(), log: o.Log, compiled: map[string]compiled{},
		inflight: map[string]*flight{}, refused: map[string]string{}, warned: map[string]bool{},
		child: o.CompileCommand, closeOnDone: !o.noCloseOnDone, interpreter: o.Interpreter}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	cfg := wazero.NewRuntimeConfig()
	if o.Interpreter {
		cfg = wazero.NewRuntimeConfigInterpreter()
	}
	cfg = cfg.WithCloseOnContextDone(!o.noCloseOnDone).
		WithMemoryLimitPages(uint32(e.limits.MaxMemory >> 16))
	if o.CacheDir != "" && !o.Interpreter {
		codes, err := openCodeCache(o.CacheDir)
		if err != nil {
			return nil, err
		}
		c, err := wazero.NewCompilationCacheWithDir(codes.dir)
		if err != nil {
			return nil, fmt.Errorf("wasm cache %s: %w", codes.dir, err)
		}
		e.codes, e.cache = codes, c
		cfg = cfg.WithCompilationCache(c)
	}
	e.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, e.rt); err != nil {
		_ = e.rt.Close(ctx)
		return nil, fmt.Errorf("wasi: %w", err)
	}
	if err := instantiateHostModule(ctx, e.rt); err != nil {
		_ = e.rt.Close(ctx)
		return nil, fmt.Errorf("amagent host module: %w", err)
	}
	return e, nil
}

// Close releases the runtime and its compiled modules.
func (e *Engine) Close(ctx context.Context) error {
	err := e.rt.Close(ctx)
	if e.cache != nil {
		err = errors.Join(err, e.cache.Close(ctx))
	}
	return err
}

// Trim returns the guest memory kept for reuse to the OS; the scan calls it
// when it is done with a batch of runs.
func (e *Engine) Trim() { memlimit.Release() }

// Limits returns the engine's effective agent limits.
func (e *Engine) Limits() Limits { return e.limits }

// Worklet is a loaded, compiled worklet or policy, ready to run.
type Worklet struct {
	Dir      string
	Manifest *Manifest
	SHA256   string // of the module bytes

	compiled wazero.CompiledModule
	image    *memlimit.Image // nil: the module writes its own data
	limits   runLimits
	// liveConfig caches the live module configuration by phase.
	liveConfig sync.Map
}

type runLimits struct {
	memory    uint64
	timeout   time.Duration
	output    int
	execCalls int
}

// Load reads DIR/worklet.toml and its module, checks the sha256 when the
// manifest has one, compiles (or takes from the cache) and checks the
// module's imports. Every error here is a load error.
func (e *Engine) Load(ctx context.Context, dir string) (*Worklet, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	modPath := filepath.Join(dir, filepath.FromSlash(m.Module))
	f, err := os.Open(modPath)
	if err != nil {
		return nil, fmt.Errorf("module: %w", err)
	}
	defer f.Close()
	wasm, err := io.ReadAll(io.LimitReader(f, e.limits.MaxModuleSize+1))
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", modPath, err)
	}
	if int64(len(wasm)) > e.limits.MaxModuleSize {
		return nil, fmt.Errorf("module %s is larger than the agent's %d-byte limit", modPath, e.limits.MaxModuleSize)
	}
	return e.LoadModule(ctx, m, dir, wasm)
}

// LoadModule compiles a module for a parsed manifest.
func (e *Engine) LoadModule(ctx context.Context, m *Manifest, dir string, wasm []byte) (*Worklet, error) {
	sum := sha256.Sum256(wasm)
	hexSum := hex.EncodeToString(sum[:])
	if m.SHA256 != "" && m.SHA256 != hexSum {
		return nil, fmt.Errorf("module: sha256 is %s, the manifest's key sha256 says %s", hexSum, m.SHA256)
	}
	c, err := e.compile(ctx, m.Name, hexSum, wasm)
	if err != nil {
		return nil, err
	}
	cm := c.cm
	if err := checkImports(cm, m.Kind); err != nil {
		return nil, err
	}
	w := &Worklet{Dir: dir, Manifest: m, SHA256: hexSum, compiled: cm, image: c.image, limits: e.capLimits(m)}
	for _, mem := range cm.ExportedMemories() {
		if need := uint64(mem.Min()) << 16; need > w.limits.memory {
			return nil, fmt.Errorf("module needs %d bytes of initial memory, over its limit of %d bytes (limits.memory)", need, w.limits.memory)
		}
	}
	return w, nil
}

// minImage is the smallest initial memory worth taking out of a module's
// data segments (a Go module's is over a megabyte; a C module's a few
// kilobytes, cheaper for wazero to copy than to compare afterwards).
const minImage = 256 << 10

// maxImage is the largest (also capped by the agent's MaxMemory).
const maxImage = 64 << 20

// compile returns the module compiled, from memory, from the checked
// cache, or compiled now within the compile bound (compile.go). The
// engine's lock is held only to look up and record: never while compiling.
func (e *Engine) compile(ctx context.Context, name, sum string, wasm []byte) (compiled, error) {
	for {
		e.mu.Lock()
		if c, ok := e.compiled[sum]; ok {
			e.mu.Unlock()
			return c, nil
		}
		if reason, ok := e.refused[sum]; ok {
			e.mu.Unlock()
			return compiled{}, &CompileLimitError{Reason: reason}
		}
		if f, ok := e.inflight[sum]; ok {
			e.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return compiled{}, ctx.Err()
			}
			if f.err != nil && ctx.Err() == nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)) {
				continue // the caller that compiled it gave up; try again
			}
			return f.c, f.err
		}
		f := &flight{done: make(chan struct{})}
		e.inflight[sum] = f
		e.mu.Unlock()

		f.c, f.err = e.compileNow(ctx, name, sum, wasm)
		e.mu.Lock()
		delete(e.inflight, sum)
		var limit *CompileLimitError
		if f.err == nil {
			e.compiled[sum] = f.c
		} else if errors.As(f.err, &limit) {
			e.refused[sum] = limit.Reason
		}
		e.mu.Unlock()
		close(f.done)
		return f.c, f.err
	}
}

// prepare applies the rewrites that change how the module starts, not what
// it does: a large initial memory is taken out of the data segments and
// handed to the run's allocator, which keeps released memory holding it
// (internal/wasmdata.Split, internal/memlimit); otherwise the data
// segments are merged, so that wazero copies fewer
// (internal/wasmdata.Merge). The forward jumps of Go's dispatch loops are
// made direct, skipping loop headers that WithCloseOnContextDone would
// check on the way (internal/wasmjump). Other modules are left as they are.
func (e *Engine) prepare(sum string, wasm []byte) ([]byte, *memlimit.Image) {
	var image *memlimit.Image
	mod, img := wasmdata.Split(wasm, int(min(e.limits.MaxMemory, maxImage)))
	if len(img) >= minImage {
		image = memlimit.NewImage(sum, img)
	} else {
		mod = wasmdata.Merge(wasm)
	}
	return wasmjump.Rewrite(mod), image
}

// Forget drops compiled modules whose sha256 is not in keep (after the
// assignments change). It must not run concurrently with runs of them.
func (e *Engine) Forget(ctx context.Context, keep []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for sum, c := range e.compiled {
		if !slices.Contains(keep, sum) {
			_ = c.cm.Close(ctx)
			delete(e.compiled, sum)
		}
	}
}

// capLimits applies the manifest's limits, capped by the agent's, and logs
// caps: a warning the first time, debug afterwards.
func (e *Engine) capLimits(m *Manifest) runLimits {
	l := runLimits{memory: DefaultMemory, timeout: DefaultTimeout, output: DefaultOutput, execCalls: DefaultExecCalls}
	if m.Limits.Memory > 0 {
		l.memory = uint64(m.Limits.Memory)
	}
	if m.Limits.Timeout > 0 {
		l.timeout = m.Limits.Timeout
	}
	if m.Limits.Output > 0 {
		l.output = m.Limits.Output
	}
	if m.Limits.execCallsSet {
		l.execCalls = m.Limits.ExecCalls
	}
	capped := func(key string, asked, cap any) {
		level := slog.LevelWarn
		if _, seen := e.capWarned.LoadOrStore(fmt.Sprint(m.Name, "\x00", key, "\x00", asked, "\x00", cap), true); seen {
			level = slog.LevelDebug
		}
		e.log.Log(context.Background(), level, "worklet limit capped by the agent's configuration", "worklet", m.Name, "key", key, "requested", asked, "cap", cap)
	}
	if max := uint64(e.limits.MaxMemory); l.memory > max {
		if m.Limits.Memory > 0 {
			capped("limits.memory", l.memory, max)
		}
		l.memory = max
	}
	l.memory &^= 0xffff // whole pages
	if l.timeout > e.limits.MaxTimeout {
		if m.Limits.Timeout > 0 {
			capped("limits.timeout", l.timeout.String(), e.limits.MaxTimeout.String())
		}
		l.timeout = e.limits.MaxTimeout
	}
	if l.output > e.limits.MaxOutput {
		if m.Limits.Output > 0 {
			capped("limits.output", l.output, e.limits.MaxOutput)
		}
		l.output = e.limits.MaxOutput
	}
	if l.execCalls > e.limits.MaxExecCalls {
		if m.Limits.execCallsSet {
			capped("limits.exec_calls", l.execCalls, e.limits.MaxExecCalls)
		}
		l.execCalls = e.limits.MaxExecCalls
	}
	return l
}

// LoadErrorResult is the result of a worklet that could not be loaded.
func LoadErrorResult(name, phase string, err error) Result {
	if limit := (*CompileLimitError)(nil); errors.As(err, &limit) {
		return Result{Name: name, Phase: phase, Status: StatusError, ExitCode: -1, ErrorKind: KindCompileLimit,
			Error: limit.Error(), Details: json.RawMessage("null"),
			Hint: "compiling the module would pass the agent's bound (sandbox.compile_timeout, sandbox.compile_memory, or the structural bounds); it is refused until its bytes change"}
	}
	return Result{Name: name, Phase: phase, Status: StatusError, ExitCode: -1, ErrorKind: KindLoad,
		Error: "load: " + err.Error(), Details: json.RawMessage("null")}
}

// Run runs one phase of a worklet in env. params override the manifest's
// defaults. It always returns a result; failures are status "error".
func (e *Engine) Run(ctx context.Context, w *Worklet, phase string, params map[string]any, env *Environment) Result {
	start := time.Now()
	m := w.Manifest
	res := Result{Name: m.Name, Version: m.Version, Kind: m.Kind, Phase: phase, ExitCode: -1}
	done := func() Result {
		res.Duration = time.Since(start)
		if len(res.Details) == 0 {
			res.Details = json.RawMessage("null")
		}
		return res
	}
	loadErr := func(err error) Result {
		r := LoadErrorResult(m.Name, phase, err)
		res.Status, res.ErrorKind, res.Error = r.Status, r.ErrorKind, r.Error
		return done()
	}
	switch {
	case phase == PhaseRemediate && m.Kind == KindPolicy:
		return loadErr(errors.New("a policy has no remediate phase"))
	case phase != PhaseEvaluate && phase != PhaseRemediate:
		return loadErr(fmt.Errorf("phase %q is not evaluate or remediate", phase))
	}
	if len(m.OS) > 0 && !slices.Contains(m.OS, env.scan.OSFamily()) {
		if phase == PhaseEvaluate {
			res.Status, res.ExitCode = StatusNotApplicable, 2
			res.Message = fmt.Sprintf("not applicable: %s runs on %s, this device is %s", m.Name, strings.Join(m.OS, ", "), env.scan.OSFamily())
			return done()
		}
		return loadErr(fmt.Errorf("%s runs on %s, this device is %s", m.Name, strings.Join(m.OS, ", "), env.scan.OSFamily()))
	}
	resolved, err := m.ResolveParams(params)
	if err != nil {
		return loadErr(err)
	}
	input, err := inputDocument(m, phase, resolved, env.scan)
	if err != nil {
		return loadErr(err)
	}
	caps := m.Caps(phase)
	lim := w.limits
	red := newRedactor(m, resolved)
	st := &runState{redact: red,
		name: m.Name, kind: m.Kind, phase: phase, log: e.log, env: env, allow: caps,
		maxExecCalls: lim.execCalls, maxHostBytes: e.limits.MaxHostBytes,
		execTimeout: lim.timeout, execOutput: e.limits.ExecOutput, maxLogBytes: lim.output,
		denied: &Denials{},
	}
	stdout := &capWriter{max: lim.output}
	stderr := &capWriter{max: lim.output}
	cfg, vc, cleanup, err := e.moduleConfig(w, env, caps, phase, st)
	if err != nil {
		return loadErr(err)
	}
	defer cleanup()
	cfg = cfg.WithStdin(bytes.NewReader(input)).WithStdout(stdout).WithStderr(stderr)

	runCtx, cancel := context.WithTimeout(ctx, lim.timeout)
	defer cancel()
	// Sleeping never outlasts the run's deadline (ABI.md section 2): the
	// live clock's sleep wakes at the deadline or when the run ends; the
	// replay clock's sleep, which only moves virtual time, ends the run
	// as a timeout when it would pass the limit, as the live one would.
	if vc != nil {
		var expire context.CancelCauseFunc
		runCtx, expire = context.WithCancelCause(runCtx)
		defer expire(nil)
		vc.limit, vc.expire = int64(lim.timeout), func() { expire(context.DeadlineExceeded) }
		cfg = cfg.WithNanosleep(vc.sleep)
	} else {
		cfg = cfg.WithNanosleep(deadlineSleep(runCtx))
	}
	mlim := memlimit.New(lim.memory).WithImage(w.image)
	runCtx = mlim.WithContext(runCtx)
	runCtx = context.WithValue(runCtx, runStateKey{}, st)

	mod, runErr := e.instantiate(runCtx, w.compiled, cfg)
	if mod != nil {
		_ = mod.Close(context.Background())
	}
	res.Truncated = stdout.truncated
	res.Denied = red.Strings(st.denied.List())
	var cut bool
	res.Message, res.Details, cut = parseOutput(stdout.buf.Bytes())
	res.Message, res.Details = red.String(res.Message), red.JSON(res.Details)
	res.Truncated = res.Truncated || cut
	e.logStderr(m.Name, stderr, red)

	code, kind, detail := classify(runErr, runCtx, ctx)
	if kind == "" {
		res.ExitCode = code
		if status, ok := statusFor(phase, code); ok {
			res.Status = status
		} else {
			kind = KindExit
		}
	}
	if mlim.Refused() && (kind == KindTrap || kind == KindExit) {
		kind, detail = KindMemoryLimit, ""
	} else if kind == "" && code == 2 {
		// Go's runtime exits 2 on a panic or a fatal error, which would
		// otherwise read as "not applicable".
		if msg, ok := goPanic(stderr.buf.Bytes()); ok {
			kind, detail = KindTrap, msg
		}
	}
	switch kind {
	case "":
	case KindExit:
		res.Status, res.ErrorKind, res.Error = StatusError, KindExit, fmt.Sprintf("exit %d", code)
		res.Hint = fmt.Sprintf("exit code %d is an error in the %s phase: only evaluate's 0 compliant, 1 non-compliant, 2 not applicable and remediate's 0 succeeded, 1 failed are outcomes", code, phase)
	case KindTimeout:
		res.Status, res.ErrorKind, res.Error, res.ExitCode = StatusError, KindTimeout, KindTimeout, -1
		res.Hint = fmt.Sprintf("the run was stopped after its %s limit (limits.timeout)", lim.timeout)
	case KindCanceled:
		res.Status, res.ErrorKind, res.Error, res.ExitCode = StatusError, KindCanceled, KindCanceled, -1
		res.Hint = "the agent stopped the run (shutting down)"
	case KindMemoryLimit:
		res.Status, res.ErrorKind, res.Error, res.ExitCode = StatusError, KindMemoryLimit, KindMemoryLimit, -1
		res.Hint = fmt.Sprintf("the module asked for more than its %d bytes of memory (limits.memory)", lim.memory)
	case KindTrap:
		res.Status, res.ErrorKind, res.Error, res.ExitCode = StatusError, KindTrap, "trap: "+detail, -1
		res.Hint = "the module trapped: " + detail
	case KindLoad:
		res.Status, res.ErrorKind, res.Error, res.ExitCode = StatusError, KindLoad, "load: "+detail, -1
	}
	if res.ErrorKind != "" {
		e.log.Warn("worklet run failed", "worklet", m.Name, "phase", phase, "error", res.Error, "detail", firstLines(errString(runErr), 6))
	}
	return done()
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// instantiate runs the module's _start; a panic in wazero is a load error.
func (e *Engine) instantiate(ctx context.Context, cm wazero.CompiledModule, cfg wazero.ModuleConfig) (mod api.Module, err error) {
	defer func() {
		if r := recover(); r != nil {
			mod, err = nil, fmt.Errorf("instantiating: %v", r)
		}
	}()
	return e.rt.InstantiateModule(ctx, cm, cfg)
}

// classify turns the instantiation error into an exit code or an error kind.
func classify(err error, runCtx, parent context.Context) (code int, kind, detail string) {
	if parent.Err() == nil && errors.Is(context.Cause(runCtx), context.DeadlineExceeded) {
		// Past its deadline, however it ended (a sleep cut short at the
		// deadline returns to a guest that may then exit normally).
		return -1, KindTimeout, ""
	}
	if err == nil {
		return 0, "", ""
	}
	var ee *sys.ExitError
	if errors.As(err, &ee) {
		switch ee.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return -1, KindTimeout, ""
		case sys.ExitCodeContextCanceled:
			if parent.Err() == nil && errors.Is(context.Cause(runCtx), context.DeadlineExceeded) {
				return -1, KindTimeout, ""
			}
			return -1, KindCanceled, ""
		}
		return int(ee.ExitCode()), "", ""
	}
	if errors.Is(context.Cause(runCtx), context.DeadlineExceeded) && parent.Err() == nil {
		return -1, KindTimeout, ""
	}
	msg := err.Error()
	if i := strings.Index(msg, "function[_start] failed: "); i >= 0 {
		msg = msg[i+len("function[_start] failed: "):]
		msg = strings.TrimPrefix(strings.SplitN(msg, "\n", 2)[0], "wasm error: ")
		return -1, KindTrap, msg
	}
	return -1, KindLoad, strings.SplitN(msg, "\n", 2)[0]
}

func (e *Engine) logStderr(name string, w *capWriter, red *redactor) {
	if w.buf.Len() == 0 {
		return
	}
	for _, line := range strings.Split(strings.TrimRight(w.buf.String(), "\n"), "\n") {
		e.log.Info("worklet stderr", "worklet", name, "line", red.String(strings.ToValidUTF8(line, "\uFFFD")))
	}
	if w.truncated {
		e.log.Warn("worklet stderr truncated", "worklet", name, "limit", w.max)
	}
}

// moduleConfig is the run's module configuration without its stdio. On
// the live machine its arguments, environment and clock are the same for
// every run of a worklet's phase and are kept (each With* copies the
// configuration); the file system is the run's own (st.files), closed by
// the returned cleanup.
func (e *Engine) moduleConfig(w *Worklet, env *Environment, caps Capabilities, phase string, st *runState) (wazero.ModuleConfig, *virtualClock, func(), error) {
	live := !env.replay && env.clock.IsZero()
	var cfg wazero.ModuleConfig
	var vc *virtualClock
	if c, ok := w.liveConfig.Load(phase); live && ok {
		cfg = c.(wazero.ModuleConfig)
	} else {
		m := w.Manifest
		cfg = wazero.NewModuleConfig().WithName("").
			WithArgs(m.Name, phase).
			WithEnv("AMAGENT_ABI", "1").WithEnv("AMAGENT_PHASE", phase)
		cfg, vc = e.clock(cfg, env)
		if live {
			w.liveConfig.Store(phase, cfg)
		}
	}
	cfg, cleanup, err := e.files(cfg, env, caps, phase, st)
	return cfg, vc, cleanup, err
}

// clock sets the clock and randomness for the run. In replay it returns
// the run's virtual clock (nil when live).
func (e *Engine) clock(cfg wazero.ModuleConfig, env *Environment) (wazero.ModuleConfig, *virtualClock) {
	if env.clock.IsZero() {
		return cfg.WithSysWalltime().WithSysNanotime().WithRandSource(rand.Reader), nil
	}
	// Replay: time starts at the recording's and advances only by what
	// the guest itself does, so a run is the same on every machine.
	vc := &virtualClock{base: env.clock}
	return cfg.WithWalltime(vc.walltime, sys.ClockResolution(1)).
		WithNanotime(vc.nanotime, sys.ClockResolution(1)), vc
}

// files mounts the run's guarded file system at "/" (guardfs): only the
// paths the phase declares, resolved inside their grants; every other path
// is EACCES and reported to the run's denials. It is built per run (its
// tree grants' roots are opened on first use and closed by cleanup).
func (e *Engine) files(cfg wazero.ModuleConfig, env *Environment, caps Capabilities, phase string, st *runState) (wazero.ModuleConfig, func(), error) {
	cleanup := func() {}
	var write []string
	if phase == PhaseRemediate {
		write = caps.Write
	}
	grants := guardfs.ParseGrants(caps.Read, write)
	opts := guardfs.Options{Grants: grants, HostRoot: env.hostRoot, Backend: env.files, Deny: st.denyPath}
	if env.replay && len(write) > 0 {
		// Remediating against a recording writes into a scratch copy.
		dir, err := os.MkdirTemp("", "amagent-replay-")
		if err != nil {
			return cfg, cleanup, err
		}
		cleanup = func() {
			if env.onWritten != nil {
				env.onWritten(scratchChanges(dir, env.scratch))
			}
			_ = os.RemoveAll(dir)
		}
		for p, content := range env.scratch {
			host := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(filepath.ToSlash(p), "/")))
			if err := os.MkdirAll(filepath.Dir(host), 0o700); err == nil {
				err = os.WriteFile(host, []byte(content), 0o600)
			}
			if err != nil {
				_ = os.RemoveAll(dir)
				return cfg, func() {}, fmt.Errorf("replay scratch: %w", err)
			}
		}
		for _, g := range grants {
			if g.Write && g.Tree {
				_ = os.MkdirAll(filepath.Join(dir, filepath.FromSlash(g.Path)), 0o700)
			} else if g.Write {
				_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, filepath.FromSlash(g.Path))), 0o700)
			}
		}
		opts.HostRoot, opts.Backend = dir, nil
	}
	g := guardfs.New(opts)
	st.files = g
	removeScratch := cleanup
	cleanup = func() { _ = g.Close(); removeScratch() }
	cfg = cfg.WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(g, "/"))
	return cfg, cleanup, nil
}

// inputDocument is the stdin document of ABI.md section 3.
func inputDocument(m *Manifest, phase string, params map[string]any, scan *Scan) ([]byte, error) {
	head, err := json.Marshal(struct {
		ABI     int            `json:"abi"`
		Phase   string         `json:"phase"`
		Worklet map[string]any `json:"worklet"`
		Params  map[string]any `json:"params"`
	}{ABIVersion, phase, map[string]any{"name": m.Name, "version": m.Version}, params})
	if err != nil {
		return nil, fmt.Errorf("params: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(head) + len(scan.raw) + 16)
	b.Write(head[:len(head)-1])
	b.WriteString(`,"scan":`)
	b.Write(scan.raw)
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// capWriter keeps the first max bytes and drops the rest, flagging it.
type capWriter struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	room := w.max - w.buf.Len()
	if len(p) > room {
		w.truncated = true
		if room > 0 {
			w.buf.Write(p[:room])
		}
		return len(p), nil
	}
	w.buf.Write(p)
	return len(p), nil
}

// Job is one worklet to evaluate in a scan.
type Job struct {
	Worklet *Worklet
	Params  map[string]any
}

// Evaluate runs the evaluate phase of every job in env, up to NumCPU at a
// time; results are in the order of jobs.
func (e *Engine) Evaluate(ctx context.Context, jobs []Job, env *Environment) []Result {
	out := make([]Result, len(jobs))
	workers := min(runtime.NumCPU(), len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				out[i] = e.Run(ctx, jobs[i].Worklet, PhaseEvaluate, jobs[i].Params, env)
			}
		})
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// goPanic recognises the stderr of a Go program that panicked or hit a
// fatal runtime error: a "panic: " or "fatal error: " line followed by a
// goroutine trace.
func goPanic(stderr []byte) (string, bool) {
	var first string
	for _, line := range strings.Split(string(stderr), "\n") {
		if first == "" && (strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ")) {
			first = line
		} else if first != "" && strings.HasPrefix(line, "goroutine ") {
			return first, true
		}
	}
	return "", false
}
