package macparse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSwVers(t *testing.T) {
	n, v, b, err := SwVers(read(t, "sw_vers-14.5.txt"))
	if err != nil || n != "macOS" || v != "14.5" || b != "23F79" || ReleaseName(v) != "Sonoma" {
		t.Fatalf("%q %q %q %v", n, v, b, err)
	}
	_, v, b, err = SwVers(read(t, "sw_vers-13-rsr.txt"))
	if err != nil || v != "13.4.1" || b != "22F770820d" || ReleaseName(v) != "Ventura" {
		t.Fatalf("rsr: %q %q %v", v, b, err)
	}
	for _, bad := range []string{"", "sw_vers: command not found\n", "ProductName:\tmacOS\nProductVersion:\t14.5\n"} {
		if _, _, _, err := SwVers([]byte(bad)); err == nil {
			t.Errorf("SwVers(%q): no error", bad)
		}
	}
	if ReleaseName("10.15.7") != "" {
		t.Error("unknown release named")
	}
}

func TestSystemProfile(t *testing.T) {
	p, err := SystemProfile(read(t, "system_profiler-hw-sw-m2.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := p.Hardware
	if h.Model != "MacBook Air (Mac14,2)" || h.Serial != "C02ZX1ABCD12" || h.CPU.Model != "Apple M2" || h.CPU.Cores != 8 || h.MemoryBytes != 16<<30 || h.BIOSVersion != "10151.121.1" || h.Vendor != "Apple Inc." {
		t.Errorf("m2 = %+v", h)
	}
	if p.UserName != "Jane Appleseed (jane)" || p.Kernel != "Darwin 23.5.0" {
		t.Errorf("software overview: %q %q", p.UserName, p.Kernel)
	}
	p, err = SystemProfile(read(t, "system_profiler-hw-intel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if h := p.Hardware; h.CPU.Model != "Quad-Core Intel Core i7" || h.CPU.Cores != 4 || h.CPU.MHz != 2300 || h.MemoryBytes != 32<<30 || h.Serial != "C02DX2YZMD6M" {
		t.Errorf("intel = %+v", h)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"truncated", string(read(t, "system_profiler-truncated.json")), "unexpected end of JSON"},
		{"garbage", "2024-05-16 10:00:00.000 system_profiler[123:456] error\n", "invalid character"},
		{"empty object", "{}", "no SPHardwareDataType"},
		{"empty entry", `{"SPHardwareDataType":[{"_name":"hardware_overview"}]}`, "no model, serial or processor"},
		{"bad memory", `{"SPHardwareDataType":[{"machine_model":"Mac14,2","physical_memory":"lots"}]}`, "physical_memory"},
		{"bad processors", `{"SPHardwareDataType":[{"machine_model":"Mac14,2","number_processors":"many"}]}`, "number_processors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := SystemProfile([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestApplications(t *testing.T) {
	apps, err := Applications(read(t, "system_profiler-apps.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range apps {
		got = append(got, a.Name+"|"+a.Version+"|"+a.Architecture+"|"+a.Publisher)
	}
	want := "Google Chrome|124.0.6367.208|universal|Google LLC\nOldTool|1.0|x86_64|\nSafari|17.5|universal|Apple\nXcode|15.3|universal|Mac App Store"
	if strings.Join(got, "\n") != want {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	if apps[0].InstalledAt == nil || !apps[0].InstalledAt.Equal(time.Date(2024, 5, 15, 7, 20, 31, 0, time.UTC)) || apps[0].Source != "app" {
		t.Errorf("chrome = %+v", apps[0])
	}
	for _, bad := range []string{"", "{}", `{"SPApplicationsDataType":[{"version":"1"}]}`, `{"SPApplicationsDataType":[`} {
		if _, err := Applications([]byte(bad)); err == nil {
			t.Errorf("Applications(%q): no error", bad)
		}
	}
}

func TestHistory(t *testing.T) {
	loc := time.FixedZone("CEST", 2*3600)
	ps, err := History(read(t, "softwareupdate-history.txt"), loc)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 5 || ps[1].Title != "macOS Sonoma 14.5" || ps[1].ID != "macOS Sonoma 14.5 14.5" || ps[1].Source != "softwareupdate" {
		t.Fatalf("history = %+v", ps)
	}
	if want := time.Date(2024, 5, 14, 7, 31, 22, 0, time.UTC); ps[1].InstalledAt == nil || !ps[1].InstalledAt.Equal(want) {
		t.Errorf("installed %v, want %v", ps[1].InstalledAt, want)
	}
	if ps, err := History(nil, loc); err != nil || len(ps) != 0 {
		t.Errorf("empty: %v %v", ps, err)
	}
	for _, bad := range []string{"softwareupdate: unrecognized option\n", "Display Name    Version\n", "Display Name    Version    Date\nabc\n"} {
		if _, err := History([]byte(bad), loc); err == nil {
			t.Errorf("History(%q): no error", bad)
		}
	}
}

func TestPendingList(t *testing.T) {
	ps, err := PendingList(read(t, "softwareupdate-l.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 4 {
		t.Fatalf("got %d: %+v", len(ps), ps)
	}
	if p := ps[0]; p.Label != "macOS Sonoma 14.6-23G80" || p.Title != "macOS Sonoma 14.6" || p.Version != "14.6" || !p.Recommended || !p.Restart {
		t.Errorf("macOS = %+v", p)
	}
	if p := ps[1]; p.Recommended || p.Restart {
		t.Errorf("CLT = %+v", p)
	}
	if p := ps[3]; p.Title != "Pro Video Formats, Update" || p.Version != "2.3" {
		t.Errorf("comma in title: %+v", p)
	}
	ups := Updates(ps)
	sec := []bool{true, false, true, false}
	for i, u := range ups {
		if u.Security != sec[i] || u.Source != "softwareupdate" {
			t.Errorf("update %d = %+v, security want %v", i, u, sec[i])
		}
	}
	if !strings.Contains(ups[0].Origin, "restart required") || strings.Contains(ups[1].Origin, "restart") {
		t.Errorf("origins %q %q", ups[0].Origin, ups[1].Origin)
	}
	for _, none := range [][]byte{read(t, "softwareupdate-l-none.txt"), nil, []byte("No new software available.\n")} {
		if ps, err := PendingList(none); err != nil || len(ps) != 0 {
			t.Errorf("PendingList(%q) = %v %v", none, ps, err)
		}
	}
	if _, err := PendingList(read(t, "softwareupdate-l-truncated.txt")); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: %v", err)
	}
	if _, err := PendingList([]byte("<html>proxy error</html>")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestLast(t *testing.T) {
	loc := time.UTC
	now := time.Date(2024, 5, 16, 12, 0, 0, 0, time.UTC)
	u, err := Last(read(t, "last.txt"), now, loc)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "jane" || u.Terminal != "ttys001" || !u.Time.Equal(time.Date(2024, 5, 16, 10, 2, 0, 0, time.UTC)) {
		t.Errorf("last = %+v", u)
	}
	if len(u.Current) != 2 || u.Current[1].Terminal != "console" {
		t.Errorf("current = %+v", u.Current)
	}
	// In January, a December logon is from the previous year.
	u, err = Last([]byte("bob       console                   Sun Dec 31 23:00 - 23:59  (00:59)\n"), time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), loc)
	if err != nil || !u.Time.Equal(time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("year rollover: %+v %v", u, err)
	}
	// Host names are kept.
	u, _ = Last([]byte("admin     ttys000  192.168.1.20     Wed May 15 14:03 - 14:10  (00:07)\n"), now, loc)
	if u.Host != "192.168.1.20" {
		t.Errorf("host = %q", u.Host)
	}
	if u, err := Last(nil, now, loc); err != nil || u.Name != "" || u.Current == nil {
		t.Errorf("empty: %+v %v", u, err)
	}
	for _, bad := range []string{"jane console\n", "jane console Thu Mayo 16 10:02\n", "jane console Thu May\n"} {
		if _, err := Last([]byte(bad), now, loc); err == nil {
			t.Errorf("Last(%q): no error", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"16 GB": 16 << 30, "512 MB": 512 << 20, "1.5 TB": 3 << 39} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "16", "16 XB", "-1 GB", "x GB"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q): no error", bad)
		}
	}
}
