package main

// `amagent service install|uninstall|start|stop`: the agent as the
// system's service. What an install writes is planned here, in code that
// builds and is tested on every OS (the launchd daemon definition, the
// Windows service's configuration and recovery); service_darwin.go and
// service_windows.go carry the plans out. On Linux the package installs
// the service (a systemd unit, or an OpenRC script on Alpine) and this
// command only starts and stops it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/config"
)

// The service's names.
const (
	serviceName        = "amagent"
	serviceDisplayName = "amagent endpoint agent"
	serviceDescription = "Checks in with the amagent platform, scans this device and runs its WebAssembly worklets."

	launchdLabel     = "com.amagent.amagent"
	launchdPlistPath = "/Library/LaunchDaemons/" + launchdLabel + ".plist"

	windowsDataDir = `C:\ProgramData\amagent`

	// The macOS folders: the defaults of state_dir and log_file there.
	darwinStateDir = "/var/lib/amagent"
	darwinLogDir   = "/var/log/amagent"
)

// systemService is the agent's service as this machine runs it.
type systemService interface {
	// Installed returns the service's name and whether it is installed.
	Installed(ctx context.Context) (string, bool)
	// Restart starts the service, or restarts it when it runs.
	Restart(ctx context.Context) error
}

func serviceCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"want: amagent service install|uninstall|start|stop [--config FILE]"}
	}
	sub := args[0]
	fl, path := newFlags("service "+sub, stderr)
	if err := fl.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if fl.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fl.Arg(0))}
	}
	switch sub {
	case "install":
		return serviceInstall(ctx, *path, stdout)
	case "uninstall":
		return serviceUninstall(ctx, stdout)
	case "start":
		return serviceStart(ctx, *path, stdout)
	case "stop":
		return serviceStop(ctx, stdout)
	case "run": // what the service manager starts (on Windows, under the SCM)
		return serviceRun(ctx, *path, stderr)
	case "configured": // the units' start condition: exit 0 only when configured
		if err := configured(*path); err != nil {
			fmt.Fprintln(stderr, "amagent: not configured:", err, "(run amagent enroll)")
			return exitCode(1)
		}
		return nil
	default:
		return usageError{fmt.Sprintf("unknown service command %q (want install, uninstall, start or stop)", sub)}
	}
}

// configured reports whether the configuration at path is complete and
// valid: an installed service is started only then (`amagent enroll`
// starts it otherwise).
func configured(path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	if cfg.AccessKey == "" {
		return fmt.Errorf("%s: key access_key is empty", path)
	}
	return nil
}

// plannedDir and plannedFile are what an install makes.
type plannedDir struct {
	Path string
	Mode fs.FileMode
}

type plannedFile struct {
	Path    string
	Mode    fs.FileMode
	Content []byte
}

// darwinPlan is what `amagent service install` does on macOS.
type darwinPlan struct {
	Dirs  []plannedDir
	Files []plannedFile
	// Load loads and starts the daemon; it runs only once the
	// configuration is complete.
	Load []string
}

// darwinInstallPlan: the launchd daemon definition, the state and log
// folders. The configuration file itself is written by `amagent enroll`.
func darwinInstallPlan(exe, cfgPath string) darwinPlan {
	return darwinPlan{
		Dirs: []plannedDir{
			{filepath.Dir(cfgPath), 0o755},
			{darwinStateDir, 0o700},
			{darwinLogDir, 0o750},
		},
		Files: []plannedFile{{launchdPlistPath, 0o644, launchdPlist(exe, cfgPath)}},
		Load:  []string{"launchctl", "bootstrap", "system", launchdPlistPath},
	}
}

// launchdPlist is the launchd daemon definition: started at boot, started
// again 10 s after it fails (not after a clean stop), in the background.
func launchdPlist(exe, cfgPath string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchdLabel + `</string>
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range []string{exe, "run", "--config", cfgPath} {
		b.WriteString("\t\t<string>" + xmlEscape(a) + "</string>\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<dict>
		<key>SuccessfulExit</key>
		<false/>
	</dict>
	<key>ThrottleInterval</key>
	<integer>10</integer>
	<key>ExitTimeOut</key>
	<integer>30</integer>
	<key>ProcessType</key>
	<string>Background</string>
	<key>StandardErrorPath</key>
	<string>` + xmlEscape(darwinLogDir+"/launchd.log") + `</string>
</dict>
</plist>
`)
	return []byte(b.String())
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

// applyPlanFiles makes the plan's folders and files under root ("/" for
// real; a test's folder in tests). Existing folders keep their mode.
func applyPlanFiles(root string, dirs []plannedDir, files []plannedFile) error {
	for _, d := range dirs {
		p := filepath.Join(root, d.Path)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if err := os.MkdirAll(p, d.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, d.Mode); err != nil {
			return err
		}
	}
	for _, f := range files {
		p := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Content, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

// windowsPlan is what `amagent service install` does on Windows.
type windowsPlan struct {
	Name, DisplayName, Description string
	// Exe and Args are the service's command line.
	Exe  string
	Args []string
	// DelayedAutoStart: started automatically, shortly after boot.
	DelayedAutoStart bool
	// Recovery: restart after each failure (a crash or a non-zero exit),
	// the failure count reset after a day without one.
	Recovery    []time.Duration
	ResetPeriod time.Duration
	// Dirs are made with DirSDDL (SYSTEM and Administrators only: the
	// configuration holds the access key, the state the device key).
	Dirs    []string
	DirSDDL string
}

func windowsInstallPlan(exe, cfgPath string) windowsPlan {
	return windowsPlan{
		Name:             serviceName,
		DisplayName:      serviceDisplayName,
		Description:      serviceDescription,
		Exe:              exe,
		Args:             []string{"service", "run", "--config", cfgPath},
		DelayedAutoStart: true,
		Recovery:         []time.Duration{10 * time.Second, 30 * time.Second, time.Minute},
		ResetPeriod:      24 * time.Hour,
		Dirs:             []string{windowsDataDir, windowsDataDir + `\state`},
		// Protected (no inheritance from ProgramData, which lets Users
		// read); full control for SYSTEM and Administrators, inherited
		// by every file and folder below.
		DirSDDL: "D:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)",
	}
}

// errNoService is returned by the Linux service commands when neither
// systemd nor OpenRC knows the agent.
var errNoService = errors.New("no amagent service is installed (install the amagent package)")

// errNoServiceInstall is wrapped by install and uninstall where a package
// manager owns the service.
var errNoServiceInstall = errors.New("use the package manager")
