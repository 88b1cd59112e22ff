//go:build linux

package scan

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/sysexec"
)

// debianFS is a minimal healthy Debian machine.
func debianFS() fstest.MapFS {
	return fstest.MapFS{
		"etc/os-release":                 {Data: []byte("NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n")},
		"proc/sys/kernel/osrelease":      {Data: []byte("6.1.0-17-amd64\n")},
		"proc/sys/kernel/arch":           {Data: []byte("aarch64\n")},
		"proc/sys/kernel/random/boot_id": {Data: []byte("b-1\n")},
		"proc/stat":                      {Data: []byte("btime 1700000000\n")},
		"proc/cpuinfo":                   {Data: []byte("processor\t: 0\nmodel name\t: X\n\n")},
		"proc/meminfo":                   {Data: []byte("MemTotal: 1024 kB\n")},
		"proc/self/mounts":               {Data: []byte("/dev/vda1 / ext4 rw 0 0\n")},
		"var/lib/dpkg/status":            {Data: []byte("Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\nPackage: linux-image-6.1.0-18-amd64\nStatus: install ok installed\nVersion: 6.1.76-1\nArchitecture: amd64\n")},
		"var/log/dpkg.log":               {Data: []byte("2024-01-01 00:00:00 upgrade a:amd64 0.9 1\n2024-01-01 00:00:01 status installed a:amd64 1\n")},
		"usr/bin/apt-get":                {Data: nil},
	}
}

const aptOK = "Inst a [1] (2 Debian-Security:12/stable-security [amd64])\n"

// aptExec answers the apt simulation with out, exit code and delay.
func aptExec(t *testing.T, stdout string, code int, hang bool) sysexec.Runner {
	return func(ctx context.Context, req sysexec.Request) (sysexec.Result, error) {
		if strings.Join(req.Argv, " ") != strings.Join(AptSimulateArgv, " ") {
			t.Errorf("unexpected program %q", req.Argv)
			return sysexec.Result{}, context.Canceled
		}
		if hang {
			<-ctx.Done()
			return sysexec.Result{ExitCode: -1}, ctx.Err()
		}
		return sysexec.Result{ExitCode: code, Stdout: []byte(stdout), Stderr: []byte("E: broken\n")}, nil
	}
}

func scanFS(t *testing.T, fsys fstest.MapFS, exec sysexec.Runner) *Scanner {
	env := fixedEnv()
	env.FS = fsys
	env.Exec = exec
	env.GOOS = "linux"
	env.HTTP = &http.Client{Transport: noNetwork{t}}
	return &Scanner{Env: env}
}

func TestLinuxHealthyMinimal(t *testing.T) {
	doc := scanFS(t, debianFS(), aptExec(t, aptOK, 0, false)).Collect(t.Context())
	if len(doc.Errors) != 0 {
		t.Fatalf("errors on a healthy machine: %v", doc.Errors)
	}
	if doc.OS.ID != "debian" || doc.OS.Architecture != "arm64" || doc.OS.Kernel != "6.1.0-17-amd64" {
		t.Errorf("os: %+v", doc.OS)
	}
	if len(doc.Software) != 2 || len(doc.Patches) != 1 || len(doc.PendingUpdates) != 1 || !doc.PendingUpdates[0].Security {
		t.Errorf("software %v patches %v pending %v", doc.Software, doc.Patches, doc.PendingUpdates)
	}
	if !doc.RebootRequired || len(doc.Reboot.Reasons) != 1 || !strings.Contains(doc.Reboot.Reasons[0], "older than installed 6.1.0-18-amd64") {
		t.Errorf("reboot: %+v", doc.Reboot)
	}
	if doc.Hardware.MemoryBytes != 1<<20 || len(doc.Hardware.Disks) != 1 || doc.Hardware.Disks[0].TotalBytes != 0 {
		t.Errorf("hardware: %+v", doc.Hardware)
	}
	if doc.Boot.ID != "b-1" || doc.Boot.Time.Unix() != 1700000000 || doc.Boot.UptimeS == 0 {
		t.Errorf("boot: %+v", doc.Boot)
	}
}

// TestLinuxFailurePaths breaks one input at a time: the collector reading
// it records an error naming what was wrong, and every other part of the
// scan is still there.
func TestLinuxFailurePaths(t *testing.T) {
	garbage := &fstest.MapFile{Data: []byte("\x7fELF\x02\x01\x01garbage\x00\x00 no format at all")}
	cases := []struct {
		name      string
		edit      func(fstest.MapFS)
		stdout    string
		code      int
		collector string
		want      string
	}{
		{"os-release missing", func(f fstest.MapFS) { delete(f, "etc/os-release") }, aptOK, 0, "GetOS", "none of /etc/os-release, /usr/lib/os-release exists"},
		{"os-release garbage", func(f fstest.MapFS) { f["etc/os-release"] = garbage }, aptOK, 0, "GetOS", "os-release line 1"},
		{"kernel release missing", func(f fstest.MapFS) { delete(f, "proc/sys/kernel/osrelease") }, aptOK, 0, "GetOS", "proc/sys/kernel/osrelease"},
		{"cpuinfo missing", func(f fstest.MapFS) { delete(f, "proc/cpuinfo") }, aptOK, 0, "GetSystemDetail", "reading /proc/cpuinfo"},
		{"cpuinfo garbage", func(f fstest.MapFS) { f["proc/cpuinfo"] = garbage }, aptOK, 0, "GetSystemDetail", "cpuinfo: no \"processor\""},
		{"meminfo garbage", func(f fstest.MapFS) { f["proc/meminfo"] = garbage }, aptOK, 0, "GetSystemDetail", "no MemTotal"},
		{"wtmp garbage", func(f fstest.MapFS) { f["var/log/wtmp"] = garbage }, aptOK, 0, "GetSystemDetail", "not a multiple of the 384-byte utmp record"},
		{"utmp garbage", func(f fstest.MapFS) {
			f["run/utmp"] = &fstest.MapFile{Data: linux.EncodeUtmpRecord(linux.UtmpRecord{Type: 99})}
		}, aptOK, 0, "GetSystemDetail", "unknown type 99"},
		{"boot id missing", func(f fstest.MapFS) { delete(f, "proc/sys/kernel/random/boot_id") }, aptOK, 0, "GetSystemDetail", "boot_id"},
		{"proc/stat garbage", func(f fstest.MapFS) { f["proc/stat"] = garbage }, aptOK, 0, "GetSystemDetail", "no btime"},
		{"no package database", func(f fstest.MapFS) { delete(f, "var/lib/dpkg/status") }, aptOK, 0, "GetInstalledSoftware", "no package database found"},
		{"dpkg status garbage", func(f fstest.MapFS) { f["var/lib/dpkg/status"] = garbage }, aptOK, 0, "GetInstalledSoftware", "/var/lib/dpkg/status: dpkg status line 1"},
		{"dpkg.log garbage", func(f fstest.MapFS) { f["var/log/dpkg.log"] = garbage }, aptOK, 0, "GetPatches", "dpkg.log: none of 1 lines"},
		{"dpkg.log.2.gz corrupt", func(f fstest.MapFS) { f["var/log/dpkg.log.2.gz"] = garbage }, aptOK, 0, "GetPatches", "dpkg.log.2.gz: gzip"},
		{"apt output garbage", nil, "Inst \x00\x01 garbage\n", 0, "GetPatches", "apt-get simulation line 1"},
		{"apt fails", nil, "", 100, "GetPatches", "exit code 100: E: broken"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := debianFS()
			if c.edit != nil {
				c.edit(fsys)
			}
			doc := scanFS(t, fsys, aptExec(t, c.stdout, c.code, false)).Collect(t.Context())
			if !strings.Contains(doc.Errors[c.collector], c.want) {
				t.Errorf("Errors[%s] = %q, want it to contain %q (all errors: %v)", c.collector, doc.Errors[c.collector], c.want, doc.Errors)
			}
			// meminfo is read once per scan for two collectors (memory_bytes
			// and GetResources): both report it.
			if len(doc.Errors) != 1 && !((c.name == "kernel release missing" || c.name == "meminfo garbage") && len(doc.Errors) == 2) {
				t.Errorf("one broken input should break one collector, got %v", doc.Errors)
			}
			if doc.Hostname != "host-1" {
				t.Error("the scan stopped: hostname missing")
			}
		})
	}
}

// TestLinuxAptHangs: the apt simulation hangs past the collector timeout;
// GetPatches reports the timeout, keeps the installed patches it read, and
// the scan goes on to GetRebootRequired.
func TestLinuxAptHangs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := scanFS(t, debianFS(), aptExec(t, "", 0, true))
		s.Env.Timeout = 30 * time.Second
		start := time.Now()
		doc := s.Collect(t.Context())
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("scan took %s, want exactly the 30s timeout", d)
		}
		if !strings.Contains(doc.Errors["GetPatches"], "timed out") {
			t.Errorf("GetPatches error %q, want a timeout", doc.Errors["GetPatches"])
		}
		if len(doc.Patches) != 1 {
			t.Errorf("installed patches lost with the pending ones: %v", doc.Patches)
		}
		if !doc.RebootRequired {
			t.Error("the scan did not go on to GetRebootRequired")
		}
	})
}

func TestLinuxRebootRequiredFile(t *testing.T) {
	fsys := debianFS()
	fsys["var/lib/dpkg/status"] = &fstest.MapFile{Data: []byte("Package: a\nStatus: install ok installed\nVersion: 1\n")}
	fsys["run/reboot-required"] = &fstest.MapFile{Data: []byte("*** System restart required ***\n"), ModTime: time.Unix(1700000000, 0)}
	fsys["run/reboot-required.pkgs"] = &fstest.MapFile{Data: []byte("libc6\nlibc6\ndbus\n")}
	doc := scanFS(t, fsys, aptExec(t, "", 0, false)).Collect(t.Context())
	r := doc.Reboot
	if !doc.RebootRequired || len(r.Reasons) != 1 || r.Reasons[0] != "/run/reboot-required exists" || strings.Join(r.Packages, ",") != "libc6,dbus" || r.Since == nil || r.Since.Unix() != 1700000000 {
		t.Errorf("reboot: %+v", r)
	}
	delete(fsys, "run/reboot-required")
	doc = scanFS(t, fsys, aptExec(t, "", 0, false)).Collect(t.Context())
	if doc.RebootRequired || len(doc.Reboot.Reasons) != 0 {
		t.Errorf("no rule fired but reboot says %+v", doc.Reboot)
	}
}

// TestNoMetadataOffAWS runs full scans of every recorded Linux machine (none
// is an EC2 instance) with the metadata endpoint pointed at a loopback
// server: it must never be asked, and no other request may leave.
func TestNoMetadataOffAWS(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer srv.Close()
	for _, name := range linuxMachines(t) {
		env, m, _ := loadMachine(t, machinesDir+"/"+name)
		if strings.Contains(strings.ToLower(m.Description), "ec2") {
			continue // a recorded EC2 instance is allowed to ask
		}
		env.AWSEndpoint = srv.URL
		env.HTTP = srv.Client()
		doc := (&Scanner{Env: env}).Collect(t.Context())
		if doc.AWS != nil {
			t.Errorf("%s: AWS metadata %+v off AWS", name, doc.AWS)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the metadata endpoint was asked %d times off AWS", n)
	}
}
