package worklets

import (
	"fmt"

	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/host"
)

// KeptConfig returns what of a platform config may be written to the state
// directory for the next start. A secret parameter's value lives only in
// memory (and on its module's stdin), so an assignment that carries one is
// left out whole: after a restart it is not evaluated until the next
// check-in brings it again (rather than evaluated without its secret). An
// assignment with parameters whose bundle is not cached yet is left out
// too, since nothing says which of them are secret; the config is kept
// again once it is (the check-in loop rewrites it when this changes).
func (m *Manager) KeptConfig(pc protocol.Config) protocol.Config {
	out := pc
	out.Worklets = make([]protocol.Assignment, 0, len(pc.Worklets))
	for _, a := range pc.Worklets {
		if len(a.Params) == 0 {
			out.Worklets = append(out.Worklets, a)
			continue
		}
		secret, err := m.secretParams(a)
		if err != nil {
			continue
		}
		withhold := false
		for _, n := range secret {
			if _, ok := a.Params[n]; ok {
				withhold = true
			}
		}
		if !withhold {
			out.Worklets = append(out.Worklets, a)
		}
	}
	if pc.Worklets == nil {
		out.Worklets = nil
	}
	return out
}

// secretParams names the secret parameters of an assignment's cached,
// verified bundle.
func (m *Manager) secretParams(a protocol.Assignment) ([]string, error) {
	if m.Cache == nil {
		return nil, fmt.Errorf("no bundle cache")
	}
	b, err := m.Cache.Load(a, m.TrustedKeys)
	if err != nil {
		return nil, err
	}
	man, err := host.ParseManifest(b.Manifest)
	if err != nil {
		return nil, err
	}
	return man.SecretParams(), nil
}
