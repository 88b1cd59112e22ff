package host

import (
	"context"
	"errors"
	"fmt"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/protocol"
)

// Finder finds an assigned worklet by name for runWorklet: its bundle
// directory (with worklet.toml), the assignment's params and the current
// scan document (JSON).
type Finder func(ctx context.Context, name string) (dir string, params map[string]any, scan []byte, err error)

// RunWorkletHandler is the wasm processor's entry in the agent's command
// table: `runWorklet NAME [evaluate|remediate]` runs one phase of an
// assigned worklet on the live machine. The command's output is the
// protocol.WorkletResult; a worklet that ran and failed is a result with
// status "error", while a worklet that cannot be found or loaded fails the
// command.
func RunWorkletHandler(e *Engine, find Finder) command.Handler {
	return command.Handler{
		Type:      protocol.CmdRunWorklet,
		Processor: command.ProcessorWasm,
		Run: func(ctx context.Context, params []string) (any, error) {
			if len(params) == 0 || params[0] == "" {
				return nil, errors.New("runWorklet: want NAME [evaluate|remediate]")
			}
			name, phase := params[0], PhaseEvaluate
			if len(params) > 1 && params[1] != "" {
				phase = params[1]
			}
			if phase != PhaseEvaluate && phase != PhaseRemediate {
				return nil, fmt.Errorf("runWorklet %s: phase %q is not evaluate or remediate", name, phase)
			}
			if len(params) > 2 {
				return nil, fmt.Errorf("runWorklet %s: unexpected parameters %q", name, params[2:])
			}
			dir, over, scanDoc, err := find(ctx, name)
			if err != nil {
				return nil, fmt.Errorf("runWorklet %s: %w", name, err)
			}
			w, err := e.Load(ctx, dir)
			if err != nil {
				return nil, fmt.Errorf("runWorklet %s: load: %w", name, err)
			}
			if w.Manifest.Name != name {
				return nil, fmt.Errorf("runWorklet %s: the bundle's manifest is named %q", name, w.Manifest.Name)
			}
			scan, err := NewScan(scanDoc)
			if err != nil {
				return nil, fmt.Errorf("runWorklet %s: %w", name, err)
			}
			return e.Run(ctx, w, phase, over, LiveEnv(scan)).WorkletResult(), nil
		},
	}
}
