//go:build windows

package scan

// The Windows collectors. The registry is read directly
// (golang.org/x/sys/windows/registry); CPU, memory, disks and boot time come
// from gopsutil; installed hotfixes, pending updates and the BIOS serial
// come from PowerShell, run through env.Exec (argv only). Turning what they
// return into scan values is done by internal/winparse, which is tested on
// recorded outputs; this file is only compiled in CI (see
// internal/README-platforms.md for what is verified how).

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/mem"
	"golang.org/x/sys/windows/registry"

	"github.com/amagent/amagent/agent/scan/internal/awsmeta"
	"github.com/amagent/amagent/agent/scan/internal/winparse"
	"github.com/amagent/amagent/agent/scandoc"
)

var platform = osCollectors{
	OS:       winOS,
	Hardware: winHardware,
	Users:    winUsers,
	Software: winSoftware,
	Patches:  winPatches,
	Reboot:   winReboot,
	OnAWS:    winOnAWS,
	Boot:     winBoot,

	Identity:       winIdentity,
	Resources:      winResources,
	Network:        winNetwork,
	Storage:        winStorage,
	Virtualization: winVirtualization,
	Security:       winSecurity,
	Services:       winServices,
	Listening:      winListening,
}

const (
	regCurrentVersion = `SOFTWARE\Microsoft\Windows NT\CurrentVersion`
	regEnvironment    = `SYSTEM\CurrentControlSet\Control\Session Manager\Environment`
	regBIOS           = `HARDWARE\DESCRIPTION\System\BIOS`
	regUninstall64    = `SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`
	regUninstall32    = `SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall`
	regUninstallUser  = `Software\Microsoft\Windows\CurrentVersion\Uninstall`
	regLogonUI        = `SOFTWARE\Microsoft\Windows\CurrentVersion\Authentication\LogonUI`
	regWURebootReq    = `SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired`
	regCBSRebootPend  = `SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending`
	regSessionManager = `SYSTEM\CurrentControlSet\Control\Session Manager`
	regPrefetch       = `SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management\PrefetchParameters`
)

// regOpen opens an HKLM (or other root) key read-only in the 64-bit view,
// whatever the agent's own bitness.
func regOpen(root registry.Key, path string) (registry.Key, error) {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.ENUMERATE_SUB_KEYS|registry.WOW64_64KEY)
	if err != nil {
		return 0, fmt.Errorf(`registry %s: %w`, path, err)
	}
	return k, nil
}

// regString reads a string value (REG_SZ or REG_EXPAND_SZ, or a DWORD as
// its decimal text); absent values give "".
func regString(k registry.Key, name string) string {
	if s, _, err := k.GetStringValue(name); err == nil {
		return strings.TrimSpace(s)
	}
	if n, _, err := k.GetIntegerValue(name); err == nil {
		return strconv.FormatUint(n, 10)
	}
	return ""
}

func regInt(k registry.Key, name string) uint64 {
	n, _, err := k.GetIntegerValue(name)
	if err != nil {
		return 0
	}
	return n
}

func regKeyExists(root registry.Key, path string) bool {
	k, err := registry.OpenKey(root, path, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return false
	}
	k.Close()
	return true
}

func winOS(ctx context.Context, env *Env) (scandoc.OS, error) {
	k, err := regOpen(registry.LOCAL_MACHINE, regCurrentVersion)
	if err != nil {
		return scandoc.OS{Family: "windows"}, err
	}
	defer k.Close()
	cv := winparse.CurrentVersion{
		ProductName:    regString(k, "ProductName"),
		DisplayVersion: regString(k, "DisplayVersion"),
		ReleaseID:      regString(k, "ReleaseId"),
		CurrentBuild:   regString(k, "CurrentBuild"),
		UBR:            regInt(k, "UBR"),
		Major:          regInt(k, "CurrentMajorVersionNumber"),
		Minor:          regInt(k, "CurrentMinorVersionNumber"),
		CurrentVersion: regString(k, "CurrentVersion"),
		EditionID:      regString(k, "EditionID"),
		InstallType:    regString(k, "InstallationType"),
	}
	arch := ""
	if ek, err := regOpen(registry.LOCAL_MACHINE, regEnvironment); err == nil {
		arch = regString(ek, "PROCESSOR_ARCHITECTURE")
		ek.Close()
	}
	o, err := winparse.OS(cv, arch)
	if o.Architecture == "" {
		o.Architecture = runtime.GOARCH
	}
	o.Family = "windows"
	return o, err
}

func winBIOS() (awsmeta.DMI, error) {
	k, err := regOpen(registry.LOCAL_MACHINE, regBIOS)
	if err != nil {
		return awsmeta.DMI{}, err
	}
	defer k.Close()
	return awsmeta.DMI{
		SysVendor:   regString(k, "SystemManufacturer"),
		ProductName: regString(k, "SystemProductName"),
		BIOSVendor:  regString(k, "BIOSVendor"),
		BIOSVersion: regString(k, "BIOSVersion"),
	}, nil
}

func winHardware(ctx context.Context, env *Env) (scandoc.Hardware, error) {
	h := scandoc.Hardware{Disks: []scandoc.Disk{}}
	var errs []error
	if b, err := winBIOS(); err != nil {
		errs = append(errs, err)
	} else {
		h.Vendor, h.Model, h.BIOSVendor, h.BIOSVersion = b.SysVendor, b.ProductName, b.BIOSVendor, b.BIOSVersion
		h.Virtual = winparse.Virtual(b.SysVendor, b.ProductName)
	}
	if s, err := winSerial(ctx, env); err != nil {
		errs = append(errs, err)
	} else {
		h.Serial = s
	}
	if infos, err := cpu.InfoWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("cpu: %w", err))
	} else if len(infos) > 0 {
		h.CPU.Model, h.CPU.MHz = strings.TrimSpace(infos[0].ModelName), infos[0].Mhz
	}
	if n, err := cpu.CountsWithContext(ctx, false); err == nil {
		h.CPU.Cores = n
	}
	if n, err := cpu.CountsWithContext(ctx, true); err == nil {
		h.CPU.Threads = n
	}
	if vm, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		errs = append(errs, fmt.Errorf("memory: %w", err))
	} else {
		h.MemoryBytes = vm.Total
	}
	parts, err := disk.PartitionsWithContext(ctx, false)
	if err != nil {
		errs = append(errs, fmt.Errorf("disks: %w", err))
	}
	for _, p := range parts {
		d := scandoc.Disk{Mountpoint: p.Mountpoint, Device: p.Device, FSType: p.Fstype}
		if u, err := disk.UsageWithContext(ctx, p.Mountpoint); err == nil {
			d.TotalBytes, d.UsedBytes = u.Total, u.Used
			d.UsedPct = float64(int(u.UsedPercent*100+0.5)) / 100
		}
		h.Disks = append(h.Disks, d)
	}
	return h, errors.Join(errs...)
}

// winUsers reports LogonUI's last logged-on user; the time is the last
// write of that key. Who is logged on now is not collected on Windows yet
// (gopsutil does not implement it there).
func winUsers(ctx context.Context, env *Env) (scandoc.LastUser, error) {
	u := scandoc.LastUser{Current: []scandoc.Session{}}
	k, err := regOpen(registry.LOCAL_MACHINE, regLogonUI)
	if err != nil {
		return u, err
	}
	defer k.Close()
	u.Name = winparse.LastLoggedOnUser(regString(k, "LastLoggedOnUser"))
	if u.Name == "" {
		u.Name = winparse.LastLoggedOnUser(regString(k, "LastLoggedOnSAMUser"))
	}
	if st, err := k.Stat(); err == nil && u.Name != "" {
		u.Time = st.ModTime().UTC()
	}
	return u, nil
}

// winSoftware reads the Uninstall keys: HKLM 64-bit, HKLM 32-bit
// (WOW6432Node), and each loaded user hive under HKEY_USERS.
func winSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	var entries []winparse.UninstallEntry
	var errs []error
	read := func(root registry.Key, path, hive string, required bool) {
		k, err := regOpen(root, path)
		if err != nil {
			if required {
				errs = append(errs, err)
			}
			return
		}
		defer k.Close()
		names, err := k.ReadSubKeyNames(-1)
		if err != nil {
			errs = append(errs, fmt.Errorf("registry %s: %w", path, err))
			return
		}
		for _, n := range names {
			if ctx.Err() != nil {
				errs = append(errs, ctx.Err())
				return
			}
			sk, err := registry.OpenKey(k, n, registry.QUERY_VALUE)
			if err != nil {
				continue
			}
			entries = append(entries, winparse.UninstallEntry{
				Key: n, Hive: hive,
				DisplayName:      regString(sk, "DisplayName"),
				DisplayVersion:   regString(sk, "DisplayVersion"),
				Publisher:        regString(sk, "Publisher"),
				InstallDate:      regString(sk, "InstallDate"),
				SystemComponent:  regInt(sk, "SystemComponent"),
				WindowsInstaller: regInt(sk, "WindowsInstaller"),
				ParentKeyName:    regString(sk, "ParentKeyName"),
				ReleaseType:      regString(sk, "ReleaseType"),
			})
			sk.Close()
		}
	}
	read(registry.LOCAL_MACHINE, regUninstall64, "HKLM64", true)
	read(registry.LOCAL_MACHINE, regUninstall32, "HKLM32", runtime.GOARCH != "386")
	if users, err := registry.OpenKey(registry.USERS, "", registry.ENUMERATE_SUB_KEYS); err == nil {
		sids, _ := users.ReadSubKeyNames(-1)
		users.Close()
		for _, sid := range sids {
			// Real accounts only (S-1-5-21-...), not their _Classes hives.
			if strings.HasPrefix(sid, "S-1-5-21-") && !strings.HasSuffix(sid, "_Classes") {
				read(registry.USERS, sid+`\`+regUninstallUser, `HKU\`+sid, false)
			}
		}
	}
	return winparse.Software(entries), errors.Join(errs...)
}

func winReboot(ctx context.Context, env *Env) (scandoc.Reboot, error) {
	s := winparse.RebootState{
		WindowsUpdate: regKeyExists(registry.LOCAL_MACHINE, regWURebootReq),
		CBS:           regKeyExists(registry.LOCAL_MACHINE, regCBSRebootPend),
	}
	k, err := regOpen(registry.LOCAL_MACHINE, regSessionManager)
	if err != nil {
		return winparse.Reboot(s), err
	}
	defer k.Close()
	if v, _, err := k.GetStringsValue("PendingFileRenameOperations"); err == nil {
		s.PendingRenames = v
	}
	return winparse.Reboot(s), nil
}

func winOnAWS(ctx context.Context, env *Env) (bool, string) {
	d, err := winBIOS()
	if err != nil {
		return false, "no BIOS information: " + err.Error()
	}
	return awsmeta.Decide(d)
}

// winBoot identifies the boot by the kernel's BootId counter (Windows 8
// and later), falling back to the boot time.
func winBoot(ctx context.Context, env *Env) (scandoc.Boot, error) {
	var b scandoc.Boot
	bt, err := host.BootTimeWithContext(ctx)
	if err != nil {
		return b, fmt.Errorf("boot time: %w", err)
	}
	b.Time = time.Unix(int64(bt), 0).UTC()
	if up, err := host.UptimeWithContext(ctx); err == nil {
		b.UptimeS = up
	}
	b.ID = "boottime-" + strconv.FormatUint(bt, 10)
	if k, err := regOpen(registry.LOCAL_MACHINE, regPrefetch); err == nil {
		if id, _, err := k.GetIntegerValue("BootId"); err == nil {
			b.ID = "bootid-" + strconv.FormatUint(id, 10)
		}
		k.Close()
	}
	return b, nil
}
