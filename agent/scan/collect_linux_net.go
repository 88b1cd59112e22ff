//go:build linux

package scan

// GetNetwork on Linux: interfaces from /sys/class/net, IPv6 addresses from
// /proc/net/if_inet6, routes from /proc/net/route and /proc/net/ipv6_route,
// the resolver from /etc/resolv.conf, the FQDN from /etc/hosts. IPv4
// addresses are in no file (/proc/net/fib_trie has them without their
// interface), so the live file system asks the kernel over netlink
// (RTM_GETADDR, one dump); a recorded machine answers from its recording.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

const (
	pathSysNet     = "sys/class/net"
	pathIfInet6    = "proc/net/if_inet6"
	pathRoute4     = "proc/net/route"
	pathRoute6     = "proc/net/ipv6_route"
	pathResolvConf = "etc/resolv.conf"
)

// interfaceAddrsFS is implemented by file systems that can list the
// machine's IPv4 addresses, which no file holds: the live file system
// through netlink, a recorded machine from its recording.
type interfaceAddrsFS interface {
	InterfaceAddrs(ctx context.Context) ([]linux.IfAddr, error)
}

// InterfaceAddrs dumps the kernel's IPv4 addresses over netlink
// (RTM_GETADDR, AF_INET): no program is run.
func (liveFS) InterfaceAddrs(ctx context.Context) ([]linux.IfAddr, error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETADDR, syscall.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("netlink RTM_GETADDR: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("netlink RTM_GETADDR: %w", err)
	}
	var out []linux.IfAddr
	for _, m := range msgs {
		if m.Header.Type == syscall.NLMSG_DONE {
			break
		}
		if m.Header.Type != syscall.RTM_NEWADDR || len(m.Data) < syscall.SizeofIfAddrmsg {
			continue
		}
		ifa := (*syscall.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			return nil, fmt.Errorf("netlink RTM_GETADDR: %w", err)
		}
		a := linux.IfAddr{Index: int(ifa.Index), PrefixLen: int(ifa.Prefixlen), Scope: linux.IPv4Scope(ifa.Scope)}
		var local, addr netip.Addr
		for _, at := range attrs {
			switch at.Attr.Type {
			case syscall.IFA_LOCAL:
				local, _ = netip.AddrFromSlice(at.Value)
			case syscall.IFA_ADDRESS:
				addr, _ = netip.AddrFromSlice(at.Value)
			case syscall.IFA_LABEL:
				a.Interface = strings.TrimRight(string(at.Value), "\x00")
			}
		}
		// IFA_LOCAL is the interface's own address; IFA_ADDRESS is the
		// peer's on point-to-point links (and the same otherwise).
		a.Addr = local
		if !a.Addr.IsValid() {
			a.Addr = addr
		}
		if a.Addr.IsValid() {
			out = append(out, a)
		}
	}
	return out, nil
}

func linuxNetwork(ctx context.Context, env *Env) (scandoc.Network, error) {
	var n scandoc.Network
	var errs []error
	ifaces, err := sysInterfaces(env.FS)
	if err != nil {
		errs = append(errs, err)
	}
	byIndex := map[int]*scandoc.Interface{}
	byName := map[string]*scandoc.Interface{}
	for i := range ifaces {
		byIndex[ifaces[i].Index] = &ifaces[i]
		byName[ifaces[i].Name] = &ifaces[i]
	}
	find := func(a linux.IfAddr) *scandoc.Interface {
		if p := byIndex[a.Index]; p != nil && a.Index != 0 {
			return p
		}
		// An IPv4 label may carry an alias suffix ("eth0:1").
		name, _, _ := strings.Cut(a.Interface, ":")
		return byName[name]
	}
	if af, ok := env.FS.(interfaceAddrsFS); ok {
		addrs, err := af.InterfaceAddrs(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		for _, a := range addrs {
			if p := find(a); p != nil && a.Addr.Is4() {
				p.IPv4 = append(p.IPv4, scandoc.Address{Address: a.Addr.String(), PrefixLen: a.PrefixLen, Scope: a.Scope})
			}
		}
	}
	if b, err := fs.ReadFile(env.FS, pathIfInet6); err == nil {
		addrs, err := linux.ParseIfInet6(b)
		if err != nil {
			errs = append(errs, err)
		}
		for _, a := range addrs {
			if p := find(a); p != nil {
				p.IPv6 = append(p.IPv6, scandoc.Address{Address: a.Addr.String(), PrefixLen: a.PrefixLen, Scope: a.Scope})
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reading /%s: %w", pathIfInet6, err))
	}
	n.Interfaces = ifaces

	for _, src := range []struct {
		path  string
		parse func([]byte) ([]linux.Route, error)
	}{{pathRoute4, linux.ParseIPv4Routes}, {pathRoute6, linux.ParseIPv6Routes}} {
		b, err := fs.ReadFile(env.FS, src.path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no IPv6 in this kernel, or a recording without routes
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reading /%s: %w", src.path, err))
			continue
		}
		routes, err := src.parse(b)
		if err != nil {
			errs = append(errs, err)
		}
		best := -1
		for _, r := range routes {
			sr := scandoc.Route{Family: r.Family, Destination: r.Dest.String(), Interface: r.Interface, Metric: r.Metric}
			if r.Default() {
				sr.Destination = "default"
			}
			if r.Gateway.IsValid() {
				sr.Gateway = r.Gateway.String()
			}
			n.Routes = append(n.Routes, sr)
			if r.Default() && sr.Gateway != "" && (best < 0 || r.Metric < best) {
				best = r.Metric
				if r.Family == "inet" {
					n.DefaultGateway, n.DefaultInterface = sr.Gateway, sr.Interface
				} else {
					n.DefaultGateway6 = sr.Gateway
				}
			}
		}
	}

	if b, err := fs.ReadFile(env.FS, pathResolvConf); err == nil {
		rc := linux.ParseResolvConf(b)
		n.DNS = scandoc.DNS{Servers: rc.Servers, Search: rc.Search, Domain: rc.Domain, Options: rc.Options}
	} else if !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("reading /%s: %w", pathResolvConf, err))
	}
	n.FQDN, n.Domain = fqdn(env, n.DNS)
	return n, errors.Join(errs...)
}

// sysInterfaces lists /sys/class/net/<name>/{ifindex,address,mtu,operstate,type}.
func sysInterfaces(fsys fs.FS) ([]scandoc.Interface, error) {
	ents, err := fs.ReadDir(fsys, pathSysNet)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a recording without network inputs; every live Linux has it
	}
	if err != nil {
		return nil, fmt.Errorf("reading /%s: %w", pathSysNet, err)
	}
	var out []scandoc.Interface
	for _, e := range ents {
		dir := path.Join(pathSysNet, e.Name())
		attr := func(n string) string {
			b, err := fs.ReadFile(fsys, path.Join(dir, n))
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		if attr("ifindex") == "" && attr("mtu") == "" {
			continue // not an interface (bonding_masters)
		}
		it := scandoc.Interface{Name: e.Name(), State: attr("operstate"), IPv4: []scandoc.Address{}, IPv6: []scandoc.Address{}}
		it.Index, _ = strconv.Atoi(attr("ifindex"))
		it.MTU, _ = strconv.Atoi(attr("mtu"))
		if t, err := strconv.Atoi(attr("type")); err == nil {
			it.Type = linux.ARPHRDName(t)
		}
		if mac := attr("address"); mac != "" && it.Type != "loopback" && it.Type != "none" {
			it.MAC = mac
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}
