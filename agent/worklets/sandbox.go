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

// Run loads the verified bundle from the bytes that were verified (compiled
// code is cached by sha256) and runs one phase against the scan document.
//
// Every error result carries its kind, so that quarantine counts only what
// the module caused (host.ModuleFault): a load error is classified by
// host.LoadErrorKind (the module's bytes or manifest, or the agent's own
// I/O, cache and disk), and a load error at run time, after the module
// compiled (the assignment's parameters, the host's mounts, instantiation
// in the host), is the agent's side (host.KindHost).
func (s *HostSandbox) Run(ctx context.Context, b *Bundle, phase string, scanJSON []byte) protocol.WorkletResult {
	loadErr := func(err error, kind string) protocol.WorkletResult {
		r := host.LoadErrorResult(b.Assignment.Name, phase, err)
		r.ErrorKind = kind
		return r.WorkletResult()
	}
	w, err := s.load(ctx, b)
	if err != nil {
		return loadErr(err, host.LoadErrorKind(err))
	}
	if w.Manifest.Name != b.Assignment.Name {
		return loadErr(fmt.Errorf("the bundle's manifest is named %q, the assignment %q", w.Manifest.Name, b.Assignment.Name), host.KindLoad)
	}
	scan, err := host.NewScan(scanJSON)
	if err != nil {
		return loadErr(err, host.KindHost)
	}
	r := s.Engine.Run(ctx, w, phase, b.Assignment.Params, host.LiveEnv(scan))
	if r.ErrorKind == host.KindLoad {
		r.ErrorKind = host.KindHost
	}
	return r.WorkletResult()
}

func (s *HostSandbox) load(ctx context.Context, b *Bundle) (*host.Worklet, error) {
	if b.Manifest == nil || b.Module == nil {
		return s.Engine.Load(ctx, b.Dir)
	}
	if max := s.Engine.Limits().MaxModuleSize; max > 0 && int64(len(b.Module)) > max {
		return nil, fmt.Errorf("module is larger than the agent's %d-byte limit", max)
	}
	m, err := host.ParseManifest(b.Manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", host.ManifestFile, err)
	}
	return s.Engine.LoadModule(ctx, m, b.Dir, b.Module)
}
