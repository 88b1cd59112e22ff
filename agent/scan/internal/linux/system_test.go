package linux

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// Inputs below are this development machine's files (a Firecracker VM)
// unless said otherwise.

func TestParseRoutes(t *testing.T) {
	v4 := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
		"eth0\t0000000A\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0\n" // a reject route: left out
	rs, err := ParseIPv4Routes([]byte(v4))
	if err != nil || len(rs) != 2 {
		t.Fatalf("%+v %v", rs, err)
	}
	if !rs[0].Default() || rs[0].Gateway != netip.MustParseAddr("192.0.2.1") || rs[0].Interface != "eth0" {
		t.Errorf("default route: %+v", rs[0])
	}
	if rs[1].Dest != netip.MustParsePrefix("192.0.2.0/24") || rs[1].Gateway.IsValid() {
		t.Errorf("on-link route: %+v", rs[1])
	}
	v6 := `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000003 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`
	rs, err = ParseIPv6Routes([]byte(v6))
	if err != nil || len(rs) != 3 {
		t.Fatalf("ipv6 routes (want the main table's 3): %+v %v", rs, err)
	}
	if !rs[2].Default() || rs[2].Gateway != netip.MustParseAddr("fd00::1") || rs[2].Metric != 1024 {
		t.Errorf("ipv6 default: %+v", rs[2])
	}
	for _, bad := range []string{"Iface\nx y z\n", "h\neth0 zz 0 3 0 0 0 0\n"} {
		if _, err := ParseIPv4Routes([]byte(bad)); err == nil {
			t.Errorf("ParseIPv4Routes(%q): no error", bad)
		}
	}
	if _, err := ParseIPv6Routes([]byte("short line\n")); err == nil {
		t.Error("bad ipv6_route: no error")
	}
}

func TestParseIfInet6(t *testing.T) {
	in := "fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n00000000000000000000000000000001 01 80 10 80       lo\nfd000000000000000000000000000002 04 40 00 82     eth0\n"
	as, err := ParseIfInet6([]byte(in))
	if err != nil || len(as) != 3 {
		t.Fatalf("%+v %v", as, err)
	}
	want := []IfAddr{
		{Index: 4, Interface: "eth0", Addr: netip.MustParseAddr("fe80::fc:ff:fe00:1"), PrefixLen: 64, Scope: "link"},
		{Index: 1, Interface: "lo", Addr: netip.MustParseAddr("::1"), PrefixLen: 128, Scope: "host"},
		{Index: 4, Interface: "eth0", Addr: netip.MustParseAddr("fd00::2"), PrefixLen: 64, Scope: "global"},
	}
	if !slices.Equal(as, want) {
		t.Errorf("got %+v", as)
	}
	if _, err := ParseIfInet6([]byte("zz 04 40 20 80 eth0\n")); err == nil {
		t.Error("bad address: no error")
	}
}

func TestResolvConfAndHosts(t *testing.T) {
	rc := ParseResolvConf([]byte("# generated\nnameserver 10.0.0.2 ; comment\nsearch a.example\nsearch b.example c.example\ndomain b.example\noptions edns0 rotate\nnameserver fe80::1%eth0\nbogus line\n"))
	if !slices.Equal(rc.Servers, []string{"10.0.0.2", "fe80::1%eth0"}) || !slices.Equal(rc.Search, []string{"b.example", "c.example"}) || rc.Domain != "b.example" || !slices.Equal(rc.Options, []string{"edns0", "rotate"}) {
		t.Errorf("%+v", rc)
	}
	hosts := []byte("127.0.0.1 localhost\n127.0.1.1\tweb-01.example.internal web-01 # me\n")
	if f, ok := HostsFQDN(hosts, "web-01"); !ok || f != "web-01.example.internal" {
		t.Errorf("HostsFQDN = %q %v", f, ok)
	}
	if _, ok := HostsFQDN(hosts, "other"); ok {
		t.Error("unknown host found")
	}
}

func TestParseMountInfo(t *testing.T) {
	in := `27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard,resv_strict,resuid=65534,resgid=65534
28 27 0:25 / /mnt/sandboxing/model_tools_env/v1/python ro,nosuid,nodev,relatime - tmpfs model_tools_unavailable ro,size=4k,mode=755
36 35 98:0 /mnt1 /srv/my\040data rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue
`
	ms, err := ParseMountInfo([]byte(in))
	if err != nil || len(ms) != 3 {
		t.Fatalf("%+v %v", ms, err)
	}
	if got := strings.Join(ms[0].Options(), ","); got != "rw,relatime,discard,resv_strict,resuid=65534,resgid=65534" {
		t.Errorf("findmnt options: %s", got)
	}
	if got := strings.Join(ms[1].Options(), ","); got != "ro,nosuid,nodev,relatime,size=4k,mode=755" {
		t.Errorf("findmnt options of a ro mount: %s", got)
	}
	if ms[2].Mountpoint != "/srv/my data" || ms[2].Root != "/mnt1" || ms[2].FSType != "ext3" || ms[2].Source != "/dev/root" || ms[2].Major != 98 {
		t.Errorf("optional fields and escapes: %+v", ms[2])
	}
	for _, bad := range []string{"1 2 3\n", "27 1 254:0 / / rw,relatime ext4 /dev/vda rw x y\n", "x 1 254:0 / / rw - ext4 /dev/vda rw\n"} {
		if _, err := ParseMountInfo([]byte(bad)); err == nil {
			t.Errorf("ParseMountInfo(%q): no error", bad)
		}
	}
	if WantsUsage("proc") || WantsUsage("nfs4") || WantsUsage("autofs") || !WantsUsage("ext4") || !WantsUsage("tmpfs") {
		t.Error("WantsUsage")
	}
}

func TestParseProcNetSockets(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1576 1 000000007f560a1c 100 0 0 10 0
   1: 0100007F:D8C8 0100007F:46A1 01 00000000:00000000 02:00000AE4 00000000   101        0 140106 3 000000003e0c39b3 20 4 30 18 -1
`
	ss, err := ParseProcNetSockets([]byte(tcp))
	if err != nil || len(ss) != 2 {
		t.Fatalf("%+v %v", ss, err)
	}
	if ss[0].Local != netip.MustParseAddrPort("0.0.0.0:2024") || ss[0].State != StateListen || ss[0].Inode != 1576 {
		t.Errorf("listener: %+v", ss[0])
	}
	if ss[1].Remote != netip.MustParseAddrPort("127.0.0.1:18081") || ss[1].UID != 101 {
		t.Errorf("connection: %+v", ss[1])
	}
	tcp6 := "header\n   0: 00000000000000000000000001000000:0143 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   114        0 21007 2 0000000000000000 0\n" +
		"   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9 1 0 100 0 0 10 0\n"
	ss, err = ParseProcNetSockets([]byte(tcp6))
	if err != nil || ss[0].Local != netip.MustParseAddrPort("[::1]:323") || ss[1].Local.Addr() != netip.MustParseAddr("::ffff:127.0.0.1") {
		t.Errorf("ipv6: %+v %v", ss, err)
	}
	if _, err := ParseProcNetSockets([]byte("h\n 0: 0100007F 00000000:0000 0A 0 0 0 0 0 1\n")); err == nil {
		t.Error("address without port: no error")
	}
	if n, ok := SocketInode("socket:[140106]"); !ok || n != 140106 {
		t.Errorf("SocketInode = %d %v", n, ok)
	}
	if _, ok := SocketInode("pipe:[1]"); ok {
		t.Error("a pipe taken for a socket")
	}
	if u := ParsePasswdNames([]byte("root:x:0:0::/root:/bin/bash\npostgres:x:101:104::/var/lib/postgresql:/bin/bash\n")); u[101] != "postgres" || u[0] != "root" {
		t.Errorf("passwd: %v", u)
	}
}

func TestParseMemInfoAndLoad(t *testing.T) {
	m, err := ParseMemInfo([]byte("MemTotal:       24684084 kB\nMemFree:        21226304 kB\nMemAvailable:   23948368 kB\nBuffers:           1 kB\nSwapTotal:       1048572 kB\nSwapFree:         524288 kB\n"))
	if err != nil || m.Total != 24684084*1024 || m.Available != 23948368*1024 || m.SwapTotal != 1048572*1024 || m.SwapFree != 524288*1024 || !m.HasAvailable {
		t.Errorf("%+v %v", m, err)
	}
	old, err := ParseMemInfo([]byte("MemTotal: 100 kB\nMemFree: 10 kB\nBuffers: 5 kB\nCached: 20 kB\n"))
	if err != nil || old.Available != 35*1024 || old.HasAvailable {
		t.Errorf("pre-3.14 kernel: %+v %v", old, err)
	}
	if _, err := ParseMemInfo([]byte("MemFree: 1 kB\n")); err == nil {
		t.Error("no MemTotal: no error")
	}
	l, err := ParseLoadAvg([]byte("2.55 1.64 1.50 3/412 12345\n"))
	if err != nil || l != [3]float64{2.55, 1.64, 1.50} {
		t.Errorf("%v %v", l, err)
	}
	if _, err := ParseLoadAvg([]byte("x y z\n")); err == nil {
		t.Error("bad loadavg: no error")
	}
}

func TestInetDiag(t *testing.T) {
	req := InetDiagRequest(10, 6, 1<<StateListen)
	if len(req) != 56 || req[0] != 10 || req[1] != 6 {
		t.Errorf("request % x", req)
	}
	msg := make([]byte, 72)
	msg[0], msg[1] = 2, StateListen
	msg[4], msg[5] = 0x1f, 0x90 // port 8080, big-endian
	copy(msg[8:], []byte{127, 0, 0, 1})
	msg[64] = 101 // uid, host order (little-endian here)
	msg[68], msg[69] = 0x39, 0x30
	s, err := ParseInetDiagMsg(msg)
	if err != nil || s.Local != netip.MustParseAddrPort("127.0.0.1:8080") || s.State != StateListen || s.Inode != 12345 || s.UID != 101 {
		t.Errorf("%+v %v", s, err)
	}
	msg6 := make([]byte, 72)
	msg6[0], msg6[1] = 10, StateClose
	msg6[5] = 53
	msg6[23] = 1 // ::1
	if s, err := ParseInetDiagMsg(msg6); err != nil || s.Local != netip.MustParseAddrPort("[::1]:53") {
		t.Errorf("ipv6: %+v %v", s, err)
	}
	if _, err := ParseInetDiagMsg(msg[:10]); err == nil {
		t.Error("short message: no error")
	}
}
