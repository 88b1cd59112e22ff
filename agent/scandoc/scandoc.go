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
	Model   string  `json:"model"`
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
