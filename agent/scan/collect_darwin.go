//go:build darwin

package scan

// The macOS collectors: sw_vers and uname for the OS, system_profiler for
// hardware and applications, softwareupdate for installed and pending
// updates, last and the owner of /dev/console for users, sysctl for the
// boot. The parts that run programs are in macos.go (no build tag, tested
// on every OS with recorded outputs); this file adds what needs darwin
// system calls and is only compiled in CI (see
// internal/README-platforms.md).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/disk"
	"golang.org/x/sys/unix"

	"github.com/amagent/amagent/agent/scandoc"
)

var platform = osCollectors{
	OS:       macOS,
	Hardware: macHardware,
	Users:    macUsers,
	Software: macSoftware,
	Patches:  macPatches,
	Reboot:   macReboot,
	OnAWS:    macOnAWS,
	Boot:     macBoot,

	Identity:       macIdentity,
	Resources:      macResources,
	Network:        macNetwork,
	Storage:        macStorage,
	Virtualization: macVirtualization,
	Security:       macSecurity,
	Services:       macServices,
	Listening:      macListening,
}

func macOS(ctx context.Context, env *Env) (scandoc.OS, error) {
	o, err := macOSRelease(ctx, env)
	o.Architecture = runtime.GOARCH
	var uts unix.Utsname
	if err := unix.Uname(&uts); err == nil {
		o.Kernel = unix.ByteSliceToString(uts.Release[:])
	}
	return o, err
}

func macHardware(ctx context.Context, env *Env) (scandoc.Hardware, error) {
	h, err := macHardwareProfile(ctx, env)
	errs := []error{err}
	h.CPU.Threads = runtime.NumCPU()
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil {
		errs = append(errs, fmt.Errorf("disks: %w", err))
	}
	for _, pt := range parts {
		// The sealed system volume and its siblings all share one APFS
		// container; report real mounts only.
		if !strings.HasPrefix(pt.Device, "/dev/") || strings.HasPrefix(pt.Mountpoint, "/System/Volumes/") && pt.Mountpoint != "/System/Volumes/Data" {
			continue
		}
		d := scandoc.Disk{Mountpoint: pt.Mountpoint, Device: pt.Device, FSType: pt.Fstype}
		if u, err := disk.UsageWithContext(ctx, pt.Mountpoint); err == nil {
			d.TotalBytes, d.UsedBytes = u.Total, u.Used
			d.UsedPct = float64(int(u.UsedPercent*100+0.5)) / 100
		}
		h.Disks = append(h.Disks, d)
	}
	return h, errors.Join(errs...)
}

func macBoot(ctx context.Context, env *Env) (scandoc.Boot, error) {
	var b scandoc.Boot
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return b, fmt.Errorf("sysctl kern.boottime: %w", err)
	}
	b.Time = time.Unix(tv.Unix()).UTC()
	now := time.Now()
	if env.Now != nil {
		now = env.Now()
	}
	if d := now.Sub(b.Time); d > 0 {
		b.UptimeS = uint64(d / time.Second)
	}
	if id, err := unix.Sysctl("kern.bootsessionuuid"); err == nil && id != "" {
		b.ID = id
	} else {
		b.ID = fmt.Sprintf("boottime-%d", b.Time.Unix())
	}
	return b, nil
}
