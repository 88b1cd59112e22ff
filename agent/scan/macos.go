package scan

// The macOS collectors' use of programs, kept free of a build tag so that
// they are tested on every OS with recorded outputs (macos_test.go); the
// parts that need darwin system calls (uname, sysctl, disks) are in
// collect_darwin.go, which calls these. Software inventory comes from
// `system_profiler -json SPApplicationsDataType`, not `pkgutil --pkgs`:
// package receipts carry no version without one more `pkgutil --pkg-info`
// process per receipt, and most applications (dragged into /Applications,
// App Store) leave no receipt at all.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/scan/internal/macparse"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// macOSRelease is the OS part from sw_vers (kernel and architecture are
// added by the darwin collector).
func macOSRelease(ctx context.Context, env *Env) (scandoc.OS, error) {
	o := scandoc.OS{Family: "darwin", ID: "macos"}
	out, err := macRun(ctx, env, "sw_vers")
	if err != nil {
		return o, err
	}
	name, ver, build, err := macparse.SwVers(out)
	if err != nil {
		return o, err
	}
	o.Name, o.Version, o.Build = name, ver, build
	o.VersionName = macparse.ReleaseName(ver)
	o.PrettyName = strings.TrimSpace(name + " " + o.VersionName + " " + ver + " (" + build + ")")
	return o, nil
}

// macHardwareProfile is the hardware part from system_profiler (threads
// and disks are added by the darwin collector).
func macHardwareProfile(ctx context.Context, env *Env) (scandoc.Hardware, error) {
	p, err := macProfile(ctx, env)
	h := p.Hardware
	h.Disks = []scandoc.Disk{}
	if strings.Contains(strings.ToLower(h.Model), "virtual") {
		h.Virtual = "apple-virtualization"
	}
	return h, err
}

// macRun runs argv and turns a non-zero exit or a cut output into an
// error carrying stderr.
func macRun(ctx context.Context, env *Env, argv ...string) ([]byte, error) {
	if env.Exec == nil {
		return nil, fmt.Errorf("%s: no program runner", argv[0])
	}
	res, err := env.Exec(ctx, sysexec.Request{Argv: argv, Timeout: env.Timeout})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	if res.Truncated {
		return nil, fmt.Errorf("%s: output exceeded the cap and was truncated", strings.Join(argv, " "))
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return nil, fmt.Errorf("%s: exit code %d: %s", strings.Join(argv, " "), res.ExitCode, msg)
	}
	// softwareupdate writes some of its answers ("No new software
	// available.") to stderr; the parsers see both.
	return append(res.Stdout, res.Stderr...), nil
}

func macProfile(ctx context.Context, env *Env) (macparse.Profile, error) {
	out, err := macRun(ctx, env, "system_profiler", "-json", "SPHardwareDataType", "SPSoftwareDataType")
	if err != nil {
		return macparse.Profile{}, err
	}
	return macparse.SystemProfile(out)
}

// macUsers: the last logon and the current sessions from `last`, and the
// owner of /dev/console (the user at the screen; root at the login window)
// as a current console session when last did not list one.
func macUsers(ctx context.Context, env *Env) (scandoc.LastUser, error) {
	now := time.Now
	if env.Now != nil {
		now = env.Now
	}
	var errs []error
	u := scandoc.LastUser{Current: []scandoc.Session{}}
	if out, err := macRun(ctx, env, "last", "-n", "20"); err != nil {
		errs = append(errs, err)
	} else if lu, err := macparse.Last(out, now(), time.Local); err != nil {
		errs = append(errs, err)
	} else {
		u = lu
	}
	if out, err := macRun(ctx, env, "stat", "-f", "%Su", "/dev/console"); err != nil {
		errs = append(errs, err)
	} else if who := strings.TrimSpace(string(out)); who != "" && who != "root" {
		seen := false
		for _, s := range u.Current {
			seen = seen || (s.User == who && s.Terminal == "console")
		}
		if !seen {
			u.Current = append(u.Current, scandoc.Session{User: who, Terminal: "console"})
		}
		if u.Name == "" {
			u.Name, u.Terminal = who, "console"
		}
	}
	return u, errors.Join(errs...)
}

func macSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	out, err := macRun(ctx, env, "system_profiler", "-json", "SPApplicationsDataType")
	if err != nil {
		return nil, err
	}
	return macparse.Applications(out)
}

// macPending lists pending updates from softwareupdate's last scan
// (--no-scan: the scan never contacts Apple's catalog itself).
func macPending(ctx context.Context, env *Env) ([]macparse.Pending, error) {
	out, err := macRun(ctx, env, "softwareupdate", "-l", "--no-scan")
	if err != nil {
		return nil, err
	}
	return macparse.PendingList(out)
}

func macPatches(ctx context.Context, env *Env) ([]scandoc.Patch, []scandoc.Update, error) {
	patches := []scandoc.Patch{}
	pending := []scandoc.Update{}
	var errs []error
	if out, err := macRun(ctx, env, "softwareupdate", "--history"); err != nil {
		errs = append(errs, err)
	} else if ps, err := macparse.History(out, time.Local); err != nil {
		errs = append(errs, err)
	} else {
		patches = ps
	}
	if ps, err := macPending(ctx, env); err != nil {
		errs = append(errs, err)
	} else {
		pending = macparse.Updates(ps)
	}
	return patches, pending, errors.Join(errs...)
}

// macReboot: macOS keeps no "reboot required" flag; a reboot is reported
// required when a pending update can only be installed with a restart
// (softwareupdate's "Action: restart"), and the reason names it.
func macReboot(ctx context.Context, env *Env) (scandoc.Reboot, error) {
	r := scandoc.Reboot{Reasons: []string{}}
	ps, err := macPending(ctx, env)
	if err != nil {
		return r, err
	}
	for _, p := range ps {
		if p.Restart {
			r.Required = true
			r.Reasons = append(r.Reasons, "softwareupdate: "+p.Label+" installs with a restart")
			r.Packages = append(r.Packages, p.Label)
		}
	}
	return r, nil
}

// macOnAWS: EC2 Mac instances run Apple hardware, with no DMI strings to
// read. Amazon's macOS AMIs install ec2-macos-init under /usr/local/aws;
// its presence is the local evidence.
func macOnAWS(ctx context.Context, env *Env) (bool, string) {
	const p = "usr/local/aws/ec2-macos-init"
	if env.FS != nil {
		if _, err := fs.Stat(env.FS, p); err == nil {
			return true, "/" + p + " exists (EC2 macOS AMI)"
		}
	}
	return false, "no /" + p + " (not an EC2 Mac instance)"
}
