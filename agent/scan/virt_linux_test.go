//go:build linux

package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVirtualizationRecordedInputs runs GetVirtualization on one recorded
// tree per hypervisor, cloud and container (testdata/virt/README.md says
// where each signature comes from).
func TestVirtualizationRecordedInputs(t *testing.T) {
	cases := []struct {
		dir                                   string
		hypervisor, cloud, container, sandbox string
	}{
		{"kvm-qemu", "kvm", "", "", ""},
		{"kvm-firecracker", "kvm", "", "", ""},
		{"xen-pv", "xen", "", "", ""},
		{"xen-hvm", "xen", "", "", ""},
		{"vmware", "vmware", "", "", ""},
		{"hyperv", "hyperv", "", "", ""},
		{"azure", "hyperv", "azure", "", ""},
		{"ec2-nitro", "kvm", "aws", "", ""},
		{"ec2-xen", "xen", "aws", "", ""},
		{"gce", "kvm", "gce", "", ""},
		{"docker", "kvm", "", "docker", ""},
		{"docker-cgroup", "", "", "docker", ""},
		{"podman", "", "", "podman", ""},
		{"kubernetes", "unknown", "", "kubernetes", ""},
		{"lxc", "", "", "lxc", ""},
		{"gvisor-docker", "unknown", "", "docker", "gvisor"},
		{"gvisor", "unknown", "", "gvisor", "gvisor"},
		{"wsl", "hyperv", "", "wsl", ""},
		{"baremetal", "", "", "", ""},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			seen[c.dir] = true
			env := &Env{FS: os.DirFS(filepath.Join("testdata", "virt", c.dir))}
			v, err := linuxVirtualization(t.Context(), env)
			if err != nil {
				t.Fatal(err)
			}
			if v.Hypervisor != c.hypervisor || v.Cloud != c.cloud || v.Container != c.container || v.Sandbox != c.sandbox {
				t.Errorf("got hypervisor %q cloud %q container %q sandbox %q, want %q %q %q %q (evidence %q)",
					v.Hypervisor, v.Cloud, v.Container, v.Sandbox, c.hypervisor, c.cloud, c.container, c.sandbox, v.Evidence)
			}
			if (v.Hypervisor != "" || v.Container != "") && len(v.Evidence) == 0 {
				t.Error("a conclusion without evidence")
			}
			for _, e := range v.Evidence {
				if strings.TrimSpace(e) == "" {
					t.Errorf("empty evidence in %q", v.Evidence)
				}
			}
		})
	}
	ents, _ := os.ReadDir(filepath.Join("testdata", "virt"))
	for _, e := range ents {
		if e.IsDir() && !seen[e.Name()] {
			t.Errorf("testdata/virt/%s has no test case", e.Name())
		}
	}
}
