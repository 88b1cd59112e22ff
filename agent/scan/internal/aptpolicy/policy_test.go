package aptpolicy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// A list set: archives with their Release fields and packages, pins, and
// the installed packages; want is the pending updates as name=version
// (security ones marked "!"), checked against apt itself when apt is here.
type listCase struct {
	name      string
	archives  []archive
	prefs     string
	installed []Installed
	want      []string
}

type archive struct {
	site, suite, release string   // release: extra Release fields
	packages             []string // "name arch version"
}

var main12 = archive{"deb.example.org", "bookworm", "Origin: Debian\nLabel: Debian\nSuite: stable\nVersion: 12.5\nCodename: bookworm\n", nil}

func arch(a archive, pkgs ...string) archive { a.packages = pkgs; return a }

var security = archive{"security.example.org", "bookworm-security", "Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nVersion: 12\nCodename: bookworm-security\n", nil}
var backports = archive{"deb.example.org", "bookworm-backports", "Origin: Debian Backports\nLabel: Debian Backports\nSuite: stable-backports\nVersion: \nCodename: bookworm-backports\nNotAutomatic: yes\nButAutomaticUpgrades: yes\n", nil}
var experimental = archive{"deb.example.org", "experimental", "Origin: Debian\nLabel: Debian\nSuite: experimental\nCodename: rc-buggy\nNotAutomatic: yes\n", nil}
var vendor = archive{"vendor.example.com", "nodistro", "Origin: Vendor\nLabel: Vendor\nSuite: nodistro\nCodename: nodistro\n", nil}

var listCases = []listCase{
	{name: "newer in main and security",
		archives: []archive{
			arch(main12, "bash amd64 5.2-2", "curl amd64 7.88-1", "tzdata all 2024a-1"),
			arch(security, "curl amd64 7.88-1+deb12u1", "tzdata all 2024b-0+deb12u1"),
		},
		installed: []Installed{{"bash", "amd64", "5.2-1"}, {"curl", "amd64", "7.88-1"}, {"tzdata", "all", "2024a-1"}, {"gone", "amd64", "1.0"}},
		want:      []string{"bash=5.2-2", "curl=7.88-1+deb12u1!", "tzdata=2024b-0+deb12u1!"}},
	{name: "NotAutomatic archives are not candidates, ButAutomaticUpgrades upgrades what came from them",
		archives: []archive{
			arch(main12, "vim amd64 9.0-1", "git amd64 2.39-1"),
			arch(backports, "vim amd64 9.1-1~bpo12", "git amd64 2.45-1~bpo12"),
			arch(experimental, "vim amd64 9.2-1"),
		},
		installed: []Installed{{"vim", "amd64", "9.0-1"}, {"git", "amd64", "2.43-1~bpo12"}},
		want:      []string{"git=2.45-1~bpo12"}},
	{name: "an origin pin above 500 wins over a higher version",
		archives: []archive{
			arch(main12, "nodejs amd64 18.19-1"),
			arch(vendor, "nodejs amd64 20.11-1nodesource1"),
		},
		prefs:     "Package: nodejs\nPin: origin vendor.example.com\nPin-Priority: 600\n",
		installed: []Installed{{"nodejs", "amd64", "18.13-1"}},
		want:      []string{"nodejs=20.11-1nodesource1"}},
	{name: "a negative pin forbids, a version pin holds",
		archives: []archive{
			arch(main12, "openssl amd64 3.0.11-1", "libc6 amd64 2.36-9"),
			arch(security, "openssl amd64 3.0.13-1~deb12u1", "libc6 amd64 2.36-9+deb12u4"),
		},
		prefs: "Package: openssl\nPin: release l=Debian-Security\nPin-Priority: -1\n\n" +
			"Package: libc6\nPin: version 2.36-9\nPin-Priority: 990\n",
		installed: []Installed{{"openssl", "amd64", "3.0.9-1"}, {"libc6", "amd64", "2.36-8"}},
		want:      []string{"libc6=2.36-9", "openssl=3.0.11-1"}},
	{name: "a general release pin lowers a whole archive",
		archives: []archive{
			arch(main12, "zsh amd64 5.9-4"),
			arch(vendor, "zsh amd64 5.9-9"),
		},
		prefs:     "Explanation: keep the vendor archive for what we ask by hand\nPackage: *\nPin: release o=Vendor\nPin-Priority: 100\n",
		installed: []Installed{{"zsh", "amd64", "5.9-3"}},
		want:      []string{"zsh=5.9-4"}},
}

// writeTree lays a list set out as apt keeps it under root.
func writeTree(t *testing.T, root string, c listCase) {
	t.Helper()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var sources strings.Builder
	for _, a := range c.archives {
		prefix := a.site + "_debian_dists_" + a.suite
		write("var/lib/apt/lists/"+prefix+"_Release", a.release+"Architectures: amd64\nComponents: main\n")
		var pk strings.Builder
		for _, p := range a.packages {
			f := strings.Fields(p)
			fmt.Fprintf(&pk, "Package: %s\nArchitecture: %s\nVersion: %s\nMaintainer: x <x@example.org>\nDescription: test\n\n", f[0], f[1], f[2])
		}
		write("var/lib/apt/lists/"+prefix+"_main_binary-amd64_Packages", pk.String())
		fmt.Fprintf(&sources, "deb [trusted=yes arch=amd64] http://%s/debian %s main\n", a.site, a.suite)
	}
	write("etc/apt/sources.list", sources.String())
	write("etc/apt/preferences", c.prefs)
	var st strings.Builder
	for _, in := range c.installed {
		fmt.Fprintf(&st, "Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: %s\nVersion: %s\nMaintainer: x <x@example.org>\nDescription: test\n\n", in.Name, in.Arch, in.Version)
	}
	write("var/lib/dpkg/status", st.String())
	write("var/lib/dpkg/available", "")
}

func render(us []Update) []string {
	var out []string
	for _, u := range us {
		s := u.Name + "=" + u.Version
		if u.Security {
			s += "!"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestListSets(t *testing.T) {
	aptPath, _ := exec.LookPath("apt")
	for _, c := range listCases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, c)
			got, err := Pending(Options{FS: os.DirFS(root), Arch: "amd64"}, c.installed)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(render(got), c.want) {
				t.Errorf("pending %v, want %v", render(got), c.want)
			}
			if aptPath == "" {
				return
			}
			// The oracle: apt itself on the same tree.
			cmd := exec.Command(aptPath, "list", "--upgradable", "-o", "Dir="+root+"/",
				"-o", "Dir::State::status="+root+"/var/lib/dpkg/status",
				"-o", "Dir::Etc::preferencesparts="+root+"/etc/apt/preferences.d",
				"-o", "Dir::Etc::sourceparts="+root+"/etc/apt/sources.list.d",
				"-o", "Dir::Cache="+root+"/var/cache/apt", "-o", "APT::Architecture=amd64",
				"-o", "APT::Architectures::=amd64", "-o", "Debug::NoLocking=1")
			cmd.Env = append(os.Environ(), "LC_ALL=C")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Logf("apt on the tree failed (%v): %s", err, out)
				return
			}
			var apt []string
			for _, line := range strings.Split(string(out), "\n") {
				f := strings.Fields(line)
				if len(f) < 3 || !strings.Contains(f[0], "/") || !strings.Contains(line, "upgradable") {
					continue
				}
				name, suites, _ := strings.Cut(f[0], "/")
				s := name + "=" + f[1]
				if strings.Contains(suites, "-security") {
					s += "!"
				}
				apt = append(apt, s)
			}
			sort.Strings(apt)
			if !reflect.DeepEqual(apt, c.want) {
				t.Errorf("apt itself says %v on this list set, the case wants %v:\n%s", apt, c.want, out)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, listCases[0])
	if err := os.MkdirAll(filepath.Join(root, "etc/apt/apt.conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "etc/apt/apt.conf.d/10release"), []byte(`APT::Default-Release "stable";`+"\n"), 0o644)
	_, err := Pending(Options{FS: os.DirFS(root), Arch: "amd64"}, listCases[0].installed)
	if err == nil || !strings.Contains(err.Error(), "Default-Release") {
		t.Errorf("Default-Release: %v", err)
	}
	os.Remove(filepath.Join(root, "etc/apt/apt.conf.d/10release"))
	os.WriteFile(filepath.Join(root, "etc/apt/preferences"), []byte("Package: x\nPin: something odd\nPin-Priority: 5\n"), 0o644)
	if _, err := Pending(Options{FS: os.DirFS(root), Arch: "amd64"}, nil); err == nil || !strings.Contains(err.Error(), "something odd") {
		t.Errorf("odd pin: %v", err)
	}
}
