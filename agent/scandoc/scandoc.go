// Package scandoc defines the scan document: what a device scan reports to
// the platform and what worklets read under "scan" in their input document
// (shared/ABI.md section 3). The schema is versioned by SchemaVersion, which
// follows the guest ABI version.
package scandoc

import "time"

// SchemaVersion is the version of this document's schema.
const SchemaVersion = 1

// Document is one device scan. Each top-level key is filled by one collector;
// a collector that fails or times out records its error in Errors and keeps
// whatever it had gathered (zero values for the rest), so a partial scan is
// still a scan.
type Document struct {
	Schema         int               `json:"schema"`
	CollectedAt    time.Time         `json:"collected_at"`
	OS             OS                `json:"os"`
	Hostname       string            `json:"hostname"`
	Hardware       Hardware          `json:"hardware"`
	AWS            *AWS              `json:"aws"` // null when not on AWS
	LastUser       LastUser          `json:"last_user"`
	Software       []Package         `json:"software"`
	Patches        []Patch           `json:"patches"`
	PendingUpdates []Update          `json:"pending_updates"`
	RebootRequired bool              `json:"reboot_required"`
	Reboot         Reboot            `json:"reboot"`
	Boot           Boot              `json:"boot"`
	Memory         Memory            `json:"memory"`
	Load           Load              `json:"load"`
	Timezone       Timezone          `json:"timezone"`
	MachineID      string            `json:"machine_id"`
	Network        Network           `json:"network"`
	Storage        Storage           `json:"storage"`
	Virtualization Virtualization    `json:"virtualization"`
	Security       Security          `json:"security"`
	Services       Services          `json:"services"`
	Listening      []Listener        `json:"listening"`
	Errors         map[string]string `json:"errors,omitempty"`     // collector name -> error
	Timings        map[string]int64  `json:"timings_us,omitempty"` // collector name -> microseconds
}

// OS describes the operating system.
type OS struct {
	Family       string   `json:"family"` // linux, windows, darwin
	Name         string   `json:"name"`   // "Debian GNU/Linux"
	ID           string   `json:"id"`     // "debian", "ubuntu", "rhel", "alpine", "windows", "macos"
	IDLike       []string `json:"id_like,omitempty"`
	Version      string   `json:"version"`      // "12", "22.04", "9.4", "3.19.1", "14.5"
	VersionName  string   `json:"version_name"` // codename or display version
	Build        string   `json:"build"`        // OS build: Windows build, macOS build, or kernel release on Linux
	Kernel       string   `json:"kernel"`       // kernel release
	Architecture string   `json:"architecture"` // amd64, arm64, ...
	PrettyName   string   `json:"pretty_name"`
}

// Hardware describes the machine.
type Hardware struct {
	Vendor      string `json:"vendor"`
	Model       string `json:"model"`
	Serial      string `json:"serial"`
	BIOSVendor  string `json:"bios_vendor"`
	BIOSVersion string `json:"bios_version"`
	CPU         CPU    `json:"cpu"`
	MemoryBytes uint64 `json:"memory_bytes"`
	Disks       []Disk `json:"disks"`
	Virtual     string `json:"virtual,omitempty"` // hypervisor if detected
}

// CPU describes the processors.
type CPU struct {
	Vendor  string  `json:"vendor"` // "GenuineIntel", "AuthenticAMD", "ARM", "Apple"
	Model   string  `json:"model"`
	Sockets int     `json:"sockets"` // physical packages
	Cores   int     `json:"cores"`   // physical
	Threads int     `json:"threads"` // logical
	MHz     float64 `json:"mhz"`
}

// Disk is one mounted file system.
type Disk struct {
	Mountpoint string  `json:"mountpoint"`
	Device     string  `json:"device"`
	FSType     string  `json:"fstype"`
	TotalBytes uint64  `json:"total_bytes"`
	UsedBytes  uint64  `json:"used_bytes"`
	UsedPct    float64 `json:"used_percent"`
}

// AWS is the instance metadata of an EC2 instance.
type AWS struct {
	InstanceID       string `json:"instance_id"`
	InstanceType     string `json:"instance_type"`
	Region           string `json:"region"`
	AvailabilityZone string `json:"availability_zone"`
	AMIID            string `json:"ami_id"`
}

// LastUser is who last logged on, and who is logged on now.
type LastUser struct {
	Name     string    `json:"name"`
	Time     time.Time `json:"time"`
	Terminal string    `json:"terminal,omitempty"`
	Host     string    `json:"host,omitempty"`
	Current  []Session `json:"current"`
}

// Session is one logged-on user session.
type Session struct {
	User     string    `json:"user"`
	Terminal string    `json:"terminal"`
	Host     string    `json:"host,omitempty"`
	Started  time.Time `json:"started"`
}

// Package is one installed software package.
type Package struct {
	Name         string     `json:"name"`
	Version      string     `json:"version"`
	Architecture string     `json:"architecture,omitempty"`
	Source       string     `json:"source"` // dpkg, rpm, apk, snap, flatpak, msi/registry, pkgutil, app
	Publisher    string     `json:"publisher,omitempty"`
	InstalledAt  *time.Time `json:"installed_at,omitempty"`
}

// Patch is one installed update.
type Patch struct {
	ID          string     `json:"id"` // KB number, package@version, ...
	Title       string     `json:"title"`
	InstalledAt *time.Time `json:"installed_at,omitempty"`
	Source      string     `json:"source"`
}

// Update is one pending (available, not installed) update.
type Update struct {
	Name           string `json:"name"`
	CurrentVersion string `json:"current_version,omitempty"`
	Version        string `json:"version"`
	Source         string `json:"source"`           // apt, dnf, apk, windowsupdate, softwareupdate
	Origin         string `json:"origin,omitempty"` // e.g. "Debian-Security:12/stable-security"
	Security       bool   `json:"security"`
	Severity       string `json:"severity,omitempty"` // critical, important, moderate, low, unknown
	KB             string `json:"kb,omitempty"`
}

// Reboot says whether a reboot is required and which rule fired.
type Reboot struct {
	Required bool       `json:"required"`
	Reasons  []string   `json:"reasons"` // e.g. "/var/run/reboot-required exists", "running kernel 6.1.0-17 older than installed 6.1.0-18"
	Packages []string   `json:"packages,omitempty"`
	Since    *time.Time `json:"since,omitempty"` // when the requirement appeared, if known
}

// Boot identifies the current boot.
type Boot struct {
	ID      string    `json:"id"` // /proc/sys/kernel/random/boot_id on Linux
	Time    time.Time `json:"time"`
	UptimeS uint64    `json:"uptime_seconds"`
}

// Memory is the memory and swap of the machine, in bytes.
type Memory struct {
	TotalBytes     uint64 `json:"total_bytes"`
	AvailableBytes uint64 `json:"available_bytes"` // what can be allocated without swapping (MemAvailable)
	FreeBytes      uint64 `json:"free_bytes"`
	SwapTotalBytes uint64 `json:"swap_total_bytes"`
	SwapFreeBytes  uint64 `json:"swap_free_bytes"`
}

// Load is the run-queue load average over 1, 5 and 15 minutes (zero
// where the OS keeps none: Windows).
type Load struct {
	One     float64 `json:"one"`
	Five    float64 `json:"five"`
	Fifteen float64 `json:"fifteen"`
}

// Timezone is the machine's time zone.
type Timezone struct {
	Name         string `json:"name"`               // IANA name ("Europe/Paris"); Windows key name on Windows; empty when unknown
	Abbreviation string `json:"abbreviation"`       // at collection time ("CET")
	OffsetS      int    `json:"utc_offset_seconds"` // at collection time
}

// Network is the machine's network configuration.
type Network struct {
	FQDN       string      `json:"fqdn"`
	Domain     string      `json:"domain"`
	Interfaces []Interface `json:"interfaces"`
	Routes     []Route     `json:"routes"` // main routing table, IPv4 then IPv6
	// DefaultGateway is the gateway of the IPv4 default route with the
	// lowest metric (empty without one); DefaultGateway6 the same for IPv6.
	DefaultGateway   string `json:"default_gateway"`
	DefaultInterface string `json:"default_interface"`
	DefaultGateway6  string `json:"default_gateway6"`
	DNS              DNS    `json:"dns"`
}

// Interface is one network interface.
type Interface struct {
	Name  string    `json:"name"`
	Index int       `json:"index"`
	MAC   string    `json:"mac"`   // "" for interfaces without one
	MTU   int       `json:"mtu"`   // bytes
	State string    `json:"state"` // up, down, unknown, dormant, lowerlayerdown, notpresent, testing
	Type  string    `json:"type"`  // ether, loopback, ppp, tunnel, ..., or the ARPHRD number
	IPv4  []Address `json:"ipv4"`
	IPv6  []Address `json:"ipv6"`
}

// Address is one IP address of an interface.
type Address struct {
	Address   string `json:"address"` // "192.0.2.2", "fd00::2"
	PrefixLen int    `json:"prefix_len"`
	Scope     string `json:"scope"` // global, link, host, site
}

// Route is one route of the main routing table.
type Route struct {
	Family      string `json:"family"`      // inet, inet6
	Destination string `json:"destination"` // "default" or a prefix ("192.0.2.0/24")
	Gateway     string `json:"gateway,omitempty"`
	Interface   string `json:"interface"`
	Metric      int    `json:"metric"`
}

// DNS is the resolver configuration (resolv.conf on Unix).
type DNS struct {
	Servers []string `json:"servers"`
	Search  []string `json:"search"`
	Domain  string   `json:"domain,omitempty"`
	Options []string `json:"options,omitempty"`
}

// Storage is every mounted file system and every block device.
type Storage struct {
	Mounts       []Mount       `json:"mounts"`
	BlockDevices []BlockDevice `json:"block_devices"`
}

// Mount is one mounted file system. Usage is zero for pseudo and network
// file systems (never asked: a hung NFS server must not hang the scan).
type Mount struct {
	Mountpoint string `json:"mountpoint"`
	Device     string `json:"device"`
	FSType     string `json:"fstype"`
	// Options are the mount's options followed by the file system's own
	// ("rw,nosuid,nodev,noexec,relatime,size=..."), as findmnt shows them.
	Options        []string `json:"options"`
	TotalBytes     uint64   `json:"total_bytes"`
	UsedBytes      uint64   `json:"used_bytes"`
	AvailableBytes uint64   `json:"available_bytes"` // free to unprivileged users
	TotalInodes    uint64   `json:"total_inodes"`
	UsedInodes     uint64   `json:"used_inodes"`
}

// BlockDevice is one block device (a disk, not a partition). Devices of
// size zero (unused loop and ram devices) are left out.
type BlockDevice struct {
	Name       string      `json:"name"` // "sda", "nvme0n1", "vda"
	SizeBytes  uint64      `json:"size_bytes"`
	Model      string      `json:"model"`
	Vendor     string      `json:"vendor"`
	Serial     string      `json:"serial,omitempty"`
	Rotational bool        `json:"rotational"`
	Removable  bool        `json:"removable"`
	ReadOnly   bool        `json:"read_only"`
	Partitions []Partition `json:"partitions"`
}

// Partition is one partition of a block device.
type Partition struct {
	Name      string `json:"name"`
	SizeBytes uint64 `json:"size_bytes"`
}

// Virtualization says what the machine runs on and in.
type Virtualization struct {
	// Hypervisor is the virtual machine monitor when the machine is a
	// guest: kvm, xen, vmware, hyperv, virtualbox, parallels, bhyve, qemu,
	// or "unknown" (the CPU says "hypervisor" but nothing names it);
	// empty on bare metal.
	Hypervisor string `json:"hypervisor"`
	// Cloud is the cloud provider when one is recognised: aws, gce,
	// azure, ...
	Cloud string `json:"cloud"`
	// Container is the container or sandbox the agent runs in: docker,
	// podman, lxc, kubernetes, gvisor, wsl, systemd-nspawn, or
	// "container-other"; empty when not in one.
	Container string `json:"container"`
	// Sandbox is a system-call sandbox the agent runs under: "gvisor",
	// or empty.
	Sandbox string `json:"sandbox"`
	// Evidence lists what each conclusion rests on
	// ("/sys/class/dmi/id/sys_vendor: QEMU").
	Evidence []string `json:"evidence"`
}

// Security is the state of the OS's mandatory access control and crypto
// settings. A nil pointer means the OS cannot say (not applicable or not
// readable), which is not the same as false.
type Security struct {
	SELinux    SELinux  `json:"selinux"`
	AppArmor   AppArmor `json:"apparmor"`
	FIPS       *bool    `json:"fips"`
	SecureBoot *bool    `json:"secure_boot"`
}

// SELinux is SELinux's state.
type SELinux struct {
	Enabled bool   `json:"enabled"`
	Mode    string `json:"mode"` // enforcing, permissive, disabled
	Policy  string `json:"policy,omitempty"`
}

// AppArmor is AppArmor's state.
type AppArmor struct {
	Enabled  bool `json:"enabled"`
	Profiles int  `json:"profiles"` // loaded profiles (when readable)
	Enforce  int  `json:"enforce"`
	Complain int  `json:"complain"`
}

// Services is the service manager and its services.
type Services struct {
	Manager string    `json:"manager"` // systemd, windows, launchd; "" when none runs
	Units   []Service `json:"units"`
}

// Service is one service.
type Service struct {
	Name string `json:"name"` // "ssh.service", "wuauserv", "com.openssh.sshd"
	// Enabled is the start-up setting: enabled, disabled, static,
	// masked, indirect, generated, transient (systemd); auto, manual,
	// disabled (Windows); enabled, disabled (launchd).
	Enabled string `json:"enabled"`
	Running bool   `json:"running"`
	PID     int    `json:"pid,omitempty"`
}

// Listener is one listening TCP socket or bound, unconnected UDP socket.
type Listener struct {
	Protocol string `json:"protocol"` // tcp, tcp6, udp, udp6
	Address  string `json:"address"`  // "0.0.0.0", "::", "127.0.0.1"
	Port     int    `json:"port"`
	PID      int    `json:"pid,omitempty"`
	Process  string `json:"process,omitempty"` // the command name (comm)
	User     string `json:"user,omitempty"`    // owner of the socket (uid as a name when known)
	UID      int    `json:"uid"`
}
