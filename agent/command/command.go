// Package command is the agent's command processor: the one place where a
// command from the platform or from the scan is accepted, logged with the
// seed's three lines (accepted command, executing command, command end),
// run, and turned into a result.
//
// Commands are found in one Table. Each entry names its wire type (execCmd,
// scan, runWorklet, reboot, ...) and its processor (legacy for the built-in
// commands, wasm for the sandbox).
package command

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"time"

	"github.com/amagent/amagent/agent/protocol"
)

// Processors named in the log's command_processor key.
const (
	ProcessorLegacy = "legacy"
	ProcessorWasm   = "wasm"
)

// Command is one command to run: from a check-in answer, or made by the
// agent itself (a scheduled scan runs its collectors as execCmd commands).
type Command struct {
	ID     int64
	Type   string // wire name: execCmd, scan, runWorklet, reboot, nop
	Params []string
}

// Name is the command_name logged for the command: the built-in command or
// worklet named by the first parameter for execCmd and runWorklet, the type
// otherwise.
func (c Command) Name() string {
	switch c.Type {
	case protocol.CmdExec, protocol.CmdRunWorklet:
		if len(c.Params) > 0 && c.Params[0] != "" {
			return c.Params[0]
		}
	}
	return c.Type
}

// Handler runs one type of command.
type Handler struct {
	Type      string
	Processor string
	// Run executes the command; its output is JSON-encoded into the result.
	Run func(ctx context.Context, params []string) (any, error)
	// Background marks a command that may run for long (a scan): the
	// check-in loop runs it beside itself and reports its result when it
	// ends, so that check-ins, other commands and deliveries go on.
	Background bool
}

// Table maps a command type to its handler.
type Table struct {
	handlers map[string]Handler
}

// NewTable builds a table, refusing duplicate or incomplete entries loudly.
func NewTable(hs ...Handler) (*Table, error) {
	t := &Table{handlers: make(map[string]Handler, len(hs))}
	for _, h := range hs {
		if err := t.Add(h); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Add adds one handler; a second handler for the same type is an error.
func (t *Table) Add(h Handler) error {
	if h.Type == "" || h.Run == nil {
		return fmt.Errorf("command table: entry %q has no type or no Run", h.Type)
	}
	if h.Processor == "" {
		h.Processor = ProcessorLegacy
	}
	if _, dup := t.handlers[h.Type]; dup {
		return fmt.Errorf("command table: duplicate command type %q", h.Type)
	}
	t.handlers[h.Type] = h
	return nil
}

// Lookup finds the handler for a command type.
func (t *Table) Lookup(typ string) (Handler, bool) {
	h, ok := t.handlers[typ]
	return h, ok
}

// Background reports whether commands of type typ run beside the
// check-in loop (Handler.Background).
func (t *Table) Background(typ string) bool {
	h, ok := t.handlers[typ]
	return ok && h.Background
}

// Types lists the command types in the table, sorted.
func (t *Table) Types() []string {
	out := make([]string, 0, len(t.handlers))
	for k := range t.handlers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Processor accepts, logs and runs commands.
type Processor struct {
	Log   *slog.Logger
	Table *Table
	Now   func() time.Time // nil means time.Now
}

func (p *Processor) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Execute runs one command and returns its result; it never panics and
// never returns without a result. An unknown command, a failing command and
// a panicking command all give an error result and a log line.
func (p *Processor) Execute(ctx context.Context, c Command) (res protocol.CommandResult) {
	processor := ProcessorLegacy
	h, known := p.Table.Lookup(c.Type)
	if known {
		processor = h.Processor
	}
	attrs := []any{
		slog.Int64("command_id", c.ID),
		slog.String("command_type", c.Type),
		slog.String("command_processor", processor),
		slog.String("command_name", c.Name()),
		slog.String("command", c.Type),
	}
	p.Log.Info("accepted command", attrs...)
	start := p.now()
	res.StartedAt = start.UTC()
	p.Log.Info("executing command", append([]any{slog.Time("start_time", start)}, attrs...)...)

	out, err := p.run(ctx, h, known, c)
	elapsed := p.now().Sub(start)
	res.ElapsedMS = elapsed.Milliseconds()
	if err == nil && out != nil {
		b, merr := json.Marshal(out)
		if merr != nil {
			err = fmt.Errorf("encoding output of %s: %w", c.Name(), merr)
		} else {
			res.Output = b
		}
	}
	if err != nil {
		res.Status = protocol.StatusError
		res.Error = err.Error()
		p.Log.Error("command failed", append([]any{slog.String("error", err.Error())}, attrs...)...)
	} else {
		res.Status = protocol.StatusOK
	}
	if res.Output == nil {
		res.Output = json.RawMessage("null")
	}
	p.Log.Info("command end", append([]any{slog.Duration("elapsed", elapsed)}, attrs...)...)
	return res
}

func (p *Processor) run(ctx context.Context, h Handler, known bool, c Command) (out any, err error) {
	if !known {
		return nil, fmt.Errorf("unknown command %q", c.Type)
	}
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("command panicked", "command", c.Type, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("command %s panicked: %v", c.Name(), r)
		}
	}()
	return h.Run(ctx, c.Params)
}
