//go:build linux

package scan

// The time zone and machine id (GetOS), memory and load (GetResources),
// virtualization and containers (GetVirtualization) and the security
// state (GetSecurity) on Linux: each from files only.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

const (
	pathTimezone     = "etc/timezone"
	pathMachineID    = "etc/machine-id"
	pathMachineIDOld = "var/lib/dbus/machine-id"
	pathLoadAvg      = "proc/loadavg"
	pathSysCPU       = "sys/devices/system/cpu"
	pathClocksource  = "sys/devices/system/clocksource/clocksource0/available_clocksource"
	pathSELinux      = "sys/fs/selinux"
	pathSELinuxConf  = "etc/selinux/config"
	pathAppArmorOn   = "sys/module/apparmor/parameters/enabled"
	pathAppArmorProf = "sys/kernel/security/apparmor/profiles"
	pathFIPS         = "proc/sys/crypto/fips_enabled"
	pathEFI          = "sys/firmware/efi"
	// pathSecureBoot is the EFI global variable SecureBoot
	// (8be4df61-93ca-11d2-aa0d-00e098032b8c is EFI_GLOBAL_VARIABLE): four
	// bytes of attributes, then one byte, 1 when enabled.
	pathSecureBoot = "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
)

// linuxIdentity reads the time zone (/etc/timezone, else the target of the
// /etc/localtime link below zoneinfo/; the abbreviation and offset now
// from /etc/localtime's data) and the machine id (/etc/machine-id, else
// D-Bus's copy). A machine without either says nothing (not an error).
func linuxIdentity(ctx context.Context, env *Env) (scandoc.Timezone, string, error) {
	var tz scandoc.Timezone
	if name, err := readTrim(env.FS, pathTimezone); err == nil && name != "" {
		tz.Name = name
	} else if target, err := fs.ReadLink(env.FS, pathLocaltime); err == nil {
		tz.Name = zoneFromLink(target)
	}
	if tz.Name == "" && !exists(env.FS, pathLocaltime) {
		tz.Name = "UTC" // glibc's default without /etc/localtime
	}
	tz.Abbreviation, tz.OffsetS = zoneNow(env, tz.Name)
	id := ""
	if b, _, err := readFirst(env.FS, pathMachineID, pathMachineIDOld); err == nil {
		id = strings.TrimSpace(string(b))
	}
	return tz, id, nil
}

// cpuInfo is /proc/cpuinfo parsed once per scan (hardware and the
// virtualization detection read it).
func cpuInfo(env *Env) (linux.CPUInfo, error) {
	return cachedSource(env, pathCPUInfo, func() (linux.CPUInfo, error) {
		b, err := fs.ReadFile(env.FS, pathCPUInfo)
		if err != nil {
			return linux.CPUInfo{}, fmt.Errorf("reading /%s: %w", pathCPUInfo, err)
		}
		return linux.ParseCPUInfo(b)
	})
}

// memInfo is /proc/meminfo parsed once per scan (hardware and
// GetResources read it).
func memInfo(env *Env) (linux.MemInfo, error) {
	return cachedSource(env, pathMemInfo, func() (linux.MemInfo, error) {
		b, err := fs.ReadFile(env.FS, pathMemInfo)
		if err != nil {
			return linux.MemInfo{}, fmt.Errorf("reading /%s: %w", pathMemInfo, err)
		}
		return linux.ParseMemInfo(b)
	})
}

// detectVirt is the virtualization detection, once per scan.
func detectVirt(env *Env) linux.Virt {
	v, _ := cachedSource(env, "virtualization", func() (linux.Virt, error) {
		return linux.DetectVirt(virtInput(env)), nil
	})
	return v
}

func linuxResources(ctx context.Context, env *Env) (scandoc.Memory, scandoc.Load, error) {
	var m scandoc.Memory
	var l scandoc.Load
	var errs []error
	if mi, err := memInfo(env); err != nil {
		errs = append(errs, err)
	} else {
		m = scandoc.Memory{TotalBytes: mi.Total, AvailableBytes: mi.Available, FreeBytes: mi.Free, SwapTotalBytes: mi.SwapTotal, SwapFreeBytes: mi.SwapFree}
	}
	if b, err := fs.ReadFile(env.FS, pathLoadAvg); err == nil {
		if la, err := linux.ParseLoadAvg(b); err != nil {
			errs = append(errs, err)
		} else {
			l = scandoc.Load{One: la[0], Five: la[1], Fifteen: la[2]}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reading /%s: %w", pathLoadAvg, err))
	}
	return m, l, errors.Join(errs...)
}

// cpuSockets counts distinct physical_package_id values under
// /sys/devices/system/cpu (for kernels whose cpuinfo has no "physical id":
// arm64); 0 when it cannot say.
func cpuSockets(fsys fs.FS) int {
	ids, _ := fs.Glob(fsys, path.Join(pathSysCPU, "cpu[0-9]*", "topology", "physical_package_id"))
	seen := map[string]bool{}
	for _, p := range ids {
		if b, err := fs.ReadFile(fsys, p); err == nil {
			seen[strings.TrimSpace(string(b))] = true
		}
	}
	return len(seen)
}

// virtInput gathers the detection's inputs: one small file each.
func virtInput(env *Env) linux.VirtInput {
	fsys := env.FS
	read := func(p string) string {
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return ""
		}
		return string(b)
	}
	in := linux.VirtInput{
		SysVendor:        dmi(fsys, "sys_vendor"),
		ProductName:      dmi(fsys, "product_name"),
		ProductVersion:   dmi(fsys, "product_version"),
		BIOSVendor:       dmi(fsys, "bios_vendor"),
		BIOSVersion:      dmi(fsys, "bios_version"),
		BoardVendor:      dmi(fsys, "board_vendor"),
		ChassisAssetTag:  dmi(fsys, "chassis_asset_tag"),
		HypervisorType:   read(pathHypervisor),
		Clocksources:     read(pathClocksource),
		ProcXen:          exists(fsys, "proc/xen"),
		VMBus:            exists(fsys, "sys/bus/vmbus"),
		DockerEnv:        exists(fsys, ".dockerenv"),
		ContainerEnv:     exists(fsys, "run/.containerenv"),
		ContainerEnvText: read("run/.containerenv"),
		SystemdContainer: read("run/systemd/container"),
		Cgroup1:          read("proc/1/cgroup"),
		Cmdline:          read("proc/cmdline"),
		OSRelease:        read(pathKernelRelease),
		Version:          read("proc/version"),
		WSLInterop:       exists(fsys, "proc/sys/fs/binfmt_misc/WSLInterop"),
	}
	if c, err := cpuInfo(env); err == nil {
		in.HypervisorFlag = c.Hypervisor
	}
	in.AWS, in.AWSWhy = awsFromDMI(fsys)
	return in
}

func linuxVirtualization(ctx context.Context, env *Env) (scandoc.Virtualization, error) {
	v := detectVirt(env)
	return scandoc.Virtualization{Hypervisor: v.Hypervisor, Cloud: v.Cloud, Container: v.Container, Sandbox: v.Sandbox, Evidence: v.Evidence}, nil
}

// linuxSecurity reads SELinux (/sys/fs/selinux/enforce: present when
// enabled, 1 enforcing, 0 permissive), AppArmor (the module's enabled
// parameter; profile counts from securityfs when readable, root only),
// FIPS (/proc/sys/crypto/fips_enabled; absent means a kernel without FIPS
// mode: false) and Secure Boot (the EFI SecureBoot variable; a machine
// booted without EFI cannot be in Secure Boot: false; EFI without the
// variable: false; unreadable: unknown, null).
func linuxSecurity(ctx context.Context, env *Env) (scandoc.Security, error) {
	var s scandoc.Security
	fsys := env.FS
	s.SELinux.Mode = "disabled"
	if v, err := readTrim(fsys, path.Join(pathSELinux, "enforce")); err == nil {
		s.SELinux.Enabled = true
		s.SELinux.Mode = map[string]string{"1": "enforcing", "0": "permissive"}[v]
	}
	if b, err := fs.ReadFile(fsys, pathSELinuxConf); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "SELINUXTYPE="); ok {
				s.SELinux.Policy = strings.TrimSpace(v)
			}
		}
	}
	if v, err := readTrim(fsys, pathAppArmorOn); err == nil && strings.HasPrefix(v, "Y") {
		s.AppArmor.Enabled = true
		if b, err := fs.ReadFile(fsys, pathAppArmorProf); err == nil {
			for _, l := range strings.Split(string(b), "\n") {
				if strings.TrimSpace(l) == "" {
					continue
				}
				s.AppArmor.Profiles++
				switch {
				case strings.HasSuffix(l, "(enforce)"):
					s.AppArmor.Enforce++
				case strings.HasSuffix(l, "(complain)"):
					s.AppArmor.Complain++
				}
			}
		}
	}
	if v, err := readTrim(fsys, pathFIPS); err == nil {
		on := v == "1"
		s.FIPS = &on
	} else if errors.Is(err, fs.ErrNotExist) {
		off := false
		s.FIPS = &off
	}
	switch b, err := fs.ReadFile(fsys, pathSecureBoot); {
	case err == nil && len(b) >= 5:
		on := b[4] == 1
		s.SecureBoot = &on
	case errors.Is(err, fs.ErrNotExist):
		off := false
		s.SecureBoot = &off
	}
	return s, nil
}
