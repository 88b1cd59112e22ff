package scan

import (
	"errors"
	"fmt"

	"github.com/amagent/amagent/agent/scan/internal/aptpolicy"
	"github.com/amagent/amagent/agent/scandoc"
)

// aptListsPending computes pending updates from apt's own data in Go
// (internal/aptpolicy): the dpkg database the inventory already parsed,
// apt's package lists and its pins. It is what `apt list --upgradable`
// prints, in milliseconds and without apt-get's dependency simulation.
// An error wrapping aptpolicy.ErrUnsupported says why the simulation must
// answer instead.
func aptListsPending(env *Env) ([]scandoc.Update, error) {
	pkgs, err := dpkgPackages(env)
	if err != nil {
		// The inventory reports the database's fault; apt may still
		// answer from its own reading of it.
		return nil, fmt.Errorf("%w: %v", aptpolicy.ErrUnsupported, err)
	}
	native := ""
	installed := make([]aptpolicy.Installed, 0, len(pkgs))
	for _, p := range pkgs {
		if p.State != "installed" {
			continue
		}
		if p.Name == "dpkg" {
			native = p.Architecture // dpkg is built for the native architecture
		}
		installed = append(installed, aptpolicy.Installed{Name: p.Name, Arch: p.Architecture, Version: p.Version})
	}
	if native == "" {
		return nil, fmt.Errorf("%w: dpkg itself is not in the dpkg database (no native architecture)", aptpolicy.ErrUnsupported)
	}
	ups, err := aptpolicy.Pending(aptpolicy.Options{FS: env.FS, Arch: native}, installed)
	if err != nil {
		return nil, err
	}
	out := make([]scandoc.Update, 0, len(ups))
	for _, u := range ups {
		origin := ""
		for i, o := range u.Origins {
			if i > 0 {
				origin += ", "
			}
			origin += o
		}
		out = append(out, scandoc.Update{Name: u.Name, CurrentVersion: u.CurrentVersion, Version: u.Version,
			Source: "apt", Origin: origin, Security: u.Security})
	}
	return out, nil
}

// errAptFallback is how a fallback to the simulation is reported.
func errAptFallback(err error) bool { return errors.Is(err, aptpolicy.ErrUnsupported) }
