//go:build linux

package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v4/disk"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// platform on Linux: files first (os-release, /proc, /sys, the package
// databases, wtmp), programs only where no file tells (the apt simulation
// for pending updates; H7's dnf/apk/needs-restarting).
var platform = osCollectors{
	OS:       linuxOS,
	Hardware: linuxHardware,
	Users:    linuxUsers,
	Software: linuxSoftware,
	Patches:  linuxPatches,
	Reboot:   linuxReboot,
	OnAWS:    linuxOnAWS,
	Boot:     linuxBoot,

	Identity:       linuxIdentity,
	Resources:      linuxResources,
	Network:        linuxNetwork,
	Storage:        linuxStorage,
	Virtualization: linuxVirtualization,
	Security:       linuxSecurity,
	Services:       linuxServices,
	Listening:      linuxListening,
}

// Paths read on Linux, relative to the root of Env.FS.
const (
	pathOSRelease     = "etc/os-release"
	pathOSReleaseLib  = "usr/lib/os-release"
	pathKernelRelease = "proc/sys/kernel/osrelease"
	pathKernelArch    = "proc/sys/kernel/arch"
	pathCPUInfo       = "proc/cpuinfo"
	pathMemInfo       = "proc/meminfo"
	pathMounts        = "proc/self/mounts"
	pathMountsOld     = "proc/mounts"
	pathDMI           = "sys/class/dmi/id"
	pathHypervisor    = "sys/hypervisor/type"
	pathWtmp          = "var/log/wtmp"
	pathUtmp          = "run/utmp"
	pathUtmpOld       = "var/run/utmp"
	pathBootID        = "proc/sys/kernel/random/boot_id"
	pathProcStat      = "proc/stat"
	pathUptime        = "proc/uptime"
	pathDpkgStatus    = "var/lib/dpkg/status"
	pathDpkgLogDir    = "var/log"
	pathRPMDB         = "var/lib/rpm"
	pathRPMDBSysimage = "usr/lib/sysimage/rpm"
	pathAPKInstalled  = "lib/apk/db/installed"
	pathRebootReq     = "run/reboot-required"
	pathRebootReqOld  = "var/run/reboot-required"
	pathBoot          = "boot"
	pathLocaltime     = "etc/localtime"
)

// maxWtmpTail is how much of the end of wtmp is read for the last login:
// 10,922 records, months of logins on a busy server.
const maxWtmpTail = linux.UtmpSize * 10922

// readFirst reads the first of paths that exists; the error names them all
// when none does.
func readFirst(fsys fs.FS, paths ...string) ([]byte, string, error) {
	for _, p := range paths {
		b, err := fs.ReadFile(fsys, p)
		if err == nil {
			return b, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, p, fmt.Errorf("reading /%s: %w", p, err)
		}
	}
	return nil, "", fmt.Errorf("none of /%s exists: %w", strings.Join(paths, ", /"), fs.ErrNotExist)
}

func exists(fsys fs.FS, p string) bool {
	_, err := fs.Stat(fsys, p)
	return err == nil
}

func readTrim(fsys fs.FS, p string) (string, error) {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return "", fmt.Errorf("reading /%s: %w", p, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// goArch maps a kernel machine name (uname -m) to Go's names.
func goArch(m string) string {
	switch m {
	case "x86_64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "i386", "i486", "i586", "i686":
		return "386"
	case "armv6l", "armv7l", "armv8l":
		return "arm"
	}
	return m
}

func linuxOS(ctx context.Context, env *Env) (scandoc.OS, error) {
	o := scandoc.OS{Family: "linux"}
	var errs []error
	if b, _, err := readFirst(env.FS, pathOSRelease, pathOSReleaseLib); err != nil {
		errs = append(errs, err)
	} else if kv, err := linux.ParseOSRelease(b); err != nil {
		errs = append(errs, err)
	} else {
		o.Name = kv["NAME"]
		o.ID = kv["ID"]
		o.IDLike = strings.Fields(kv["ID_LIKE"])
		o.Version = kv["VERSION_ID"]
		o.VersionName = kv["VERSION_CODENAME"]
		o.PrettyName = kv["PRETTY_NAME"]
		if o.Name == "" {
			o.Name = "Linux"
		}
	}
	if k, err := readTrim(env.FS, pathKernelRelease); err != nil {
		errs = append(errs, err)
	} else {
		o.Kernel, o.Build = k, k
	}
	if a, err := readTrim(env.FS, pathKernelArch); err == nil && a != "" {
		o.Architecture = goArch(a)
	} else if isLive(env) {
		o.Architecture = runtime.GOARCH
	}
	return o, errors.Join(errs...)
}

// dmi reads one DMI attribute; absent or unreadable (product_serial is
// root-only) attributes are empty.
func dmi(fsys fs.FS, name string) string {
	b, err := fs.ReadFile(fsys, path.Join(pathDMI, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func linuxHardware(ctx context.Context, env *Env) (scandoc.Hardware, error) {
	h := scandoc.Hardware{
		Vendor:      dmi(env.FS, "sys_vendor"),
		Model:       dmi(env.FS, "product_name"),
		Serial:      dmi(env.FS, "product_serial"),
		BIOSVendor:  dmi(env.FS, "bios_vendor"),
		BIOSVersion: dmi(env.FS, "bios_version"),
		Disks:       []scandoc.Disk{},
	}
	var errs []error
	hypervisorFlag := false
	if c, err := cpuInfo(env); err != nil {
		errs = append(errs, err)
	} else {
		h.CPU = scandoc.CPU{Vendor: c.Vendor, Model: c.Model, Sockets: c.Sockets, Cores: c.Cores, Threads: c.Threads, MHz: c.MHz}
		if h.CPU.Sockets == 0 {
			h.CPU.Sockets = cpuSockets(env.FS)
		}
		hypervisorFlag = c.Hypervisor
	}
	if mi, err := memInfo(env); err != nil {
		errs = append(errs, err)
	} else {
		h.MemoryBytes = mi.Total
	}
	disks, err := linuxDisks(ctx, env)
	if err != nil {
		errs = append(errs, err)
	}
	h.Disks = disks
	h.Virtual = virtualization(env.FS, h, hypervisorFlag)
	if h.Virtual == "unknown" {
		// Without DMI (Firecracker, Xen PV): GetVirtualization's
		// clock-source and /sys/hypervisor evidence may name it.
		if v := detectVirt(env); v.Hypervisor != "" {
			h.Virtual = v.Hypervisor
		}
	}
	return h, errors.Join(errs...)
}

// DiskUsage asks the kernel (statfs) through gopsutil: the one fact about
// disks that no file holds.
func (liveFS) DiskUsage(ctx context.Context, mountpoint string) (uint64, uint64, error) {
	u, err := disk.UsageWithContext(ctx, mountpoint)
	if err != nil {
		return 0, 0, err
	}
	return u.Total, u.Used, nil
}

// linuxDisks lists mounted local disk file systems from /proc/self/mounts
// and asks the FS for their usage when it can say (see diskUsageFS).
func linuxDisks(ctx context.Context, env *Env) ([]scandoc.Disk, error) {
	out := []scandoc.Disk{}
	b, _, err := readFirst(env.FS, pathMounts, pathMountsOld)
	if err != nil {
		return out, err
	}
	ms, err := linux.ParseMounts(b)
	if err != nil {
		return out, err
	}
	du, _ := env.FS.(diskUsageFS)
	for _, m := range linux.DiskMounts(ms) {
		d := scandoc.Disk{Mountpoint: m.Mountpoint, Device: m.Device, FSType: m.FSType}
		if du != nil {
			if total, used, err := du.DiskUsage(ctx, m.Mountpoint); err == nil {
				d.TotalBytes, d.UsedBytes = total, used
				if total > 0 {
					d.UsedPct = float64(int(float64(used)/float64(total)*10000+0.5)) / 100
				}
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// virtualization names the hypervisor from DMI strings, then
// /sys/hypervisor/type, then the cpuinfo "hypervisor" flag ("unknown").
func virtualization(fsys fs.FS, h scandoc.Hardware, flag bool) string {
	s := strings.ToLower(h.Vendor + " " + h.Model + " " + h.BIOSVendor + " " + h.BIOSVersion)
	switch {
	case strings.Contains(s, "amazon ec2") || strings.Contains(s, "amazon"):
		return "aws"
	case strings.Contains(s, "google"):
		return "gce"
	case strings.Contains(s, "vmware"):
		return "vmware"
	case strings.Contains(s, "virtualbox") || strings.Contains(s, "innotek"):
		return "virtualbox"
	case strings.Contains(s, "microsoft") && strings.Contains(s, "virtual"):
		return "hyperv"
	case strings.Contains(s, "qemu") || strings.Contains(s, "kvm"):
		return "kvm"
	case strings.Contains(s, "xen"):
		return "xen"
	}
	if t, err := readTrim(fsys, pathHypervisor); err == nil && t != "" {
		return t
	}
	if flag {
		return "unknown"
	}
	return ""
}

func linuxUsers(ctx context.Context, env *Env) (scandoc.LastUser, error) {
	u := scandoc.LastUser{Current: []scandoc.Session{}}
	var errs []error
	recs, err := readWtmpTail(env.FS, pathWtmp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// No wtmp (containers, wtmpdb-only systems): no last login known.
	case err != nil:
		errs = append(errs, err)
	default:
		if r, ok := linux.LastLogin(recs); ok {
			u.Name, u.Time, u.Terminal, u.Host = r.User, r.Time, r.Line, r.Host
		}
	}
	b, p, err := readFirst(env.FS, pathUtmp, pathUtmpOld)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		errs = append(errs, err)
	default:
		recs, err := linux.ParseUtmp(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("/%s: %w", p, err))
			break
		}
		for _, r := range linux.Sessions(recs) {
			u.Current = append(u.Current, scandoc.Session{User: r.User, Terminal: r.Line, Host: r.Host, Started: r.Time})
		}
	}
	return u, errors.Join(errs...)
}

// readWtmpTail decodes the last maxWtmpTail bytes of wtmp.
func readWtmpTail(fsys fs.FS, p string) ([]linux.UtmpRecord, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", p, err)
	}
	size := fi.Size()
	if size%linux.UtmpSize != 0 {
		return nil, fmt.Errorf("/%s: %d bytes is not a multiple of the %d-byte utmp record", p, size, linux.UtmpSize)
	}
	var b []byte
	if rs, ok := f.(io.ReadSeeker); ok && size > maxWtmpTail {
		if _, err := rs.Seek(size-maxWtmpTail, io.SeekStart); err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		b = make([]byte, maxWtmpTail)
		if _, err := io.ReadFull(rs, b); err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
	} else {
		if b, err = io.ReadAll(f); err != nil {
			return nil, fmt.Errorf("/%s: %w", p, err)
		}
		if len(b) > maxWtmpTail {
			b = b[len(b)-maxWtmpTail:]
		}
	}
	recs, err := linux.ParseUtmp(b)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", p, err)
	}
	return recs, nil
}

// dpkgPackages is the dpkg status database, read and parsed once per scan
// (Env's source cache): the inventory and the reboot check's kernel list
// share the parse. The file is streamed, never held whole. A missing
// database is an error wrapping fs.ErrNotExist.
func dpkgPackages(env *Env) ([]linux.DpkgPackage, error) {
	return cachedSource(env, pathDpkgStatus, func() ([]linux.DpkgPackage, error) {
		f, err := env.FS.Open(pathDpkgStatus)
		if err != nil {
			return nil, fmt.Errorf("reading /%s: %w", pathDpkgStatus, err)
		}
		defer f.Close()
		size := 0
		if fi, err := f.Stat(); err == nil {
			size = int(fi.Size())
		}
		ps, err := linux.ReadDpkgStatus(f, size)
		if err != nil {
			return nil, fmt.Errorf("/%s: %w", pathDpkgStatus, err)
		}
		return ps, nil
	})
}

// dpkgSoftware lists the packages whose files are on the machine (every
// dpkg state but not-installed and config-files).
func dpkgSoftware(env *Env) ([]scandoc.Package, error) {
	ps, err := dpkgPackages(env)
	if err != nil {
		return nil, err
	}
	out := make([]scandoc.Package, 0, len(ps))
	for _, p := range ps {
		if !p.Present() {
			continue
		}
		out = append(out, scandoc.Package{Name: p.Name, Version: p.Version, Architecture: p.Architecture, Source: "dpkg"})
	}
	return out, nil
}

func hasRPM(fsys fs.FS) bool { return exists(fsys, pathRPMDB) || exists(fsys, pathRPMDBSysimage) }

// linuxSoftware reads every package database present: dpkg, rpm, apk,
// snap, flatpak. One failing database does not hide the others.
func linuxSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	var out []scandoc.Package
	var errs []error
	found := false
	add := func(ps []scandoc.Package, err error) {
		found = true
		out = append(out, ps...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if ps, err := dpkgSoftware(env); !errors.Is(err, fs.ErrNotExist) {
		add(ps, err)
	}
	if hasRPM(env.FS) {
		add(rpmSoftware(ctx, env))
	}
	if exists(env.FS, pathAPKInstalled) {
		add(apkSoftware(ctx, env))
	}
	if !found {
		return nil, fmt.Errorf("no package database found (looked for /%s, /%s, /%s)", pathDpkgStatus, pathRPMDB, pathAPKInstalled)
	}
	// snap and flatpak sit beside a distribution's packages; each says
	// nothing (and runs nothing) when its program is absent.
	add(snapSoftware(ctx, env))
	add(flatpakSoftware(ctx, env))
	return out, errors.Join(errs...)
}

// localZone is the machine's time zone from /etc/localtime, UTC when
// unknown. dpkg.log is written in local time.
func localZone(fsys fs.FS) *time.Location {
	b, err := fs.ReadFile(fsys, pathLocaltime)
	if err != nil {
		return time.UTC
	}
	loc, err := time.LoadLocationFromTZData("Local", b)
	if err != nil {
		return time.UTC
	}
	return loc
}

// dpkgLogFiles lists dpkg.log and its rotations, oldest first:
// dpkg.log.12.gz ... dpkg.log.2.gz, dpkg.log.1, dpkg.log.
func dpkgLogFiles(fsys fs.FS) []string {
	names, _ := fs.Glob(fsys, path.Join(pathDpkgLogDir, "dpkg.log*"))
	rot := func(n string) int {
		s := strings.TrimPrefix(path.Base(n), "dpkg.log")
		s = strings.TrimSuffix(strings.TrimPrefix(s, "."), ".gz")
		if s == "" {
			return 0
		}
		i, err := strconv.Atoi(s)
		if err != nil {
			return -1
		}
		return i
	}
	var out []string
	for _, n := range names {
		if rot(n) >= 0 {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return rot(out[i]) > rot(out[j]) })
	return out
}

// dpkgPatches is the installed-updates history on dpkg systems: every
// package upgrade recorded in dpkg.log (and its rotations) that completed
// ("upgrade" followed by "status installed"), dated when it completed.
// Fresh installs are software, not patches, and are left out.
func dpkgPatches(fsys fs.FS) ([]scandoc.Patch, error) {
	loc := localZone(fsys)
	var all []linux.DpkgUpgrade
	var errs []error
	for _, name := range dpkgLogFiles(fsys) {
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading /%s: %w", name, err))
			continue
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err == nil {
				b, err = io.ReadAll(io.LimitReader(zr, 256<<20))
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("/%s: %w", name, err))
				continue
			}
		}
		ups, err := linux.ParseDpkgLog(b, loc)
		if err != nil {
			errs = append(errs, fmt.Errorf("/%s: %w", name, err))
			continue
		}
		all = append(all, ups...)
	}
	// The same upgrade can appear in two files only if a log was copied;
	// keep the last.
	seen := map[string]int{}
	out := []scandoc.Patch{}
	for _, u := range all {
		id := u.Name + "@" + u.To
		if u.Architecture != "" && u.Architecture != "all" {
			id = u.Name + ":" + u.Architecture + "@" + u.To
		}
		t := u.Time.UTC()
		p := scandoc.Patch{ID: id, Title: fmt.Sprintf("upgrade %s from %s to %s", u.Name, u.From, u.To), InstalledAt: &t, Source: "dpkg"}
		if i, ok := seen[id]; ok {
			out[i] = p
			continue
		}
		seen[id] = len(out)
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

// AptSimulateArgv is the apt simulation of pending updates: no list
// refresh, no lock (Debug::NoLocking), nothing changed.
var AptSimulateArgv = []string{"apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"}

// aptPending reads pending updates from apt's lists in Go
// (aptListsPending) and falls back to the apt simulation, parsing its Inst
// lines, where the Go policy does not cover the configuration or
// env.AptSimulate asks for it.
func aptPending(ctx context.Context, env *Env) ([]scandoc.Update, error) {
	if !env.AptSimulate {
		ups, err := aptListsPending(env)
		if err == nil {
			return ups, nil
		}
		if !errAptFallback(err) {
			return nil, err
		}
		// A configuration the Go policy does not implement: apt decides.
	}
	res, err := run(ctx, env, AptSimulateArgv)
	if err != nil {
		return nil, err
	}
	ups, err := linux.ParseAptSimulation(res.Stdout)
	if err != nil {
		return nil, err
	}
	out := make([]scandoc.Update, 0, len(ups))
	for _, u := range ups {
		out = append(out, scandoc.Update{
			Name:           u.Name,
			CurrentVersion: u.CurrentVersion,
			Version:        u.Version,
			Source:         "apt",
			Origin:         strings.Join(u.Origins, ", "),
			Security:       u.Security,
		})
	}
	return out, nil
}

// run runs a program through env.Exec under the collector timeout and
// turns a non-zero exit into an error carrying its stderr.
func run(ctx context.Context, env *Env, argv []string) (sysexec.Result, error) {
	if env.Exec == nil {
		return sysexec.Result{}, fmt.Errorf("%s: no program runner", argv[0])
	}
	res, err := env.Exec(ctx, sysexec.Request{Argv: argv, Timeout: env.Timeout})
	if err != nil {
		return res, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return res, fmt.Errorf("%s: exit code %d: %s", strings.Join(argv, " "), res.ExitCode, msg)
	}
	return res, nil
}

func linuxPatches(ctx context.Context, env *Env) ([]scandoc.Patch, []scandoc.Update, error) {
	patches := []scandoc.Patch{}
	pending := []scandoc.Update{}
	var errs []error
	if exists(env.FS, pathDpkgStatus) {
		ps, err := dpkgPatches(env.FS)
		patches = append(patches, ps...)
		if err != nil {
			errs = append(errs, err)
		}
		if haveProgram(env.FS, "apt-get") && !env.SkipPending {
			ups, err := aptPending(ctx, env)
			pending = append(pending, ups...)
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if hasRPM(env.FS) && !env.SkipPending {
		ups, err := dnfPending(ctx, env)
		pending = append(pending, ups...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if exists(env.FS, pathAPKInstalled) && !env.SkipPending {
		ups, err := apkPending(ctx, env)
		pending = append(pending, ups...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return patches, pending, errors.Join(errs...)
}

// linuxReboot applies three rules and says which fired:
// /run/reboot-required (Debian, Ubuntu: written by package hooks, with the
// packages in .pkgs); `needs-restarting -r` on rpm systems (exit 1 means
// yes); and the running kernel older than the newest installed kernel of
// the same flavour (/boot/vmlinuz-*, dpkg linux-image-* packages).
func linuxReboot(ctx context.Context, env *Env) (scandoc.Reboot, error) {
	r := scandoc.Reboot{Reasons: []string{}}
	var errs []error
	for _, p := range []string{pathRebootReq, pathRebootReqOld} {
		fi, err := fs.Stat(env.FS, p)
		if err != nil {
			continue
		}
		r.Required = true
		r.Reasons = append(r.Reasons, "/"+p+" exists")
		t := fi.ModTime().UTC()
		r.Since = &t
		if b, err := fs.ReadFile(env.FS, p+".pkgs"); err == nil {
			seen := map[string]bool{}
			for _, l := range strings.Split(string(b), "\n") {
				if l = strings.TrimSpace(l); l != "" && !seen[l] {
					seen[l] = true
					r.Packages = append(r.Packages, l)
				}
			}
		}
		break
	}
	if hasRPM(env.FS) {
		req, why, ran, err := needsRestarting(ctx, env)
		if err != nil {
			errs = append(errs, err)
		} else if ran && req {
			r.Required = true
			msg := "needs-restarting -r: reboot required"
			if why != "" {
				msg += ": " + why
			}
			r.Reasons = append(r.Reasons, msg)
		}
	}
	running, err := readTrim(env.FS, pathKernelRelease)
	if err != nil {
		errs = append(errs, err)
	} else if newest, newer := linux.NewestKernel(running, installedKernels(env)); newer {
		r.Required = true
		r.Reasons = append(r.Reasons, fmt.Sprintf("running kernel %s older than installed %s", running, newest))
	}
	return r, errors.Join(errs...)
}

// installedKernels lists kernel releases from /boot/vmlinuz-* and from
// installed dpkg linux-image-<release> packages (meta packages such as
// linux-image-amd64 do not start with a digit and are skipped).
func installedKernels(env *Env) []string {
	var out []string
	names, _ := fs.Glob(env.FS, path.Join(pathBoot, "vmlinuz-*"))
	for _, n := range names {
		rel := strings.TrimPrefix(path.Base(n), "vmlinuz-")
		if rel != "" && rel[0] >= '0' && rel[0] <= '9' {
			out = append(out, rel)
		}
	}
	{
		ps, _ := dpkgPackages(env) // the inventory's parse (per-scan cache)
		for _, p := range ps {
			rel, ok := strings.CutPrefix(p.Name, "linux-image-")
			if ok && p.Present() && rel != "" && rel[0] >= '0' && rel[0] <= '9' {
				rel = strings.TrimSuffix(rel, "-unsigned")
				out = append(out, rel)
			}
		}
	}
	return out
}

func linuxOnAWS(ctx context.Context, env *Env) (bool, string) { return awsFromDMI(env.FS) }

func linuxBoot(ctx context.Context, env *Env) (scandoc.Boot, error) {
	var b scandoc.Boot
	var errs []error
	if id, err := readTrim(env.FS, pathBootID); err != nil {
		errs = append(errs, err)
	} else {
		b.ID = id
	}
	if st, err := fs.ReadFile(env.FS, pathProcStat); err != nil {
		errs = append(errs, fmt.Errorf("reading /%s: %w", pathProcStat, err))
	} else if t, err := linux.ParseBootTime(st); err != nil {
		errs = append(errs, err)
	} else {
		b.Time = t
	}
	if up, err := fs.ReadFile(env.FS, pathUptime); err == nil {
		if s, err := linux.ParseUptime(up); err == nil {
			b.UptimeS = s
		} else {
			errs = append(errs, err)
		}
	} else if !b.Time.IsZero() && env.Now != nil {
		if d := env.Now().Sub(b.Time); d > 0 {
			b.UptimeS = uint64(d / time.Second)
		}
	}
	return b, errors.Join(errs...)
}
