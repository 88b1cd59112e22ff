//go:build windows

package scan

// Issue 15's collectors on Windows, each from a documented API: the
// registry (MachineGuid, the time zone key, FIPS policy, Secure Boot
// state), GetAdaptersAddresses (gateways, DNS servers and suffixes), the
// service control manager (EnumServicesStatusEx, QueryServiceConfig),
// GetExtendedTcpTable/UdpTable through gopsutil, and a Toolhelp process
// snapshot for process names. Compiled in CI, never run
// (internal/README-platforms.md).

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"

	gnet "github.com/shirou/gopsutil/v4/net"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
	"golang.org/x/sys/windows/svc/mgr"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

const (
	regCryptography = `SOFTWARE\Microsoft\Cryptography`
	regTimeZone     = `SYSTEM\CurrentControlSet\Control\TimeZoneInformation`
	regTcpip        = `SYSTEM\CurrentControlSet\Services\Tcpip\Parameters`
	regFIPS         = `SYSTEM\CurrentControlSet\Control\Lsa\FipsAlgorithmPolicy`
	regSecureBoot   = `SYSTEM\CurrentControlSet\Control\SecureBoot\State`
)

func winIdentity(ctx context.Context, env *Env) (scandoc.Timezone, string, error) {
	var tz scandoc.Timezone
	var id string
	var errs []error
	if k, err := regOpen(registry.LOCAL_MACHINE, regCryptography); err != nil {
		errs = append(errs, fmt.Errorf("MachineGuid: %w", err))
	} else {
		id = regString(k, "MachineGuid")
		k.Close()
	}
	if k, err := regOpen(registry.LOCAL_MACHINE, regTimeZone); err == nil {
		tz.Name = regString(k, "TimeZoneKeyName") // "W. Europe Standard Time"
		k.Close()
	}
	tz.Abbreviation, tz.OffsetS = time.Now().Zone()
	return tz, id, errors.Join(errs...)
}

func winResources(ctx context.Context, env *Env) (scandoc.Memory, scandoc.Load, error) {
	m, err := goMemory(ctx)
	return m, scandoc.Load{}, err // Windows keeps no load average
}

// winNetwork: interfaces and addresses from Go's net package; gateways,
// DNS servers and suffixes from GetAdaptersAddresses; the primary DNS
// suffix (the FQDN's domain) from the Tcpip parameters.
func winNetwork(ctx context.Context, env *Env) (scandoc.Network, error) {
	var n scandoc.Network
	var errs []error
	ifs, err := goInterfaces()
	if err != nil {
		errs = append(errs, err)
	}
	n.Interfaces = ifs
	aas, err := adapterAddresses()
	if err != nil {
		errs = append(errs, err)
	}
	best4, best6 := ^uint32(0), ^uint32(0)
	seenDNS := map[string]bool{}
	for aa := aas; aa != nil; aa = aa.Next {
		if aa.OperStatus != windows.IfOperStatusUp {
			continue
		}
		name := ""
		for _, it := range ifs {
			if it.Index == int(aa.IfIndex) {
				name = it.Name
			}
		}
		for g := aa.FirstGatewayAddress; g != nil; g = g.Next {
			ip := g.Address.IP()
			if ip == nil {
				continue
			}
			r := scandoc.Route{Family: "inet", Destination: "default", Gateway: ip.String(), Interface: name}
			if ip.To4() == nil {
				r.Family, r.Metric = "inet6", int(aa.Ipv6Metric)
				if aa.Ipv6Metric < best6 {
					best6, n.DefaultGateway6 = aa.Ipv6Metric, r.Gateway
				}
			} else {
				r.Metric = int(aa.Ipv4Metric)
				if aa.Ipv4Metric < best4 {
					best4, n.DefaultGateway, n.DefaultInterface = aa.Ipv4Metric, r.Gateway, name
				}
			}
			n.Routes = append(n.Routes, r)
		}
		for d := aa.FirstDnsServerAddress; d != nil; d = d.Next {
			if ip := d.Address.IP(); ip != nil && !seenDNS[ip.String()] {
				seenDNS[ip.String()] = true
				n.DNS.Servers = append(n.DNS.Servers, ip.String())
			}
		}
		if s := windows.UTF16PtrToString(aa.DnsSuffix); s != "" && !containsString(n.DNS.Search, s) {
			n.DNS.Search = append(n.DNS.Search, s)
		}
	}
	if k, err := regOpen(registry.LOCAL_MACHINE, regTcpip); err == nil {
		n.DNS.Domain = regString(k, "Domain")
		k.Close()
	}
	n.FQDN, n.Domain = fqdn(env, n.DNS)
	return n, errors.Join(errs...)
}

func containsString(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// adapterAddresses calls GetAdaptersAddresses with gateways, growing the
// buffer as it asks.
func adapterAddresses() (*windows.IpAdapterAddresses, error) {
	size := uint32(15 << 10)
	for i := 0; i < 4; i++ {
		buf := make([]byte, size)
		aa := (*windows.IpAdapterAddresses)(unsafe.Pointer(&buf[0]))
		err := windows.GetAdaptersAddresses(windows.AF_UNSPEC, windows.GAA_FLAG_INCLUDE_GATEWAYS, 0, aa, &size)
		if err == nil {
			return aa, nil
		}
		if !errors.Is(err, windows.ERROR_BUFFER_OVERFLOW) {
			return nil, fmt.Errorf("GetAdaptersAddresses: %w", err)
		}
	}
	return nil, errors.New("GetAdaptersAddresses: the adapter list kept growing")
}

// winStorage: the mounted volumes. Block devices are not listed on Windows
// yet (the documented source is WMI's Win32_DiskDrive or
// IOCTL_STORAGE_QUERY_PROPERTY; not wired).
func winStorage(ctx context.Context, env *Env) (scandoc.Storage, error) {
	ms, err := goMounts(ctx)
	return scandoc.Storage{Mounts: ms, BlockDevices: []scandoc.BlockDevice{}}, err
}

// winVirtualization runs the Linux detection's DMI rules on the BIOS
// registry values (the same SMBIOS strings).
func winVirtualization(ctx context.Context, env *Env) (scandoc.Virtualization, error) {
	b, err := winBIOS()
	in := linux.VirtInput{SysVendor: b.SysVendor, ProductName: b.ProductName, BIOSVendor: b.BIOSVendor, BIOSVersion: b.BIOSVersion}
	in.AWS, in.AWSWhy = winOnAWS(ctx, env)
	v := linux.DetectVirt(in)
	return scandoc.Virtualization{Hypervisor: v.Hypervisor, Cloud: v.Cloud, Evidence: v.Evidence}, err
}

// winSecurity: FIPS from the Lsa FipsAlgorithmPolicy Enabled value (absent:
// off), Secure Boot from SecureBoot\State UEFISecureBootEnabled (absent:
// a BIOS machine, off).
func winSecurity(ctx context.Context, env *Env) (scandoc.Security, error) {
	s := scandoc.Security{SELinux: scandoc.SELinux{Mode: "disabled"}}
	flag := func(path, name string) *bool {
		v := false
		k, err := regOpen(registry.LOCAL_MACHINE, path)
		if err != nil {
			if errors.Is(err, registry.ErrNotExist) {
				return &v
			}
			return nil
		}
		defer k.Close()
		n, _, err := k.GetIntegerValue(name)
		if err != nil && !errors.Is(err, registry.ErrNotExist) {
			return nil
		}
		v = n == 1
		return &v
	}
	s.FIPS = flag(regFIPS, "Enabled")
	s.SecureBoot = flag(regSecureBoot, "UEFISecureBootEnabled")
	return s, nil
}

// winServices enumerates the Win32 services with their state and process
// (EnumServicesStatusEx) and start type (QueryServiceConfig), asking only
// for enumerate and query rights.
func winServices(ctx context.Context, env *Env) (scandoc.Services, error) {
	s := scandoc.Services{Manager: "windows"}
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT|windows.SC_MANAGER_ENUMERATE_SERVICE)
	if err != nil {
		return s, fmt.Errorf("OpenSCManager: %w", err)
	}
	defer windows.CloseServiceHandle(h)
	var need, count, resume uint32
	var buf []byte
	for {
		var p *byte
		if len(buf) > 0 {
			p = &buf[0]
		}
		err = windows.EnumServicesStatusEx(h, windows.SC_ENUM_PROCESS_INFO, windows.SERVICE_WIN32, windows.SERVICE_STATE_ALL, p, uint32(len(buf)), &need, &count, &resume, nil)
		if err == nil {
			break
		}
		if !errors.Is(err, windows.ERROR_MORE_DATA) {
			return s, fmt.Errorf("EnumServicesStatusEx: %w", err)
		}
		buf = make([]byte, need)
		resume = 0
	}
	if count == 0 {
		return s, nil
	}
	list := unsafe.Slice((*windows.ENUM_SERVICE_STATUS_PROCESS)(unsafe.Pointer(&buf[0])), count)
	for _, e := range list {
		name := windows.UTF16PtrToString(e.ServiceName)
		svc := scandoc.Service{Name: name, Running: e.ServiceStatusProcess.CurrentState == windows.SERVICE_RUNNING}
		if svc.Running {
			svc.PID = int(e.ServiceStatusProcess.ProcessId)
		}
		if sh, err := windows.OpenService(h, e.ServiceName, windows.SERVICE_QUERY_CONFIG); err == nil {
			m := &mgr.Service{Name: name, Handle: sh}
			if c, err := m.Config(); err == nil {
				svc.Enabled = startType(c.StartType, c.DelayedAutoStart)
			}
			windows.CloseServiceHandle(sh)
		}
		s.Units = append(s.Units, svc)
	}
	sort.Slice(s.Units, func(i, j int) bool { return strings.ToLower(s.Units[i].Name) < strings.ToLower(s.Units[j].Name) })
	return s, nil
}

func startType(t uint32, delayed bool) string {
	switch t {
	case windows.SERVICE_AUTO_START:
		if delayed {
			return "auto-delayed"
		}
		return "auto"
	case windows.SERVICE_DEMAND_START:
		return "manual"
	case windows.SERVICE_DISABLED:
		return "disabled"
	case windows.SERVICE_BOOT_START:
		return "boot"
	case windows.SERVICE_SYSTEM_START:
		return "system"
	}
	return fmt.Sprint(t)
}

// winListening: listening TCP and bound UDP sockets (GetExtendedTcpTable,
// GetExtendedUdpTable through gopsutil) with their process's image name
// from one Toolhelp snapshot.
func winListening(ctx context.Context, env *Env) ([]scandoc.Listener, error) {
	conns, err := gnet.ConnectionsWithContext(ctx, "inet")
	if err != nil {
		return nil, fmt.Errorf("socket tables: %w", err)
	}
	names := processNames()
	var out []scandoc.Listener
	for _, c := range conns {
		proto := "tcp"
		if c.Type == 2 { // SOCK_DGRAM
			proto = "udp"
			if c.Raddr.Port != 0 {
				continue
			}
		} else if c.Status != "LISTEN" {
			continue
		}
		if c.Family == 23 { // AF_INET6
			proto += "6"
		}
		out = append(out, scandoc.Listener{Protocol: proto, Address: c.Laddr.IP, Port: int(c.Laddr.Port), PID: int(c.Pid), Process: names[uint32(c.Pid)]})
	}
	sortListeners(out)
	return out, nil
}

func processNames() map[uint32]string {
	out := map[uint32]string{}
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return out
	}
	defer windows.CloseHandle(snap)
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		out[e.ProcessID] = windows.UTF16ToString(e.ExeFile[:])
	}
	return out
}
