//go:build windows || darwin

package scan

// Parts of issue 15's collectors that Windows and macOS share: interfaces
// and addresses from Go's net package (GetAdaptersAddresses on Windows,
// getifaddrs on macOS), memory from gopsutil (GlobalMemoryStatusEx,
// host_statistics64), mounts and usage from gopsutil (GetVolumeInformation
// and GetDiskFreeSpaceEx, getfsstat and statfs).

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sort"

	"github.com/shirou/gopsutil/v4/disk"
	"github.com/shirou/gopsutil/v4/mem"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

// goInterfaces lists the interfaces and their addresses as Go's net
// package sees them.
func goInterfaces() ([]scandoc.Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var errs []error
	out := make([]scandoc.Interface, 0, len(ifs))
	for _, i := range ifs {
		it := scandoc.Interface{Name: i.Name, Index: i.Index, MTU: i.MTU, MAC: i.HardwareAddr.String(), State: "down", Type: "ether",
			IPv4: []scandoc.Address{}, IPv6: []scandoc.Address{}}
		if i.Flags&net.FlagUp != 0 {
			it.State = "up"
		}
		switch {
		case i.Flags&net.FlagLoopback != 0:
			it.Type = "loopback"
		case i.Flags&net.FlagPointToPoint != 0:
			it.Type = "ppp"
		case len(i.HardwareAddr) == 0:
			it.Type = "none"
		}
		addrs, err := i.Addrs()
		if err != nil {
			errs = append(errs, err)
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			bits, _ := ipn.Mask.Size()
			sa := scandoc.Address{Address: ip.WithZone("").String(), PrefixLen: bits, Scope: addrScope(ip)}
			if ip.Is4() {
				it.IPv4 = append(it.IPv4, sa)
			} else {
				it.IPv6 = append(it.IPv6, sa)
			}
		}
		out = append(out, it)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
	return out, errors.Join(errs...)
}

// addrScope names an address's scope the way Linux does.
func addrScope(ip netip.Addr) string {
	switch {
	case ip.IsLoopback():
		return "host"
	case ip.IsLinkLocalUnicast():
		return "link"
	}
	return "global"
}

func goMemory(ctx context.Context) (scandoc.Memory, error) {
	var m scandoc.Memory
	var errs []error
	if v, err := mem.VirtualMemoryWithContext(ctx); err != nil {
		errs = append(errs, err)
	} else {
		m.TotalBytes, m.AvailableBytes, m.FreeBytes = v.Total, v.Available, v.Free
	}
	if s, err := mem.SwapMemoryWithContext(ctx); err != nil {
		errs = append(errs, err)
	} else {
		m.SwapTotalBytes, m.SwapFreeBytes = s.Total, s.Free
	}
	return m, errors.Join(errs...)
}

// goMounts lists every mounted volume with its options and, for the ones
// that hold data (not network shares), its usage.
func goMounts(ctx context.Context) ([]scandoc.Mount, error) {
	parts, err := disk.PartitionsWithContext(ctx, true)
	out := make([]scandoc.Mount, 0, len(parts))
	for _, p := range parts {
		m := scandoc.Mount{Mountpoint: p.Mountpoint, Device: p.Device, FSType: p.Fstype, Options: append([]string{}, p.Opts...)}
		if linux.WantsUsage(p.Fstype) && p.Fstype != "smbfs" && p.Fstype != "nfs" && p.Fstype != "afpfs" && p.Fstype != "webdav" {
			if u, err := disk.UsageWithContext(ctx, p.Mountpoint); err == nil {
				m.TotalBytes, m.UsedBytes, m.AvailableBytes = u.Total, u.Used, u.Free
				m.TotalInodes, m.UsedInodes = u.InodesTotal, u.InodesUsed
			}
		}
		out = append(out, m)
	}
	return out, err
}
