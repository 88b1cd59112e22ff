package pkgmgr

import (
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

func find(pkgs []scandoc.Package, name string) *scandoc.Package {
	for i := range pkgs {
		if pkgs[i].Name == name {
			return &pkgs[i]
		}
	}
	return nil
}

func TestParseRPMQuery(t *testing.T) {
	pkgs, err := ParseRPMQuery(read(t, "rpm-qa-rhel9.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 32 { // 34 lines, 2 of them gpg-pubkey
		t.Fatalf("got %d packages, want 32", len(pkgs))
	}
	if find(pkgs, "gpg-pubkey") != nil {
		t.Error("gpg-pubkey listed as software")
	}
	ssl := find(pkgs, "openssl")
	if ssl == nil || ssl.Version != "1:3.0.7-27.el9" || ssl.Architecture != "x86_64" || ssl.Publisher != "Red Hat, Inc." || ssl.Source != "rpm" {
		t.Errorf("openssl = %+v", ssl)
	}
	if want := time.Unix(1714033950, 0).UTC(); ssl.InstalledAt == nil || !ssl.InstalledAt.Equal(want) {
		t.Errorf("openssl installed at %v, want %v", ssl.InstalledAt, want)
	}
	if k := find(pkgs, "kernel"); k == nil || k.Version != "5.14.0-427.13.1.el9_4" {
		t.Errorf("kernel = %+v", k)
	}
	if a := find(pkgs, "amazon-ssm-agent"); a == nil || a.Publisher != "" {
		t.Errorf("vendor (none) should give no publisher: %+v", a)
	}
	for i := 1; i < len(pkgs); i++ {
		if pkgs[i-1].Name > pkgs[i].Name {
			t.Fatalf("not sorted: %s before %s", pkgs[i-1].Name, pkgs[i].Name)
		}
	}
}

func TestParseRPMQueryFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"default rpm -qa format", read(t, "rpm-qa-garbage.txt"), "line 1: 1 tab-separated fields"},
		{"truncated", read(t, "rpm-qa-truncated.txt"), "tab-separated fields, want 7"},
		{"empty", nil, "no packages"},
		{"blank lines only", []byte("\n\n"), "no packages"},
		{"bad install time", []byte("bash\t(none)\t5.1\t1\tx86_64\tyesterday\tRed Hat\n"), `install time "yesterday"`},
		{"bad epoch", []byte("bash\tone\t5.1\t1\tx86_64\t1\tRed Hat\n"), `epoch "one"`},
		{"binary", []byte("\x00\x01\x02\xff\tx"), "fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRPMQuery(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseNEVRA(t *testing.T) {
	for in, want := range map[string]NEVRA{
		"kernel-5.14.0-427.16.1.el9_4.x86_64":     {"kernel", "5.14.0-427.16.1.el9_4", "x86_64"},
		"vim-minimal-2:9.1.393-1.fc40.x86_64":     {"vim-minimal", "2:9.1.393-1.fc40", "x86_64"},
		"python3-setuptools-53.0.0-12.el9.noarch": {"python3-setuptools", "53.0.0-12.el9", "noarch"},
	} {
		got, err := ParseNEVRA(in)
		if err != nil || got != want {
			t.Errorf("ParseNEVRA(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "kernel", "kernel.x86_64", "kernel-5.14.x86_64", "-1-2.x86_64", "k-1-.x86_64", "k-1-2."} {
		if got, err := ParseNEVRA(bad); err == nil {
			t.Errorf("ParseNEVRA(%q) = %+v, want an error", bad, got)
		}
	}
}

func TestParseDNF(t *testing.T) {
	ups, err := ParseDNFCheckUpdate(read(t, "dnf-check-update-rhel9.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 13 {
		t.Fatalf("got %d updates, want 13 (the obsoletes section is not counted): %+v", len(ups), ups)
	}
	wrapped := ups[11]
	if wrapped.Name != "python3-setuptools-wheel-with-a-very-long-name" || wrapped.Arch != "noarch" || wrapped.Version != "53.0.0-12.el9_4.1" || wrapped.Repo != "rhel-9-for-x86_64-appstream-rpms" {
		t.Errorf("wrapped line parsed as %+v", wrapped)
	}
	advs, err := ParseDNFUpdateInfo(read(t, "dnf-updateinfo-security-rhel9.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 9 || advs[0].ID != "RHSA-2024:2394" || advs[0].Severity != "important" || advs[0].Package.Name != "kernel" {
		t.Fatalf("advisories = %+v", advs)
	}
	installed, err := ParseRPMVersions([]byte("kernel.x86_64\t(none)\t5.14.0\t427.13.1.el9_4\nNetworkManager.x86_64\t1\t1.46.0\t4.el9_4\npackage nosuch.x86_64 is not installed\n"))
	if err != nil {
		t.Fatal(err)
	}
	merged := MergeDNF(ups, advs, installed)
	byName := map[string]scandoc.Update{}
	for _, u := range merged {
		byName[u.Name] = u
	}
	for name, want := range map[string]scandoc.Update{
		"kernel":         {Name: "kernel", CurrentVersion: "5.14.0-427.13.1.el9_4", Version: "5.14.0-427.16.1.el9_4", Source: "dnf", Origin: "rhel-9-for-x86_64-baseos-rpms", Security: true, Severity: "important"},
		"curl":           {Name: "curl", Version: "7.76.1-29.el9_4.1", Source: "dnf", Origin: "rhel-9-for-x86_64-baseos-rpms", Security: true, Severity: "critical"},
		"libcurl":        {Name: "libcurl", Version: "7.76.1-29.el9_4.1", Source: "dnf", Origin: "rhel-9-for-x86_64-baseos-rpms", Security: true, Severity: "unknown"},
		"NetworkManager": {Name: "NetworkManager", CurrentVersion: "1:1.46.0-4.el9_4", Version: "1:1.46.0-8.el9_4", Source: "dnf", Origin: "rhel-9-for-x86_64-baseos-rpms"},
		"tzdata":         {Name: "tzdata", Version: "2024a-2.el9", Source: "dnf", Origin: "rhel-9-for-x86_64-baseos-rpms"},
	} {
		if got := byName[name]; got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

func TestParseDNF5Advisories(t *testing.T) {
	advs, err := ParseDNFUpdateInfo(read(t, "dnf5-advisory-list-security.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(advs) != 3 || advs[1].Severity != "important" || advs[1].Package.Name != "kernel" || advs[2].Severity != "unknown" || advs[2].Package.Version != "2:9.1.393-1.fc40" {
		t.Fatalf("advisories = %+v", advs)
	}
}

func TestParseDNFFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"html", string(read(t, "dnf-check-update-garbage.txt")), "columns, want 3"},
		{"no arch", "kernel 5.14.0-1 baseos\n", `"kernel" is not name.arch`},
		{"no release", "kernel.x86_64 5.14.0 baseos\n", "not version-release"},
		{"truncated", "kernel.x86_64       5.14.0-427.16.1.el9_4", "2 columns"},
		{"orphan continuation", "    5.14.0-1 baseos\n", "nothing to continue"},
		{"too many", "a.x86_64 1-1 repo extra\n", "4 columns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseDNFCheckUpdate([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// dnf wraps whichever column overflows: here the repository.
	wrapped, err := ParseDNFCheckUpdate([]byte("libreoffice-langpack-en.x86_64 1:7.1.8.1-12.el9_3\n                                                   rhel-9-for-x86_64-appstream-rpms\nbash.x86_64 5.1.8-9.el9_4 baseos\n"))
	if err != nil || len(wrapped) != 2 || wrapped[0].Repo != "rhel-9-for-x86_64-appstream-rpms" || wrapped[0].Version != "1:7.1.8.1-12.el9_3" || wrapped[1].Name != "bash" {
		t.Errorf("repository wrapped: %+v %v", wrapped, err)
	}
	if ups, err := ParseDNFCheckUpdate(nil); err != nil || len(ups) != 0 {
		t.Errorf("empty output: %v, %v", ups, err)
	}
	for _, bad := range []string{"RHSA-1 Important/Sec.\n", "RHSA-1 Important/Sec. notanevra\n", "x y z w v u t\n"} {
		if _, err := ParseDNFUpdateInfo([]byte(bad)); err == nil {
			t.Errorf("ParseDNFUpdateInfo(%q): no error", bad)
		}
	}
	if _, err := ParseRPMVersions([]byte("kernel 5\n")); err == nil {
		t.Error("ParseRPMVersions accepted garbage")
	}
}

func TestParseAPKInstalled(t *testing.T) {
	pkgs, err := ParseAPKInstalled(read(t, "apk-installed-alpine319"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 17 {
		t.Fatalf("got %d packages, want 17", len(pkgs))
	}
	musl := find(pkgs, "musl")
	if musl == nil || musl.Version != "1.2.4_git20230717-r4" || musl.Architecture != "x86_64" || musl.Source != "apk" || musl.Publisher != "Timo Teräs <timo.teras@iki.fi>" || musl.InstalledAt != nil {
		t.Errorf("musl = %+v", musl)
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"truncated", read(t, "apk-installed-truncated"), "truncated"},
		{"garbage", read(t, "apk-installed-garbage"), `line 3: not a "K:value" line`},
		{"empty", nil, "no packages"},
		{"no version", []byte("P:musl\nA:x86_64\n\n"), "no P: (name) or V: (version)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAPKInstalled(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseAPKVersion(t *testing.T) {
	ups, err := ParseAPKVersion(read(t, "apk-version-alpine319.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 6 {
		t.Fatalf("got %d updates, want 6", len(ups))
	}
	want := scandoc.Update{Name: "py3-3to2", CurrentVersion: "1.1.1-r11", Version: "1.1.1-r12", Source: "apk"}
	if ups[4] != want {
		t.Errorf("got %+v, want %+v", ups[4], want)
	}
	if ups, err := ParseAPKVersion([]byte("Installed:                                Available:\n")); err != nil || len(ups) != 0 {
		t.Errorf("header only: %v %v", ups, err)
	}
	for _, bad := range []string{"busybox < 1.2-r1\n", "busybox-1.36.1-r15 ~ 1.36.1-r19\n", "busybox-1.36.1-r15\n", "busybox-1.36-1 < 2-r0\n"} {
		if _, err := ParseAPKVersion([]byte(bad)); err == nil {
			t.Errorf("ParseAPKVersion(%q): no error", bad)
		}
	}
}

func TestParseSnapList(t *testing.T) {
	pkgs, err := ParseSnapList(read(t, "snap-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 5 {
		t.Fatalf("got %d snaps, want 5", len(pkgs))
	}
	if lxd := find(pkgs, "lxd"); lxd == nil || lxd.Version != "5.21.1-d46c406" || lxd.Publisher != "canonical" || lxd.Source != "snap" {
		t.Errorf("lxd = %+v", lxd)
	}
	if d := find(pkgs, "some-tool"); d == nil || d.Publisher != "devuser" {
		t.Errorf("some-tool = %+v", d)
	}
	all, err := ParseSnapList(read(t, "snap-list-all.txt"))
	if err != nil || len(all) != 2 || all[0].Version != "20240111" || all[0].Publisher != "canonical" {
		t.Errorf("--all: %+v %v (disabled revisions must be skipped)", all, err)
	}
	if none, err := ParseSnapList([]byte("No snaps are installed yet. Try 'snap install hello-world'.\n")); err != nil || len(none) != 0 {
		t.Errorf("no snaps: %v %v", none, err)
	}
	for _, bad := range [][]byte{read(t, "snap-list-garbage.txt"), []byte("Name Version Rev Tracking Publisher Notes\ncore22 2024\n")} {
		if _, err := ParseSnapList(bad); err == nil {
			t.Errorf("ParseSnapList(%q): no error", bad)
		}
	}
}

func TestParseFlatpakList(t *testing.T) {
	pkgs, err := ParseFlatpakList(read(t, "flatpak-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 4 {
		t.Fatalf("got %d, want 4", len(pkgs))
	}
	if p := find(pkgs, "org.freedesktop.Platform"); p == nil || p.Version != "23.08" || p.Publisher != "flathub" || p.Architecture != "x86_64" {
		t.Errorf("runtime without version = %+v", p)
	}
	if p := find(pkgs, "org.mozilla.firefox"); p == nil || p.Version != "125.0.3" {
		t.Errorf("firefox = %+v", p)
	}
	if _, err := ParseFlatpakList(read(t, "flatpak-list-garbage.txt")); err == nil || !strings.Contains(err.Error(), "1 tab-separated") {
		t.Errorf("space-separated table: %v", err)
	}
	if p, err := ParseFlatpakList(nil); err != nil || len(p) != 0 {
		t.Errorf("empty: %v %v", p, err)
	}
}

func TestParseNeedsRestarting(t *testing.T) {
	got := strings.Join(ParseNeedsRestarting(read(t, "needs-restarting-yes.txt")), ",")
	if got != "glibc,kernel,systemd" {
		t.Errorf("got %q", got)
	}
	if got := ParseNeedsRestarting(read(t, "needs-restarting-no.txt")); len(got) != 0 {
		t.Errorf("got %q", got)
	}
}
