package linux

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Route flags of /proc/net/route and /proc/net/ipv6_route
// (include/uapi/linux/route.h, ipv6_route.h).
const (
	rtfUp      = 0x0001
	rtfGateway = 0x0002
	rtfReject  = 0x0200
	rtfAnycast = 0x00100000
	rtfCache   = 0x01000000
	rtfLocal   = 0x80000000
)

// Route is one route of the kernel's main routing table.
type Route struct {
	Family    string       // inet, inet6
	Dest      netip.Prefix // 0.0.0.0/0 or ::/0 for the default route
	Gateway   netip.Addr   // invalid when the destination is on-link
	Interface string
	Metric    int
}

// Default reports whether r is a default route.
func (r Route) Default() bool { return r.Dest.Bits() == 0 }

// ParseIPv4Routes parses /proc/net/route (the main table): addresses are
// 32-bit hex words in the kernel's (little-endian) byte order. Routes not
// up and reject routes are left out.
func ParseIPv4Routes(b []byte) ([]Route, error) {
	var out []Route
	err := fieldLines(b, "/proc/net/route", true, 8, "want 8 or more fields", func(f []string) error {
		dst, err1 := hexIPv4(f[1])
		gw, err2 := hexIPv4(f[2])
		flags, err3 := strconv.ParseUint(f[3], 16, 32)
		metric, err4 := strconv.Atoi(f[6])
		mask, err5 := hexIPv4(f[7])
		if err := firstErr(err1, err2, err3, err4, err5); err != nil {
			return err
		}
		if flags&rtfUp == 0 || flags&rtfReject != 0 {
			return nil
		}
		r := Route{Family: "inet", Dest: netip.PrefixFrom(dst, maskBits(mask)), Interface: f[0], Metric: metric}
		if flags&rtfGateway != 0 {
			r.Gateway = gw
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ParseIPv6Routes parses /proc/net/ipv6_route. The file holds every
// table; the local table's entries (local, anycast and multicast
// addresses), cached routes and reject routes are left out, which leaves
// what `ip -6 route` shows of the main table.
func ParseIPv6Routes(b []byte) ([]Route, error) {
	var out []Route
	err := fieldLines(b, "/proc/net/ipv6_route", false, 10, "want 10 fields", func(f []string) error {
		dst, err1 := hexIPv6(f[0])
		plen, err2 := strconv.ParseUint(f[1], 16, 8)
		gw, err3 := hexIPv6(f[4])
		metric, err4 := strconv.ParseUint(f[5], 16, 32)
		flags, err5 := strconv.ParseUint(f[8], 16, 32)
		if err := firstErr(err1, err2, err3, err4, err5); err != nil {
			return err
		}
		if flags&rtfUp == 0 || flags&(rtfReject|rtfLocal|rtfAnycast|rtfCache) != 0 || dst.IsMulticast() {
			return nil
		}
		r := Route{Family: "inet6", Dest: netip.PrefixFrom(dst, int(plen)), Interface: f[9], Metric: int(metric)}
		if flags&rtfGateway != 0 && !gw.IsUnspecified() {
			r.Gateway = gw
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// IfAddr is one address of an interface.
type IfAddr struct {
	Index     int
	Interface string
	Addr      netip.Addr
	PrefixLen int
	Scope     string // global, link, host, site
}

// ParseIfInet6 parses /proc/net/if_inet6: "address ifindex prefixlen
// scope flags name", all hex but the name.
func ParseIfInet6(b []byte) ([]IfAddr, error) {
	var out []IfAddr
	err := fieldLines(b, "/proc/net/if_inet6", false, 6, "want 6 fields", func(f []string) error {
		a, err1 := hexIPv6(f[0])
		idx, err2 := strconv.ParseUint(f[1], 16, 32)
		plen, err3 := strconv.ParseUint(f[2], 16, 8)
		scope, err4 := strconv.ParseUint(f[3], 16, 32)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return err
		}
		out = append(out, IfAddr{Index: int(idx), Interface: f[5], Addr: a, PrefixLen: int(plen), Scope: ipv6Scope(scope)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ipv6Scope names the scope bits of if_inet6 (IPV6_ADDR_* & 0xf0).
func ipv6Scope(s uint64) string {
	switch s & 0xf0 {
	case 0x00:
		return "global"
	case 0x10:
		return "host"
	case 0x20:
		return "link"
	case 0x40:
		return "site"
	}
	return strconv.FormatUint(s, 16)
}

// IPv4Scope names a netlink route scope (RT_SCOPE_*).
func IPv4Scope(s uint8) string {
	switch s {
	case 0:
		return "global"
	case 200:
		return "site"
	case 253:
		return "link"
	case 254:
		return "host"
	case 255:
		return "nowhere"
	}
	return strconv.Itoa(int(s))
}

// hexIPv4 decodes a 32-bit address written as a little-endian hex word.
func hexIPv4(s string) (netip.Addr, error) {
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil || len(s) != 8 {
		return netip.Addr{}, fmt.Errorf("bad IPv4 word %q", clip(s))
	}
	var a [4]byte
	binary.LittleEndian.PutUint32(a[:], uint32(v))
	return netip.AddrFrom4(a), nil
}

// hexIPv6 decodes 32 hex digits in network byte order (ipv6_route,
// if_inet6).
func hexIPv6(s string) (netip.Addr, error) {
	var a [16]byte
	if len(s) != 32 {
		return netip.Addr{}, fmt.Errorf("bad IPv6 address %q", clip(s))
	}
	if _, err := hex.Decode(a[:], []byte(s)); err != nil {
		return netip.Addr{}, fmt.Errorf("bad IPv6 address %q", clip(s))
	}
	return netip.AddrFrom16(a), nil
}

func maskBits(m netip.Addr) int {
	b := m.As4()
	n := 0
	for _, x := range b {
		for x&0x80 != 0 {
			n++
			x <<= 1
		}
	}
	return n
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ResolvConf is what resolv.conf(5) says.
type ResolvConf struct {
	Servers []string
	Search  []string
	Domain  string
	Options []string
}

// ParseResolvConf parses resolv.conf: nameserver, search, domain and
// options lines; comments start with '#' or ';'. Unknown keywords are
// ignored, as the resolver does.
func ParseResolvConf(b []byte) ResolvConf {
	var r ResolvConf
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			r.Servers = append(r.Servers, f[1])
		case "search":
			r.Search = append([]string(nil), f[1:]...) // the last search line wins
		case "domain":
			r.Domain = f[1]
		case "options":
			r.Options = append(r.Options, f[1:]...)
		}
	}
	return r
}

// HostsFQDN finds the canonical name of host in /etc/hosts the way the
// resolver's files source does for `hostname -f`: the first name of the
// first line that lists host (as its canonical name or an alias).
func HostsFQDN(b []byte, host string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, name := range f[1:] {
			if strings.EqualFold(name, host) {
				return f[1], true
			}
		}
	}
	return "", false
}

// ARPHRDName names the link types of /sys/class/net/<if>/type
// (include/uapi/linux/if_arp.h) that are common; others stay numbers.
func ARPHRDName(t int) string {
	switch t {
	case 1:
		return "ether"
	case 32:
		return "infiniband"
	case 512:
		return "ppp"
	case 768:
		return "ipip"
	case 769:
		return "tunnel6"
	case 772:
		return "loopback"
	case 776:
		return "sit"
	case 778:
		return "gre"
	case 823:
		return "ip6gre"
	case 65534:
		return "none"
	}
	return strconv.Itoa(t)
}
