package linux

import (
	"strings"
	"testing"
	"time"
)

func TestParseOSRelease(t *testing.T) {
	in := "# comment\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\nPRETTY_NAME='Single quoted'\nESC=\"a \\\"b\\\" c\"\n\nEMPTY=\n"
	kv, err := ParseOSRelease([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"NAME": "Debian GNU/Linux", "VERSION_ID": "12", "ID": "debian", "PRETTY_NAME": "Single quoted", "ESC": `a "b" c`, "EMPTY": ""}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	for _, bad := range []string{"", "just words\n", "NAME=\"unterminated\n", "\x00\x01\x02"} {
		if _, err := ParseOSRelease([]byte(bad)); err == nil {
			t.Errorf("ParseOSRelease(%q): no error", bad)
		}
	}
}

const dpkgStatus = `Package: a
Status: install ok installed
Architecture: amd64
Version: 1:2.0-1
Description: first
 continued line: with a colon

Package: b
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: c
Status: purge ok not-installed
Architecture: all

Package: d
Status: install reinstreq half-installed
Version: 3
Architecture: all
`

func TestParseDpkgStatus(t *testing.T) {
	ps, err := ParseDpkgStatus([]byte(dpkgStatus))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 {
		t.Fatalf("got %d stanzas, want 4: %+v", len(ps), ps)
	}
	if ps[0] != (DpkgPackage{Name: "a", Version: "1:2.0-1", Architecture: "amd64", Want: "install", Flag: "ok", State: "installed"}) {
		t.Errorf("first stanza: %+v", ps[0])
	}
	present, listed := 0, 0
	for _, p := range ps {
		if p.Present() {
			present++
		}
		if p.Listed() {
			listed++
		}
	}
	if present != 2 || listed != 3 {
		t.Errorf("present %d listed %d, want 2 and 3", present, listed)
	}
	if ps, err := ParseDpkgStatus(nil); err != nil || len(ps) != 0 {
		t.Errorf("empty status: %v %v", ps, err)
	}
	for name, bad := range map[string]string{
		"no colon":          "Package: a\ngarbage line\n",
		"no package":        "Status: install ok installed\nVersion: 1\n",
		"bad status":        "Package: a\nStatus: installed\n",
		"lone continuation": " continuation\n",
		"binary":            "\x7fELF\x02\x01\x01\x00\x00\x00",
	} {
		if _, err := ParseDpkgStatus([]byte(bad)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseDpkgLog(t *testing.T) {
	log := `2024-01-20 06:25:02 upgrade libssl3:amd64 3.0.2-1 3.0.2-2
2024-01-20 06:25:03 status unpacked libssl3:amd64 3.0.2-2
2024-01-20 06:25:05 status installed libssl3:amd64 3.0.2-2
2024-01-21 07:00:00 install newpkg:amd64 <none> 1.0
2024-01-21 07:00:01 status installed newpkg:amd64 1.0
2024-01-22 08:00:00 upgrade broken:amd64 1 2
2024-01-22 08:00:01 status half-configured broken:amd64 2
2024-01-23 09:00:00 upgrade same:all 1 1
2024-01-23 09:00:01 status installed same:all 1
not a log line
2024-01-24 10:00:00 upgrade libssl3:amd64 3.0.2-1 3.0.2-2
2024-01-24 10:00:09 status installed libssl3:amd64 3.0.2-2
`
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	ups, err := ParseDpkgLog([]byte(log), ny)
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 1 {
		t.Fatalf("got %+v, want the one completed libssl3 upgrade", ups)
	}
	u := ups[0]
	if u.Name != "libssl3" || u.Architecture != "amd64" || u.From != "3.0.2-1" || u.To != "3.0.2-2" {
		t.Errorf("upgrade: %+v", u)
	}
	if want := time.Date(2024, 1, 24, 15, 0, 9, 0, time.UTC); !u.Time.Equal(want) {
		t.Errorf("time %s, want the latest install %s (local New York time)", u.Time.UTC(), want)
	}
	if _, err := ParseDpkgLog([]byte("garbage\nmore garbage\n"), nil); err == nil {
		t.Error("garbage log: no error")
	}
	if ups, err := ParseDpkgLog(nil, nil); err != nil || len(ups) != 0 {
		t.Errorf("empty log: %v %v", ups, err)
	}
}

func TestParseAptSimulation(t *testing.T) {
	out := `NOTE: This is only a simulation!
Reading package lists...
Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64])
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst liblzma-dev [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64]) []
Inst libssl3 [3.0.2-0ubuntu1.12] (3.0.2-0ubuntu1.15 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst linux-image-5.15.0-97-generic (5.15.0-97.107 Ubuntu:22.04/jammy-updates [amd64])
Inst old (1.1 Debian-Security:10/oldoldstable [i386])
Inst thirdparty [1] (2 Docker CE:bookworm/bookworm [arm64])
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
`
	ups, err := ParseAptSimulation([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, cur, ver, arch string
		sec                  bool
		origins              int
	}
	want := []row{
		{"libgcrypt20", "1.10.1-3", "1.10.1-3+deb12u1", "amd64", true, 2},
		{"base-files", "12.4+deb12u11", "12.4+deb12u15", "amd64", false, 1},
		{"liblzma-dev", "5.4.1-1", "5.4.1-1+deb12u2", "amd64", true, 1},
		{"libssl3", "3.0.2-0ubuntu1.12", "3.0.2-0ubuntu1.15", "amd64", true, 2},
		{"linux-image-5.15.0-97-generic", "", "5.15.0-97.107", "amd64", false, 1},
		{"old", "", "1.1", "i386", true, 1},
		{"thirdparty", "1", "2", "arm64", false, 1},
	}
	if len(ups) != len(want) {
		t.Fatalf("got %d updates, want %d: %+v", len(ups), len(want), ups)
	}
	for i, w := range want {
		u := ups[i]
		got := row{u.Name, u.CurrentVersion, u.Version, u.Architecture, u.Security, len(u.Origins)}
		if got != w {
			t.Errorf("line %d: got %+v, want %+v", i, got, w)
		}
	}
	if ups[6].Origins[0] != "Docker CE:bookworm/bookworm" {
		t.Errorf("origin with a space: %q", ups[6].Origins)
	}
	for _, bad := range []string{"Inst \n", "Inst foo [1\n", "Inst foo 1.0\n", "Inst foo (1.0 Debian:12/stable [amd64]\n", "Inst foo ()\n"} {
		if _, err := ParseAptSimulation([]byte(bad)); err == nil {
			t.Errorf("ParseAptSimulation(%q): no error", bad)
		}
	}
	if ups, err := ParseAptSimulation([]byte("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")); err != nil || len(ups) != 0 {
		t.Errorf("nothing to upgrade: %v %v", ups, err)
	}
}

func TestCompareDebVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.1", -1},
		{"1.10", "1.9", 1},
		{"1:1.0", "2.0", 1},
		{"1.0~rc1", "1.0", -1},
		{"1.0", "1.0+b1", -1},
		{"1.0-1", "1.0-1ubuntu1", -1},
		{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{"1.0a", "1.0+", -1}, // letters sort before non-letters
		{"0001", "1", 0},
		{"6.1.0-9-amd64", "6.1.0-10-amd64", -1},
		{"99999999999999999999999", "99999999999999999999998", 1},
	} {
		if got := sign(CompareDebVersions(c.a, c.b)); got != c.want {
			t.Errorf("CompareDebVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
		if got := sign(CompareDebVersions(c.b, c.a)); got != -c.want {
			t.Errorf("CompareDebVersions(%q, %q) = %d, want %d", c.b, c.a, got, -c.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestKernels(t *testing.T) {
	for in, want := range map[string]string{
		"6.1.0-17-amd64":              "amd64",
		"6.1.0-17-cloud-amd64":        "cloud-amd64",
		"5.15.0-91-generic":           "generic",
		"5.14.0-362.8.1.el9_3.x86_64": "",
		"6.18.44-fc-v595":             "",
		"6.6.14-0-lts":                "lts",
		"6.1":                         "",
	} {
		if got := KernelFlavour(in); got != want {
			t.Errorf("KernelFlavour(%q) = %q, want %q", in, got, want)
		}
	}
	newest, newer := NewestKernel("6.1.0-17-amd64", []string{"6.1.0-9-amd64", "6.1.0-18-amd64", "6.1.0-20-cloud-amd64", "6.1.0-17-amd64"})
	if newest != "6.1.0-18-amd64" || !newer {
		t.Errorf("NewestKernel = %q %v, want 6.1.0-18-amd64 true (same flavour only)", newest, newer)
	}
	if _, newer := NewestKernel("6.1.0-18-amd64", []string{"6.1.0-18-amd64", "6.1.0-17-amd64"}); newer {
		t.Error("running the newest kernel: reboot claimed")
	}
	if n, newer := NewestKernel("6.18.44-fc-v595", nil); n != "" || newer {
		t.Error("no installed kernels: reboot claimed")
	}
}

func TestUtmp(t *testing.T) {
	at := time.Date(2024, 1, 24, 9, 12, 45, 123000, time.UTC)
	recs := []UtmpRecord{
		{Type: UtmpBootTime, Line: "~", User: "reboot", Host: "6.1.0", Time: at.Add(-time.Hour)},
		{Type: UtmpUserProcess, PID: 42, Line: "pts/0", User: "bob", Host: "192.0.2.1", Time: at.Add(-time.Minute)},
		{Type: UtmpUserProcess, PID: 43, Line: "pts/1", User: "alice", Host: "192.0.2.2", Time: at},
		{Type: UtmpDeadProcess, PID: 42, Line: "pts/0", Time: at.Add(time.Minute)},
	}
	var b []byte
	for _, r := range recs {
		b = append(b, EncodeUtmpRecord(r)...)
	}
	got, err := ParseUtmp(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if got[i] != recs[i] {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], recs[i])
		}
	}
	if last, ok := LastLogin(got); !ok || last.User != "alice" {
		t.Errorf("LastLogin = %+v %v", last, ok)
	}
	if s := Sessions(got); len(s) != 2 {
		t.Errorf("Sessions = %+v", s)
	}
	if _, err := ParseUtmp(b[:100]); err == nil {
		t.Error("truncated utmp: no error")
	}
	bad := EncodeUtmpRecord(UtmpRecord{Type: 300})
	if _, err := ParseUtmp(bad); err == nil {
		t.Error("unknown record type: no error")
	}
	if _, ok := LastLogin(nil); ok {
		t.Error("LastLogin of nothing")
	}
}

func TestProcFiles(t *testing.T) {
	cpu := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\ncpu MHz\t\t: 2300.000\nphysical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu hypervisor\n\n" +
		"processor\t: 1\nmodel name\t: Xeon\nphysical id\t: 0\ncore id\t\t: 0\n\n" +
		"processor\t: 2\nmodel name\t: Xeon\nphysical id\t: 0\ncore id\t\t: 1\n\n"
	c, err := ParseCPUInfo([]byte(cpu))
	if err != nil {
		t.Fatal(err)
	}
	if c != (CPUInfo{Vendor: "GenuineIntel", Model: "Xeon", Sockets: 1, Cores: 2, Threads: 3, MHz: 2300, Hypervisor: true}) {
		t.Errorf("cpuinfo: %+v", c)
	}
	arm := "processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n\nHardware\t: BCM2835\n"
	if c, err := ParseCPUInfo([]byte(arm)); err != nil || c.Cores != 2 || c.Threads != 2 || c.Model != "BCM2835" {
		t.Errorf("arm cpuinfo: %+v %v", c, err)
	}
	if _, err := ParseCPUInfo([]byte("garbage")); err == nil {
		t.Error("garbage cpuinfo: no error")
	}
	if n, err := ParseMemTotal([]byte("MemTotal:       24684096 kB\nMemFree: 1 kB\n")); err != nil || n != 24684096*1024 {
		t.Errorf("meminfo: %d %v", n, err)
	}
	for _, bad := range []string{"", "MemTotal: lots kB\n"} {
		if _, err := ParseMemTotal([]byte(bad)); err == nil {
			t.Errorf("ParseMemTotal(%q): no error", bad)
		}
	}
	ms, err := ParseMounts([]byte("/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/sdb1 /srv/my\\040data xfs rw 0 0\n/dev/vda / ext4 rw 0 0\ntmpfs /run tmpfs rw 0 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := DiskMounts(ms)
	if len(d) != 2 || d[1].Mountpoint != "/srv/my data" {
		t.Errorf("DiskMounts = %+v", d)
	}
	if _, err := ParseMounts([]byte("one two\n")); err == nil {
		t.Error("short mounts line: no error")
	}
	bt, err := ParseBootTime([]byte("cpu 1 2 3\nbtime 1795622534\n"))
	if err != nil || bt.Unix() != 1795622534 {
		t.Errorf("btime: %v %v", bt, err)
	}
	for _, bad := range []string{"cpu 1\n", "btime soon\n"} {
		if _, err := ParseBootTime([]byte(bad)); err == nil {
			t.Errorf("ParseBootTime(%q): no error", bad)
		}
	}
	if up, err := ParseUptime([]byte("851.27 1600.00\n")); err != nil || up != 851 {
		t.Errorf("uptime: %d %v", up, err)
	}
	if _, err := ParseUptime([]byte("x")); err == nil {
		t.Error("bad uptime: no error")
	}
	if !strings.Contains(clip(strings.Repeat("x", 100)), "...") {
		t.Error("clip does not shorten")
	}
}
