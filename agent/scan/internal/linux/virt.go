package linux

import (
	"slices"
	"strings"
)

// VirtInput is what the virtualization and container detection looks at,
// every field read from one file (empty when absent or unreadable).
type VirtInput struct {
	// DMI attributes (/sys/class/dmi/id/...).
	SysVendor, ProductName, ProductVersion, BIOSVendor, BIOSVersion, BoardVendor, ChassisAssetTag string
	// HypervisorType is /sys/hypervisor/type ("xen" in Xen guests).
	HypervisorType string
	// HypervisorFlag is the "hypervisor" flag of /proc/cpuinfo.
	HypervisorFlag bool
	// Clocksources is /sys/devices/system/clocksource/clocksource0/available_clocksource.
	Clocksources string
	// ProcXen: /proc/xen exists (a Xen domain, PV or HVM, with the xen module).
	ProcXen bool
	// VMBus: /sys/bus/vmbus exists (Hyper-V's bus).
	VMBus bool
	// DockerEnv: /.dockerenv exists. ContainerEnv: /run/.containerenv
	// exists (podman, buildah), ContainerEnvText its contents.
	DockerEnv, ContainerEnv bool
	ContainerEnvText        string
	// SystemdContainer is /run/systemd/container (written by container
	// managers that follow systemd's container interface).
	SystemdContainer string
	// Cgroup1 is /proc/1/cgroup.
	Cgroup1 string
	// Cmdline, OSRelease and Version are /proc/cmdline,
	// /proc/sys/kernel/osrelease and /proc/version.
	Cmdline, OSRelease, Version string
	// WSLInterop: /proc/sys/fs/binfmt_misc/WSLInterop exists.
	WSLInterop bool
	// AWS is the local AWS evidence (awsmeta.OnAWS), AWSWhy its reason.
	AWS    bool
	AWSWhy string
}

// Virt is the detection's answer (see scandoc.Virtualization).
type Virt struct {
	Hypervisor, Cloud, Container, Sandbox string
	Evidence                              []string
}

// gvisorKernelDate is the build date gVisor's synthetic /proc/version has
// always carried ("Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST
// 2016").
const gvisorKernelDate = "Sun Jan 10 15:06:54 PST 2016"

// DetectVirt decides the hypervisor, cloud, container and sandbox from
// the inputs, in the order of the most specific evidence first: DMI
// strings name the hypervisor and the cloud; without DMI (Firecracker,
// Xen PV, containers whose /sys hides it) the clock sources and
// /sys/hypervisor do; the CPU's hypervisor flag alone says "unknown".
// Containers: gVisor by its kernel signature (it replaces the kernel, so
// /proc is its own), then the engines' marker files, then
// /run/systemd/container, then the cgroup path of PID 1.
func DetectVirt(in VirtInput) Virt {
	var v Virt
	ev := func(format string, s string) { v.Evidence = append(v.Evidence, strings.Replace(format, "%s", s, 1)) }
	dmi := strings.ToLower(strings.Join([]string{in.SysVendor, in.ProductName, in.ProductVersion, in.BIOSVendor, in.BIOSVersion, in.BoardVendor}, " | "))
	dmiSays := func(h string) {
		v.Hypervisor = h
		ev("DMI: %s", strings.TrimSpace(in.SysVendor+" "+in.ProductName+" ("+in.BIOSVendor+" "+in.BIOSVersion+")"))
	}
	switch {
	case strings.Contains(dmi, "amazon ec2"):
		// Nitro instances are KVM; older ones are Xen (bios "Xen" or
		// version "...amazon").
		if strings.Contains(dmi, "xen") {
			dmiSays("xen")
		} else {
			dmiSays("kvm")
		}
	case strings.Contains(dmi, "google"):
		dmiSays("kvm")
		v.Cloud = "gce"
	case strings.Contains(dmi, "vmware"):
		dmiSays("vmware")
	case strings.Contains(dmi, "innotek") || strings.Contains(dmi, "virtualbox"):
		dmiSays("virtualbox")
	case strings.Contains(dmi, "microsoft corporation") && strings.Contains(dmi, "virtual machine"):
		dmiSays("hyperv")
		if in.ChassisAssetTag == "7783-7084-3265-9085-8269-3286-77" {
			v.Cloud = "azure"
			ev("DMI chassis asset tag: %s (Azure)", in.ChassisAssetTag)
		}
	case strings.Contains(dmi, "parallels"):
		dmiSays("parallels")
	case strings.Contains(dmi, "bhyve"):
		dmiSays("bhyve")
	case strings.Contains(dmi, "openstack") || strings.Contains(dmi, "kvm") || strings.Contains(dmi, "qemu") || strings.Contains(dmi, "seabios") && in.HypervisorFlag:
		dmiSays("kvm")
	case strings.Contains(dmi, "xen"):
		dmiSays("xen")
	}
	if in.AWS {
		v.Cloud = "aws"
		ev("AWS: %s", in.AWSWhy)
	}
	clocks := strings.Fields(in.Clocksources)
	if v.Hypervisor == "" {
		switch {
		case strings.TrimSpace(in.HypervisorType) != "":
			v.Hypervisor = strings.TrimSpace(in.HypervisorType)
			ev("/sys/hypervisor/type: %s", v.Hypervisor)
		case slices.Contains(clocks, "kvm-clock"):
			v.Hypervisor = "kvm"
			ev("clock source: %s", "kvm-clock")
		case slices.Contains(clocks, "xen") || in.ProcXen:
			v.Hypervisor = "xen"
			ev("Xen: %s", "xen clock source or /proc/xen")
		case slices.Contains(clocks, "hyperv_clocksource_tsc_page") || in.VMBus:
			v.Hypervisor = "hyperv"
			ev("Hyper-V: %s", "hyperv clock source or /sys/bus/vmbus")
		case in.HypervisorFlag:
			v.Hypervisor = "unknown"
			ev("/proc/cpuinfo: %s", "hypervisor flag, no other evidence")
		}
	}

	// Containers and sandboxes.
	gvisor := ""
	switch {
	case strings.Contains(in.OSRelease, "gvisor"):
		gvisor = "/proc/sys/kernel/osrelease: " + strings.TrimSpace(in.OSRelease)
	case strings.Contains(in.Cmdline, "gvisor"):
		gvisor = "/proc/cmdline: " + strings.TrimSpace(in.Cmdline)
	case strings.Contains(in.Version, gvisorKernelDate):
		gvisor = "/proc/version: gVisor's kernel signature"
	}
	if gvisor != "" {
		v.Sandbox = "gvisor"
		v.Evidence = append(v.Evidence, gvisor)
	}
	sc := strings.TrimSpace(in.SystemdContainer)
	switch {
	case in.ContainerEnv:
		v.Container = "podman"
		if e := containerEnvValue(in.ContainerEnvText, "engine"); e != "" && !strings.HasPrefix(e, "podman") {
			v.Container = strings.SplitN(e, "-", 2)[0] // buildah, ...
		}
		ev("%s exists", "/run/.containerenv")
	case in.DockerEnv:
		v.Container = "docker"
		ev("%s exists", "/.dockerenv")
	case sc != "":
		v.Container = sc
		if sc == "oci" {
			v.Container = "container-other"
		}
		ev("/run/systemd/container: %s", sc)
	case strings.Contains(in.Cgroup1, "kubepods"):
		v.Container = "kubernetes"
		ev("/proc/1/cgroup: %s", "kubepods")
	case strings.Contains(in.Cgroup1, "/docker/") || strings.Contains(in.Cgroup1, "/docker-"):
		v.Container = "docker"
		ev("/proc/1/cgroup: %s", "docker")
	case strings.Contains(in.Cgroup1, "/libpod-") || strings.Contains(in.Cgroup1, "/machine.slice/libpod"):
		v.Container = "podman"
		ev("/proc/1/cgroup: %s", "libpod")
	case strings.Contains(in.Cgroup1, "/lxc/") || strings.Contains(in.Cgroup1, "/lxc.payload"):
		v.Container = "lxc"
		ev("/proc/1/cgroup: %s", "lxc")
	case in.WSLInterop || strings.Contains(strings.ToLower(in.OSRelease), "microsoft"):
		v.Container = "wsl"
		ev("WSL: %s", strings.TrimSpace(in.OSRelease))
	}
	if v.Container == "" && v.Sandbox == "gvisor" {
		v.Container = "gvisor"
	}
	if v.Container == "wsl" && (v.Hypervisor == "" || v.Hypervisor == "unknown") {
		v.Hypervisor = "hyperv"
	}
	if v.Evidence == nil {
		v.Evidence = []string{}
	}
	return v
}

// containerEnvValue reads key="value" from /run/.containerenv.
func containerEnvValue(text, key string) string {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), key+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
