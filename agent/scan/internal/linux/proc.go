package linux

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CPUInfo is what /proc/cpuinfo says about the processors.
type CPUInfo struct {
	Vendor string // vendor_id (x86), or the implementer's name (arm)
	Model  string
	// Sockets counts distinct "physical id" values; 0 when the file does
	// not say (arm64: read /sys/devices/system/cpu/*/topology instead).
	Sockets int
	Cores   int // physical cores
	Threads int // logical processors
	MHz     float64
	// Hypervisor is the x86 "hypervisor" CPU flag: running in a VM.
	Hypervisor bool
}

// ParseCPUInfo parses /proc/cpuinfo. Threads counts "processor" entries;
// Cores counts distinct (physical id, core id) pairs, falling back to
// Threads when the kernel does not report topology (arm64, some VMs). The
// model is "model name" (x86), else "Hardware" or "cpu model" (other
// architectures). A file without a single "processor" entry is an error.
func ParseCPUInfo(b []byte) (CPUInfo, error) {
	var c CPUInfo
	type core struct{ phys, id string }
	cores := map[core]bool{}
	sockets := map[string]bool{}
	var phys, id string
	haveTopo := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	endProc := func() {
		if phys != "" || id != "" {
			cores[core{phys, id}] = true
			haveTopo = true
		}
		phys, id = "", ""
	}
	for sc.Scan() {
		line := sc.Text()
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			if strings.TrimSpace(line) == "" {
				endProc()
			}
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			c.Threads++
		case "model name", "Hardware", "cpu model":
			if c.Model == "" {
				c.Model = v
			}
		case "cpu MHz":
			if c.MHz == 0 {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					c.MHz = f
				}
			}
		case "flags":
			if !c.Hypervisor {
				for _, f := range strings.Fields(v) {
					if f == "hypervisor" {
						c.Hypervisor = true
						break
					}
				}
			}
		case "vendor_id":
			if c.Vendor == "" {
				c.Vendor = v
			}
		case "CPU implementer":
			if c.Vendor == "" {
				c.Vendor = armImplementer(v)
			}
		case "physical id":
			phys = v
			sockets[v] = true
		case "core id":
			id = v
		}
	}
	endProc()
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("cpuinfo: %w", err)
	}
	if c.Threads == 0 {
		return c, fmt.Errorf("cpuinfo: no \"processor\" entries")
	}
	c.Cores = c.Threads
	c.Sockets = len(sockets)
	if haveTopo {
		c.Cores = len(cores)
	}
	return c, nil
}

// armImplementer names the "CPU implementer" codes of arm cpuinfo (the
// MIDR implementer byte) that servers and laptops carry.
func armImplementer(v string) string {
	switch strings.ToLower(v) {
	case "0x41":
		return "ARM"
	case "0x42":
		return "Broadcom"
	case "0x43":
		return "Cavium"
	case "0x48":
		return "HiSilicon"
	case "0x4e":
		return "NVIDIA"
	case "0x50":
		return "APM"
	case "0x51":
		return "Qualcomm"
	case "0x61":
		return "Apple"
	case "0xc0":
		return "Ampere"
	}
	return v
}

// ParseMemTotal returns MemTotal from /proc/meminfo, in bytes.
func ParseMemTotal(b []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("meminfo: MemTotal %q: %w", f[0], err)
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n, nil
	}
	return 0, fmt.Errorf("meminfo: no MemTotal line")
}

// Mount is one line of /proc/mounts.
type Mount struct {
	Device, Mountpoint, FSType string
}

// ParseMounts parses /proc/mounts (fstab(5) format, octal escapes in the
// fields). Lines with fewer than three fields are an error naming the line.
func ParseMounts(b []byte) ([]Mount, error) {
	var out []Mount
	err := fieldLines(b, "mounts", false, 3, "want device, mount point and type", func(f []string) error {
		out = append(out, Mount{Device: unescapeOctal(f[0]), Mountpoint: unescapeOctal(f[1]), FSType: f[2]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				sb.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		sb.WriteByte(s[i])
	}
	return sb.String()
}

// diskFSTypes are the file system types reported as disks: local block
// file systems, not pseudo, memory or network ones.
var diskFSTypes = map[string]bool{
	"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true,
	"vfat": true, "exfat": true, "ntfs": true, "ntfs3": true, "f2fs": true,
	"zfs": true, "jfs": true, "reiserfs": true, "bcachefs": true,
}

// DiskMounts keeps the mounts of local disk file systems, one per
// mount point (the first), in /proc/mounts order.
func DiskMounts(ms []Mount) []Mount {
	var out []Mount
	seen := map[string]bool{}
	for _, m := range ms {
		if !diskFSTypes[m.FSType] || seen[m.Mountpoint] {
			continue
		}
		seen[m.Mountpoint] = true
		out = append(out, m)
	}
	return out
}

// ParseBootTime returns the boot time from /proc/stat's "btime" line.
func ParseBootTime(b []byte) (time.Time, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "btime ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("/proc/stat: bad btime %q", clip(rest))
		}
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("/proc/stat: no btime line")
}

// ParseUptime returns the first number of /proc/uptime, in whole seconds.
func ParseUptime(b []byte) (uint64, error) {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/uptime: empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("/proc/uptime: bad value %q", clip(f[0]))
	}
	return uint64(v), nil
}

// fieldLines calls f with the whitespace-separated fields of every
// non-empty line of b (after the first line when header is set), once it
// has checked that a line has at least min of them. Every error names
// what was read and the line: a short line with want and the line's text,
// an error of f wrapped.
func fieldLines(b []byte, what string, header bool, min int, want string, f func(fields []string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || header && n == 1 {
			continue
		}
		if len(fields) < min {
			return fmt.Errorf("%s line %d: %s, got %q", what, n, want, clip(sc.Text()))
		}
		if err := f(fields); err != nil {
			return fmt.Errorf("%s line %d: %w", what, n, err)
		}
	}
	return sc.Err()
}
