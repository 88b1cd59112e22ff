//go:build darwin

package scan

import (
	"context"
	"fmt"
	"runtime"

	"github.com/amagent/amagent/agent/scandoc"
)

// platform on an OS family without native collectors: every collector says
// so, and the scan document carries those errors (a partial scan, still
// reported). OnAWS answers false without looking, so the metadata service
// is never contacted.
var platform = osCollectors{
	OS: func(ctx context.Context, env *Env) (scandoc.OS, error) {
		return scandoc.OS{Family: runtime.GOOS}, errNotYet("GetOS")
	},
	Hardware: func(ctx context.Context, env *Env) (scandoc.Hardware, error) {
		return scandoc.Hardware{}, errNotYet("GetSystemDetail")
	},
	Users: func(ctx context.Context, env *Env) (scandoc.LastUser, error) {
		return scandoc.LastUser{}, errNotYet("GetSystemDetail (users)")
	},
	Software: func(ctx context.Context, env *Env) ([]scandoc.Package, error) {
		return nil, errNotYet("GetInstalledSoftware")
	},
	Patches: func(ctx context.Context, env *Env) ([]scandoc.Patch, []scandoc.Update, error) {
		return nil, nil, errNotYet("GetPatches")
	},
	Reboot: func(ctx context.Context, env *Env) (scandoc.Reboot, error) {
		return scandoc.Reboot{}, errNotYet("GetRebootRequired")
	},
	OnAWS: func(ctx context.Context, env *Env) (bool, string) {
		return false, fmt.Sprintf("no AWS detection on %s/%s", runtime.GOOS, runtime.GOARCH)
	},
	Boot: func(ctx context.Context, env *Env) (scandoc.Boot, error) {
		return scandoc.Boot{}, errNotYet("boot identity")
	},
}

func errNotYet(what string) error {
	return fmt.Errorf("%s: collector for %s is being written", what, runtime.GOOS)
}
