//go:build linux

package scan

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

// tool runs a program of this machine for comparison, skipping the
// subtest with the reason when the program is missing or fails.
func tool(t *testing.T, argv ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(argv[0]); err != nil {
		t.Skipf("%s is not installed on this machine (iproute2/util-linux): nothing to compare with", argv[0])
	}
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		t.Skipf("%s fails in this sandbox: %v", strings.Join(argv, " "), err)
	}
	return out
}

// liveCollect runs one collector on this machine.
func liveCollect(t *testing.T, run func(ctx context.Context, env *Env) (Part, error)) Part {
	t.Helper()
	p, err := run(t.Context(), LiveEnv().forScan())
	if err != nil {
		t.Fatalf("collector: %v", err)
	}
	return p
}

// TestLiveSystemFactsMatchTools is issue 15's done-when check on this
// machine: the new facts agree with `ip -j addr`, `ip -j route` (IPv4 and
// IPv6), `findmnt -J`, /proc/meminfo, /etc/localtime and `ss -ltnup`.
// Each comparison skips, with the reason, where this machine lacks the
// source.
func TestLiveSystemFactsMatchTools(t *testing.T) {
	t.Run("ip addr", func(t *testing.T) {
		var ip []struct {
			Ifindex   int    `json:"ifindex"`
			Ifname    string `json:"ifname"`
			MTU       int    `json:"mtu"`
			Operstate string `json:"operstate"`
			LinkType  string `json:"link_type"`
			Address   string `json:"address"`
			AddrInfo  []struct {
				Family    string `json:"family"`
				Local     string `json:"local"`
				Prefixlen int    `json:"prefixlen"`
				Scope     string `json:"scope"`
			} `json:"addr_info"`
		}
		if err := json.Unmarshal(tool(t, "ip", "-j", "addr"), &ip); err != nil {
			t.Fatal(err)
		}
		n := liveCollect(t, getNetwork).(NetworkPart).Network
		ours := map[string]scandoc.Interface{}
		for _, i := range n.Interfaces {
			ours[i.Name] = i
		}
		if len(ours) != len(ip) {
			t.Errorf("%d interfaces, ip lists %d", len(ours), len(ip))
		}
		for _, w := range ip {
			g, ok := ours[w.Ifname]
			if !ok {
				t.Errorf("interface %s (ip) missing", w.Ifname)
				continue
			}
			mac := w.Address
			if w.LinkType == "loopback" || w.LinkType == "none" {
				mac = ""
			}
			if g.Index != w.Ifindex || g.MTU != w.MTU || g.MAC != mac || g.State != strings.ToLower(w.Operstate) || g.Type != w.LinkType {
				t.Errorf("%s: index %d mtu %d mac %q state %q type %q; ip: %d %d %q %q %q", w.Ifname, g.Index, g.MTU, g.MAC, g.State, g.Type, w.Ifindex, w.MTU, mac, w.Operstate, w.LinkType)
			}
			var want4, want6, got4, got6 []string
			for _, a := range w.AddrInfo {
				s := fmt.Sprintf("%s/%d %s", a.Local, a.Prefixlen, a.Scope)
				if a.Family == "inet" {
					want4 = append(want4, s)
				} else {
					want6 = append(want6, s)
				}
			}
			for _, a := range g.IPv4 {
				got4 = append(got4, fmt.Sprintf("%s/%d %s", a.Address, a.PrefixLen, a.Scope))
			}
			for _, a := range g.IPv6 {
				got6 = append(got6, fmt.Sprintf("%s/%d %s", a.Address, a.PrefixLen, a.Scope))
			}
			slices.Sort(want4)
			slices.Sort(want6)
			slices.Sort(got4)
			slices.Sort(got6)
			if !slices.Equal(got4, want4) || !slices.Equal(got6, want6) {
				t.Errorf("%s addresses %v %v, ip says %v %v", w.Ifname, got4, got6, want4, want6)
			}
		}
		t.Logf("%d interfaces agree with ip -j addr", len(ip))
	})

	for _, fam := range []string{"inet", "inet6"} {
		t.Run("ip route "+fam, func(t *testing.T) {
			argv := []string{"ip", "-j", "route"}
			if fam == "inet6" {
				argv = []string{"ip", "-j", "-6", "route"}
			}
			var ip []struct {
				Type    string `json:"type"`
				Dst     string `json:"dst"`
				Gateway string `json:"gateway"`
				Dev     string `json:"dev"`
			}
			if err := json.Unmarshal(tool(t, argv...), &ip); err != nil {
				t.Fatal(err)
			}
			n := liveCollect(t, getNetwork).(NetworkPart).Network
			var want, got []string
			for _, r := range ip {
				if r.Type != "" && r.Type != "unicast" {
					continue // unreachable, blackhole, prohibit: reject routes, left out
				}
				dst := r.Dst
				if dst != "default" && !strings.Contains(dst, "/") {
					dst += map[string]string{"inet": "/32", "inet6": "/128"}[fam]
				}
				want = append(want, dst+" via "+r.Gateway+" dev "+r.Dev)
			}
			for _, r := range n.Routes {
				if r.Family == fam {
					got = append(got, r.Destination+" via "+r.Gateway+" dev "+r.Interface)
				}
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("routes %q, ip says %q", got, want)
			}
			for _, r := range ip {
				if r.Dst == "default" && r.Gateway != "" && fam == "inet" && n.DefaultGateway == "" {
					t.Errorf("default gateway missing (ip: %s)", r.Gateway)
				}
			}
			t.Logf("%d %s routes agree with %s", len(want), fam, strings.Join(argv, " "))
		})
	}

	t.Run("findmnt", func(t *testing.T) {
		type fsNode struct {
			Target   string   `json:"target"`
			Source   string   `json:"source"`
			FSType   string   `json:"fstype"`
			Options  string   `json:"options"`
			Children []fsNode `json:"children"`
		}
		var fm struct {
			Filesystems []fsNode `json:"filesystems"`
		}
		if err := json.Unmarshal(tool(t, "findmnt", "-J"), &fm); err != nil {
			t.Fatal(err)
		}
		var want []string
		var walk func([]fsNode)
		walk = func(ns []fsNode) {
			for _, n := range ns {
				src, _, _ := strings.Cut(n.Source, "[") // findmnt adds [/subtree] for bind mounts
				want = append(want, n.Target+" "+src+" "+n.FSType+" "+n.Options)
				walk(n.Children)
			}
		}
		walk(fm.Filesystems)
		s := liveCollect(t, getStorage).(StoragePart).Storage
		var got []string
		for _, m := range s.Mounts {
			got = append(got, m.Mountpoint+" "+m.Device+" "+m.FSType+" "+strings.Join(m.Options, ","))
			if m.Mountpoint == "/" && m.TotalBytes == 0 {
				t.Errorf("no usage for /: %+v", m)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("mounts differ from findmnt -J:\n got  %q\n want %q", got, want)
		}
		t.Logf("%d mounts agree with findmnt -J; %d block devices", len(want), len(s.BlockDevices))
	})

	t.Run("meminfo", func(t *testing.T) {
		b, err := os.ReadFile("/proc/meminfo")
		if err != nil {
			t.Skipf("no /proc/meminfo: %v", err)
		}
		mi, err := linux.ParseMemInfo(b)
		if err != nil {
			t.Fatal(err)
		}
		r := liveCollect(t, getResources).(ResourcesPart)
		m := r.Memory
		near := func(a, b uint64) bool { return float64(a) > 0.9*float64(b) && float64(a) < 1.1*float64(b)+1<<20 }
		if m.TotalBytes != mi.Total || m.SwapTotalBytes != mi.SwapTotal || !near(m.AvailableBytes, mi.Available) {
			t.Errorf("memory %+v, /proc/meminfo says total %d swap %d available %d", m, mi.Total, mi.SwapTotal, mi.Available)
		}
		if r.Load.One < 0 || r.Load.Fifteen < 0 {
			t.Errorf("load %+v", r.Load)
		}
	})

	t.Run("localtime", func(t *testing.T) {
		target, err := os.Readlink("/etc/localtime")
		if err != nil {
			t.Skipf("/etc/localtime is not a link on this machine: %v", err)
		}
		p := liveCollect(t, getOS).(OSPart)
		want := zoneFromLink(target)
		if b, err := os.ReadFile("/etc/timezone"); err == nil && strings.TrimSpace(string(b)) != want {
			t.Skipf("/etc/timezone (%q) and /etc/localtime (%q) disagree on this machine", strings.TrimSpace(string(b)), want)
		}
		abbr, off := time.Now().Zone()
		if p.Timezone.Name != want || p.Timezone.Abbreviation != abbr || p.Timezone.OffsetS != off {
			t.Errorf("timezone %+v; /etc/localtime -> %s (%s %d)", p.Timezone, target, abbr, off)
		}
		if b, err := os.ReadFile("/etc/machine-id"); err == nil && strings.TrimSpace(string(b)) != p.MachineID {
			t.Errorf("machine id %q, /etc/machine-id %q", p.MachineID, strings.TrimSpace(string(b)))
		}
	})

	t.Run("ss", func(t *testing.T) {
		// Sockets of this test process, so that at least one listener
		// with a known process is compared.
		tl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer tl.Close()
		ul, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ul.Close()
		comm, _ := os.ReadFile("/proc/self/comm")
		mine := map[string]bool{
			listenerKey("tcp", "127.0.0.1", tl.Addr().(*net.TCPAddr).Port):      true,
			listenerKey("udp", "127.0.0.1", ul.LocalAddr().(*net.UDPAddr).Port): true,
		}
		// Other work opens and closes sockets all the time: a socket
		// seen by the scan but by neither ss run, or a holder that exited
		// in between, is a race, not a disagreement. Compare up to three
		// times; one clean comparison passes.
		var problems []string
		stable := 0
		for attempt := 0; attempt < 3; attempt++ {
			problems, stable = nil, 0
			bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
			before := ssListeners(t)
			ls := liveCollect(t, getListeningPorts).(ListeningPart).Listening
			after := ssListeners(t)
			ours := map[string]scandoc.Listener{}
			for _, l := range ls {
				ours[listenerKey(strings.TrimSuffix(l.Protocol, "6"), l.Address, l.Port)] = l
			}
			for k := range mine {
				g, ok := ours[k]
				if !ok || g.PID != os.Getpid() || g.Process != strings.TrimSpace(string(comm)) {
					bad("this test's own socket %s: got %+v, want pid %d %s", k, g, os.Getpid(), comm)
				}
				if w := before[k]; !slices.Contains(w, fmt.Sprintf("%s/%d", g.Process, g.PID)) {
					bad("ss does not agree on this test's own socket %s: %v", k, w)
				}
			}
			for k, w := range before {
				if _, still := after[k]; !still {
					continue // opened or closed by other work during the scan
				}
				stable++
				g, ok := ours[k]
				if !ok {
					bad("ss lists %s, the scan does not", k)
					continue
				}
				if len(w) == 0 && g.PID != 0 {
					bad("%s: the scan names pid %d, ss names no process", k, g.PID)
				}
				if len(w) > 0 && !slices.Contains(w, fmt.Sprintf("%s/%d", g.Process, g.PID)) {
					bad("%s: the scan says %s/%d, ss says %v", k, g.Process, g.PID, w)
				}
			}
			for k := range ours {
				if _, a := before[k]; !a {
					if _, b := after[k]; !b {
						bad("the scan lists %s, which ss never listed", k)
					}
				}
			}
			if len(problems) == 0 {
				break
			}
		}
		for _, p := range problems {
			t.Error(p)
		}
		t.Logf("%d stable listening sockets agree with ss -ltnup", stable)
	})
}

func listenerKey(proto, addr string, port int) string {
	return fmt.Sprintf("%s %s %d", proto, addr, port)
}

// ssListeners runs `ss -H -ltnup` and returns each socket with its
// processes ("name/pid").
func ssListeners(t *testing.T) map[string][]string {
	t.Helper()
	out := tool(t, "ss", "-H", "-ltnup")
	res := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		i := strings.LastIndexByte(f[4], ':')
		host, port := f[4][:i], f[4][i+1:]
		host = strings.Trim(host, "[]")
		if h, _, ok := strings.Cut(host, "%"); ok {
			host = h // bound to a device: 127.0.0.53%lo
		}
		if host == "*" {
			host = "0.0.0.0"
		}
		if a, err := netip.ParseAddr(host); err == nil {
			host = a.String()
		}
		p, _ := strconv.Atoi(port)
		var procs []string
		if len(f) > 6 {
			// users:(("sshd",pid=812,fd=3),("sshd",pid=900,fd=3))
			for _, u := range strings.Split(strings.Join(f[6:], " "), "(\"")[1:] {
				name, rest, _ := strings.Cut(u, "\"")
				_, pidPart, _ := strings.Cut(rest, "pid=")
				pid, _, _ := strings.Cut(pidPart, ",")
				procs = append(procs, name+"/"+pid)
			}
		}
		res[listenerKey(f[0], host, p)] = procs
	}
	return res
}
