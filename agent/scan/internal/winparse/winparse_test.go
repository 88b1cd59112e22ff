package winparse

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestOS(t *testing.T) {
	for _, tc := range []struct {
		file string
		want scandoc.OS
	}{
		{"currentversion-win11-23h2.json", scandoc.OS{Family: "windows", Name: "Windows 11 Pro", ID: "windows", Version: "10.0.22631", VersionName: "23H2", Build: "22631.3593", Kernel: "10.0.22631.3593", Architecture: "amd64", PrettyName: "Windows 11 Pro 23H2 (build 22631.3593)"}},
		{"currentversion-win10-22h2.json", scandoc.OS{Family: "windows", Name: "Windows 10 Enterprise", ID: "windows", Version: "10.0.19045", VersionName: "22H2", Build: "19045.4412", Kernel: "10.0.19045.4412", Architecture: "amd64", PrettyName: "Windows 10 Enterprise 22H2 (build 19045.4412)"}},
		{"currentversion-server2022.json", scandoc.OS{Family: "windows", Name: "Windows Server 2022 Datacenter", ID: "windows", Version: "10.0.20348", VersionName: "21H2", Build: "20348.2461", Kernel: "10.0.20348.2461", Architecture: "amd64", PrettyName: "Windows Server 2022 Datacenter 21H2 (build 20348.2461)"}},
		{"currentversion-win10-1909-arm64.json", scandoc.OS{Family: "windows", Name: "Windows 10 Home", ID: "windows", Version: "10.0.18363", VersionName: "1909", Build: "18363.1556", Kernel: "10.0.18363.1556", Architecture: "arm64", PrettyName: "Windows 10 Home 1909 (build 18363.1556)"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := read(t, tc.file)
			var cv CurrentVersion
			var env struct {
				Arch string `json:"PROCESSOR_ARCHITECTURE"`
			}
			if err := json.Unmarshal(b, &cv); err != nil {
				t.Fatal(err)
			}
			json.Unmarshal(b, &env)
			got, err := OS(cv, env.Arch)
			if err != nil {
				t.Fatal(err)
			}
			if got.Family != tc.want.Family || got.Name != tc.want.Name || got.Version != tc.want.Version || got.VersionName != tc.want.VersionName ||
				got.Build != tc.want.Build || got.Kernel != tc.want.Kernel || got.Architecture != tc.want.Architecture || got.PrettyName != tc.want.PrettyName || got.ID != tc.want.ID {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if _, err := OS(CurrentVersion{}, "AMD64"); err == nil {
		t.Error("empty CurrentVersion accepted")
	}
	if _, err := OS(CurrentVersion{ProductName: "Windows 10 Pro", CurrentBuild: "abc"}, ""); err == nil || !strings.Contains(err.Error(), `"abc"`) {
		t.Errorf("bad build: %v", err)
	}
}

func TestSoftware(t *testing.T) {
	var entries []UninstallEntry
	if err := json.Unmarshal(read(t, "uninstall.json"), &entries); err != nil {
		t.Fatal(err)
	}
	pkgs := Software(entries)
	var names []string
	for _, p := range pkgs {
		names = append(names, p.Name+"|"+p.Architecture+"|"+p.Source)
	}
	want := []string{
		"7-Zip 23.01 (x64)|x64|registry",
		"Adobe Acrobat Reader DC|x86|msi",
		"Google Chrome||registry", // per-user copies (same name and version) once
		"Google Chrome|x64|registry",
		"Microsoft Teams classic||registry",
		"Microsoft Visual C++ 2015-2022 Redistributable (x86) - 14.38.33135|x86|registry",
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	for _, p := range pkgs {
		switch p.Name {
		case "Adobe Acrobat Reader DC":
			if p.InstalledAt == nil || !p.InstalledAt.Equal(time.Date(2024, 5, 14, 0, 0, 0, 0, time.UTC)) || p.Version != "24.002.20759" || p.Publisher != "Adobe" {
				t.Errorf("acrobat = %+v", p)
			}
		case "Microsoft Teams classic":
			if p.InstalledAt != nil {
				t.Errorf("a non-YYYYMMDD install date was taken: %v", p.InstalledAt)
			}
		}
	}
	if got := Software(nil); len(got) != 0 {
		t.Errorf("no entries: %v", got)
	}
}

func TestHotFixes(t *testing.T) {
	ps51, err := HotFixes(read(t, "hotfix-ps51.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps51) != 4 || ps51[2].ID != "KB5036893" || ps51[2].Title != "Security Update" || ps51[2].Source != "hotfix" {
		t.Fatalf("ps51 = %+v", ps51)
	}
	if want := time.Date(2024, 4, 13, 0, 0, 0, 0, time.UTC); ps51[2].InstalledAt == nil || !ps51[2].InstalledAt.Equal(want) {
		t.Errorf("installed %v, want %v", ps51[2].InstalledAt, want)
	}
	if ps51[3].InstalledAt != nil {
		t.Errorf("null InstalledOn gave %v", ps51[3].InstalledAt)
	}
	ps7, err := HotFixes(read(t, "hotfix-ps7.json"))
	if err != nil || len(ps7) != 2 || ps7[0].InstalledAt == nil || !ps7[0].InstalledAt.Equal(*ps51[2].InstalledAt) {
		t.Fatalf("ps7 = %+v, %v", ps7, err)
	}
	one, err := HotFixes(read(t, "hotfix-single.json"))
	if err != nil || len(one) != 1 || one[0].InstalledAt == nil || !one[0].InstalledAt.Equal(*ps51[2].InstalledAt) {
		t.Fatalf("single = %+v, %v", one, err)
	}
	for _, empty := range []string{"", "  \r\n", "null", "[]", "\xef\xbb\xbf[]"} {
		if got, err := HotFixes([]byte(empty)); err != nil || len(got) != 0 {
			t.Errorf("HotFixes(%q) = %v, %v", empty, got, err)
		}
	}
	for _, tc := range []struct{ name, in, want string }{
		{"truncated", string(read(t, "hotfix-truncated.json")), "Get-HotFix JSON"},
		{"garbage", string(read(t, "hotfix-garbage.txt")), "not JSON"},
		{"truncated object", `{"HotFixID":"KB1"`, "truncated"},
		{"no id", `[{"Description":"Update"}]`, "no HotFixID"},
		{"bad date", `[{"HotFixID":"KB1","InstalledOn":"yesterday"}]`, `"yesterday": unknown format`},
		{"date not string", `[{"HotFixID":"KB1","InstalledOn":42}]`, "not a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := HotFixes([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestUpdates(t *testing.T) {
	ups, err := Updates(read(t, "wua-search.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 5 {
		t.Fatalf("got %d updates", len(ups))
	}
	want := []struct {
		kb       string
		security bool
		severity string
	}{
		{"KB5037771", true, "critical"},
		{"KB2267602", false, ""}, // definition update: no MSRC severity, not under Security Updates
		{"KB5037591", true, "important"},
		{"", false, ""},
		{"KB890830", false, ""},
	}
	for i, w := range want {
		u := ups[i]
		if u.KB != w.kb || u.Security != w.security || u.Severity != w.severity || u.Source != "windowsupdate" {
			t.Errorf("update %d = %+v, want %+v", i, u, w)
		}
	}
	if ups[0].Origin != "Security Updates, Windows 11" || ups[1].Version != "200" {
		t.Errorf("origin %q version %q", ups[0].Origin, ups[1].Version)
	}
	one, err := Updates(read(t, "wua-single.json"))
	if err != nil || len(one) != 1 || !one[0].Security || one[0].Severity != "moderate" || one[0].KB != "KB5037782" {
		t.Fatalf("single = %+v %v", one, err)
	}
	if got, err := Updates(nil); err != nil || len(got) != 0 {
		t.Errorf("no output: %v %v", got, err)
	}
	for _, bad := range []string{string(read(t, "wua-garbage.json")), `[{"KBArticleIDs":["1"]}]`, `Exception from HRESULT: 0x8024402C`, `[{"Title":"x"`} {
		if _, err := Updates([]byte(bad)); err == nil {
			t.Errorf("Updates(%q): no error", bad)
		}
	}
}

func TestReboot(t *testing.T) {
	if r := Reboot(RebootState{}); r.Required || len(r.Reasons) != 0 || r.Reasons == nil {
		t.Errorf("nothing pending: %+v", r)
	}
	if r := Reboot(RebootState{PendingRenames: []string{"", " "}}); r.Required {
		t.Errorf("empty rename list counted: %+v", r)
	}
	r := Reboot(RebootState{WindowsUpdate: true, CBS: true, PendingRenames: []string{`\??\C:\Windows\Temp\a.dll`, "", `\??\C:\x`, ""}})
	if !r.Required || len(r.Reasons) != 3 || !strings.Contains(r.Reasons[2], "lists 2 path(s)") {
		t.Errorf("all pending: %+v", r)
	}
}

func TestLastLoggedOnUser(t *testing.T) {
	for in, want := range map[string]string{`CORP\jdoe`: `CORP\jdoe`, `.\admin`: "admin", "jdoe@corp.example": "jdoe@corp.example", "": ""} {
		if got := LastLoggedOnUser(in); got != want {
			t.Errorf("LastLoggedOnUser(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVirtual(t *testing.T) {
	for _, tc := range []struct{ m, p, want string }{
		{"Amazon EC2", "t3.large", "aws"},
		{"Microsoft Corporation", "Virtual Machine", "hyperv"},
		{"Microsoft Corporation", "Surface Laptop 5", ""},
		{"VMware, Inc.", "VMware20,1", "vmware"},
		{"Xen", "HVM domU", "xen"},
		{"QEMU", "Standard PC (Q35 + ICH9, 2009)", "kvm"},
		{"innotek GmbH", "VirtualBox", "virtualbox"},
		{"Google", "Google Compute Engine", "gce"},
		{"Dell Inc.", "Latitude 7440", ""},
		{"", "", ""},
	} {
		if got := Virtual(tc.m, tc.p); got != tc.want {
			t.Errorf("Virtual(%q, %q) = %q, want %q", tc.m, tc.p, got, tc.want)
		}
	}
}
