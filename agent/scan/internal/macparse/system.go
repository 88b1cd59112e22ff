package macparse

// Parsers of the macOS programs behind issue 15's collectors: ioreg (the
// platform UUID), route get (default gateways), launchctl (services) and
// lsof (listening sockets).

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/amagent/amagent/agent/scandoc"
)

// PlatformUUID finds "IOPlatformUUID" = "..." in `ioreg -rd1 -c
// IOPlatformExpertDevice`: the machine's hardware UUID, macOS's
// machine id.
func PlatformUUID(out []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(k) != `"IOPlatformUUID"` {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if v == "" {
			break
		}
		return v, nil
	}
	return "", fmt.Errorf("ioreg: no IOPlatformUUID")
}

// RouteGet parses `route -n get [-inet6] default`: the "gateway:" and
// "interface:" lines. A link-local IPv6 gateway keeps its zone
// ("fe80::1%en0").
func RouteGet(out []byte) (gateway, iface string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "gateway":
			gateway = strings.TrimSpace(v)
		case "interface":
			iface = strings.TrimSpace(v)
		}
	}
	if gateway == "" {
		return "", "", fmt.Errorf("route get: no gateway line")
	}
	return gateway, iface, nil
}

// LaunchctlList parses `launchctl list` ("PID\tStatus\tLabel" then one
// job a line, "-" for no PID): each loaded job, running when it has a
// PID.
func LaunchctlList(out []byte) ([]scandoc.Service, error) {
	var svcs []scandoc.Service
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	header := false
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			f = strings.Fields(line)
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("launchctl list line %d: want PID, status and label, got %q", n, clip(line))
		}
		if f[0] == "PID" && f[2] == "Label" {
			header = true
			continue
		}
		s := scandoc.Service{Name: f[2], Enabled: "enabled"}
		if f[0] != "-" {
			pid, err := strconv.Atoi(f[0])
			if err != nil {
				return nil, fmt.Errorf("launchctl list line %d: bad PID %q", n, clip(f[0]))
			}
			s.Running, s.PID = true, pid
		}
		svcs = append(svcs, s)
	}
	if !header {
		return nil, fmt.Errorf("launchctl list: no \"PID Status Label\" header")
	}
	return svcs, nil
}

// LaunchctlDisabled parses `launchctl print-disabled system`: lines
// `"com.openssh.sshd" => disabled` (macOS 11 and later; "=> true" before)
// give the jobs turned off.
func LaunchctlDisabled(out []byte) map[string]bool {
	off := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=>")
		if !ok {
			continue
		}
		label := strings.Trim(strings.TrimSpace(k), `"`)
		switch strings.TrimSpace(v) {
		case "disabled", "true":
			off[label] = true
		}
	}
	return off
}

// LsofArgv lists listening TCP sockets and UDP sockets with lsof's field
// output: p pid, c command, u uid, P protocol, t type, n name.
var LsofArgv = []string{"lsof", "-nP", "-iTCP", "-sTCP:LISTEN", "-iUDP", "-F", "pcuPtn"}

// Lsof parses the output of LsofArgv (lsof(8) "OUTPUT FOR OTHER
// PROGRAMS": one field a line, its kind in the first character). UDP
// sockets with a peer ("->" in the name) are connected and left out; a
// "*" address is the wildcard (0.0.0.0 or ::).
func Lsof(out []byte) ([]scandoc.Listener, error) {
	var ls []scandoc.Listener
	var pid, uid int
	var comm, proto, typ string
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "" {
			continue
		}
		v := line[1:]
		switch line[0] {
		case 'p':
			p, err := strconv.Atoi(v)
			if err != nil {
				return nil, fmt.Errorf("lsof line %d: bad pid %q", n, clip(v))
			}
			pid, comm, uid = p, "", 0
		case 'c':
			comm = v
		case 'u':
			uid, _ = strconv.Atoi(v)
		case 'f':
			proto, typ = "", ""
		case 'P':
			proto = strings.ToLower(v)
		case 't':
			typ = v
		case 'n':
			if proto != "tcp" && proto != "udp" || strings.Contains(v, "->") {
				continue
			}
			i := strings.LastIndexByte(v, ':')
			if i < 0 {
				return nil, fmt.Errorf("lsof line %d: no port in %q", n, clip(v))
			}
			host, port := strings.Trim(v[:i], "[]"), v[i+1:]
			p, err := strconv.Atoi(port)
			if err != nil {
				return nil, fmt.Errorf("lsof line %d: bad port in %q", n, clip(v))
			}
			l := scandoc.Listener{Protocol: proto, Port: p, PID: pid, Process: comm, UID: uid}
			six := typ == "IPv6"
			switch {
			case host == "*" && six:
				l.Address = "::"
			case host == "*":
				l.Address = "0.0.0.0"
			default:
				a, err := netip.ParseAddr(host)
				if err != nil {
					return nil, fmt.Errorf("lsof line %d: bad address in %q", n, clip(v))
				}
				l.Address = a.WithZone("").String()
				six = a.Is6()
			}
			if six {
				l.Protocol += "6"
			}
			key := fmt.Sprint(l.Protocol, l.Address, l.Port, l.PID)
			if !seen[key] { // a socket shared by forked processes
				seen[key] = true
				ls = append(ls, l)
			}
		}
	}
	return ls, sc.Err()
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
