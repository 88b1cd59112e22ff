// Package updates installs pending updates through the device's own package
// manager: the InstallUpdate command that carries out a patch policy's
// decision. Programs run argv-only; package names are checked so that none
// can pass as an option; a dry-run setting only logs what would run.
package updates

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/sysexec"
)

// Installer installs named updates.
type Installer struct {
	Log    *slog.Logger
	Exec   sysexec.Runner
	FS     fs.FS // the machine's root, to find the package manager
	GOOS   string
	DryRun bool
	// Timeout bounds one installation; 0 means 30 minutes.
	Timeout time.Duration
}

// Output is the InstallUpdate command's result output.
type Output struct {
	Manager  string   `json:"manager"`
	Argv     []string `json:"argv"`
	DryRun   bool     `json:"dry_run"`
	ExitCode int      `json:"exit_code"`
	Stdout   string   `json:"stdout,omitempty"`
	Stderr   string   `json:"stderr,omitempty"`
}

var pkgName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+_:@~-]*$`)

// Argv returns the package manager and the program to run for names.
func (in *Installer) Argv(names []string) (string, []string, error) {
	if len(names) == 0 {
		return "", nil, fmt.Errorf("InstallUpdate: no package names given")
	}
	for _, n := range names {
		if !pkgName.MatchString(n) {
			return "", nil, fmt.Errorf("InstallUpdate: %q is not a valid package name", n)
		}
	}
	if in.GOOS != "linux" {
		return "", nil, fmt.Errorf("InstallUpdate: installing updates on %s is not supported yet", in.GOOS)
	}
	has := func(p string) bool { _, err := fs.Stat(in.FS, p); return err == nil }
	switch {
	case has("usr/bin/apt-get"):
		return "apt", append([]string{"apt-get", "install", "-y", "--only-upgrade",
			"-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"}, names...), nil
	case has("usr/bin/dnf"):
		return "dnf", append([]string{"dnf", "-y", "upgrade"}, names...), nil
	case has("sbin/apk"):
		return "apk", append([]string{"apk", "upgrade"}, names...), nil
	}
	return "", nil, fmt.Errorf("InstallUpdate: no supported package manager (apt-get, dnf, apk) found")
}

// Install installs names, or only logs it in dry-run mode.
func (in *Installer) Install(ctx context.Context, names []string) (Output, error) {
	mgr, argv, err := in.Argv(names)
	if err != nil {
		return Output{}, err
	}
	out := Output{Manager: mgr, Argv: argv, DryRun: in.DryRun}
	if in.DryRun {
		in.Log.Info("dry run: would install updates", "manager", mgr, "argv", strings.Join(argv, " "))
		return out, nil
	}
	in.Log.Info("installing updates", "manager", mgr, "argv", strings.Join(argv, " "))
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Minute
	}
	env := []string{"LANG=C", "LC_ALL=C", "PATH=" + sysexec.SystemPath, "DEBIAN_FRONTEND=noninteractive"}
	res, err := in.Exec(ctx, sysexec.Request{Argv: argv, Timeout: timeout, Env: env, MaxOutput: 1 << 20})
	out.ExitCode, out.Stdout, out.Stderr = res.ExitCode, string(res.Stdout), string(res.Stderr)
	if err != nil {
		return out, fmt.Errorf("InstallUpdate: %w", err)
	}
	if res.ExitCode != 0 {
		return out, fmt.Errorf("InstallUpdate: %s exited %d: %s", argv[0], res.ExitCode, strings.TrimSpace(lastLine(out.Stderr)))
	}
	return out, nil
}

// Handler is the InstallUpdate command: params are the package names.
func (in *Installer) Handler() command.Handler {
	return command.Handler{
		Type:      protocol.CmdInstallUpdate,
		Processor: command.ProcessorLegacy,
		Run: func(ctx context.Context, params []string) (any, error) {
			return in.Install(ctx, params)
		},
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
