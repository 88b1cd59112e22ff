package worklets

import (
	"context"
	"fmt"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/host"
)

// HostSandbox runs bundles in the agent's wazero engine on the live machine,
// with the capabilities and limits of their manifests.
type HostSandbox struct {
	Engine *host.Engine
}

// Run loads the verified bundle (compiled code is cached by sha256) and
// runs one phase against the scan document.
func (s *HostSandbox) Run(ctx context.Context, b *Bundle, phase string, scanJSON []byte) protocol.WorkletResult {
	w, err := s.Engine.Load(ctx, b.Dir)
	if err != nil {
		return host.LoadErrorResult(b.Assignment.Name, phase, err).WorkletResult()
	}
	if w.Manifest.Name != b.Assignment.Name {
		return host.LoadErrorResult(b.Assignment.Name, phase,
			fmt.Errorf("the bundle's manifest is named %q, the assignment %q", w.Manifest.Name, b.Assignment.Name)).WorkletResult()
	}
	scan, err := host.NewScan(scanJSON)
	if err != nil {
		return host.LoadErrorResult(b.Assignment.Name, phase, err).WorkletResult()
	}
	return s.Engine.Run(ctx, w, phase, b.Assignment.Params, host.LiveEnv(scan)).WorkletResult()
}
