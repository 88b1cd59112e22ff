//go:build !linux && !windows && !darwin

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
		return scandoc.OS{Family: runtime.GOOS}, errUnsupportedOS("GetOS")
	},
	Hardware: func(ctx context.Context, env *Env) (scandoc.Hardware, error) {
		return scandoc.Hardware{}, errUnsupportedOS("GetSystemDetail")
	},
	Users: func(ctx context.Context, env *Env) (scandoc.LastUser, error) {
		return scandoc.LastUser{}, errUnsupportedOS("GetSystemDetail (users)")
	},
	Software: func(ctx context.Context, env *Env) ([]scandoc.Package, error) {
		return nil, errUnsupportedOS("GetInstalledSoftware")
	},
	Patches: func(ctx context.Context, env *Env) ([]scandoc.Patch, []scandoc.Update, error) {
		return nil, nil, errUnsupportedOS("GetPatches")
	},
	Reboot: func(ctx context.Context, env *Env) (scandoc.Reboot, error) {
		return scandoc.Reboot{}, errUnsupportedOS("GetRebootRequired")
	},
	OnAWS: func(ctx context.Context, env *Env) (bool, string) {
		return false, fmt.Sprintf("no AWS detection on %s/%s", runtime.GOOS, runtime.GOARCH)
	},
	Boot: func(ctx context.Context, env *Env) (scandoc.Boot, error) {
		return scandoc.Boot{}, errUnsupportedOS("boot identity")
	},
	Identity: func(ctx context.Context, env *Env) (scandoc.Timezone, string, error) {
		return scandoc.Timezone{}, "", errUnsupportedOS("GetOS (time zone, machine id)")
	},
	Resources: func(ctx context.Context, env *Env) (scandoc.Memory, scandoc.Load, error) {
		return scandoc.Memory{}, scandoc.Load{}, errUnsupportedOS("GetResources")
	},
	Network: func(ctx context.Context, env *Env) (scandoc.Network, error) {
		return scandoc.Network{}, errUnsupportedOS("GetNetwork")
	},
	Storage: func(ctx context.Context, env *Env) (scandoc.Storage, error) {
		return scandoc.Storage{}, errUnsupportedOS("GetStorage")
	},
	Virtualization: func(ctx context.Context, env *Env) (scandoc.Virtualization, error) {
		return scandoc.Virtualization{}, errUnsupportedOS("GetVirtualization")
	},
	Security: func(ctx context.Context, env *Env) (scandoc.Security, error) {
		return scandoc.Security{}, errUnsupportedOS("GetSecurity")
	},
	Services: func(ctx context.Context, env *Env) (scandoc.Services, error) {
		return scandoc.Services{}, errUnsupportedOS("GetServices")
	},
	Listening: func(ctx context.Context, env *Env) ([]scandoc.Listener, error) {
		return nil, errUnsupportedOS("GetListeningPorts")
	},
}

func errUnsupportedOS(what string) error {
	return fmt.Errorf("%s: unsupported OS %s/%s (native collectors exist for linux, windows and darwin)", what, runtime.GOOS, runtime.GOARCH)
}
