//go:build darwin

package scan

// Issue 15's collectors on macOS: the program-running parts are in
// macos_system.go (tested everywhere on recorded outputs); this file adds
// the system calls (interfaces, memory, load, disks, the hypervisor
// sysctl). Compiled in CI, never run (internal/README-platforms.md).

import (
	"context"
	"errors"

	"github.com/shirou/gopsutil/v4/load"
	"golang.org/x/sys/unix"

	"github.com/amagent/amagent/agent/scandoc"
)

func macIdentity(ctx context.Context, env *Env) (scandoc.Timezone, string, error) {
	id, err := macMachineID(ctx, env)
	return macTimezone(env), id, err
}

func macResources(ctx context.Context, env *Env) (scandoc.Memory, scandoc.Load, error) {
	m, err := goMemory(ctx)
	var l scandoc.Load
	if a, lerr := load.AvgWithContext(ctx); lerr != nil {
		err = errors.Join(err, lerr)
	} else {
		l = scandoc.Load{One: a.Load1, Five: a.Load5, Fifteen: a.Load15}
	}
	return m, l, err
}

func macNetwork(ctx context.Context, env *Env) (scandoc.Network, error) {
	var n scandoc.Network
	ifs, err := goInterfaces()
	n.Interfaces = ifs
	macRoutes(ctx, env, &n)
	return n, err
}

// macStorage: the mounted volumes (getfsstat). Block devices are not
// listed on macOS (diskutil's plist is the documented source; not yet
// parsed).
func macStorage(ctx context.Context, env *Env) (scandoc.Storage, error) {
	ms, err := goMounts(ctx)
	return scandoc.Storage{Mounts: ms, BlockDevices: []scandoc.BlockDevice{}}, err
}

// macVirtualization: kern.hv_vmm_present is 1 in a virtual machine
// (Apple's Virtualization framework, VMware, Parallels); the model from
// system_profiler names some of them.
func macVirtualization(ctx context.Context, env *Env) (scandoc.Virtualization, error) {
	v := scandoc.Virtualization{Evidence: []string{}}
	if on, err := unix.SysctlUint32("kern.hv_vmm_present"); err == nil && on == 1 {
		v.Hypervisor = "unknown"
		v.Evidence = append(v.Evidence, "sysctl kern.hv_vmm_present: 1")
		if model, err := unix.Sysctl("hw.model"); err == nil {
			switch {
			case containsFold(model, "vmware"):
				v.Hypervisor = "vmware"
			case containsFold(model, "parallels"):
				v.Hypervisor = "parallels"
			case containsFold(model, "virtualmac"):
				v.Hypervisor = "apple-virtualization"
			}
			v.Evidence = append(v.Evidence, "sysctl hw.model: "+model)
		}
	}
	if on, why := macOnAWS(ctx, env); on {
		v.Cloud = "aws"
		v.Evidence = append(v.Evidence, "AWS: "+why)
	}
	return v, nil
}

// macSecurity: no SELinux or AppArmor; FIPS and Secure Boot are not
// read on macOS yet (null: unknown).
func macSecurity(ctx context.Context, env *Env) (scandoc.Security, error) {
	return scandoc.Security{SELinux: scandoc.SELinux{Mode: "disabled"}}, nil
}
