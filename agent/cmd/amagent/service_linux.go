//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// On Linux the package installs the service: a systemd unit
// (amagent.service), or an OpenRC script on Alpine. This file starts and
// stops whichever is there.

const systemdUnit = "amagent.service"

type linuxService struct{}

func newSystemService(string) systemService { return linuxService{} }

// systemdRunning is sd_booted(): systemd is PID 1 when this folder exists.
func systemdRunning() bool {
	st, err := os.Stat("/run/systemd/system")
	return err == nil && st.IsDir()
}

func openrcInstalled() bool {
	if _, err := os.Stat("/etc/init.d/amagent"); err != nil {
		return false
	}
	_, err := exec.LookPath("rc-service")
	return err == nil
}

func (linuxService) Installed(ctx context.Context) (string, bool) {
	if systemdRunning() {
		out, err := exec.CommandContext(ctx, "systemctl", "show", "--property=LoadState", "--value", systemdUnit).Output()
		return systemdUnit, err == nil && strings.TrimSpace(string(out)) == "loaded"
	}
	if openrcInstalled() {
		return "amagent (OpenRC)", true
	}
	return "", false
}

func (s linuxService) Restart(ctx context.Context) error { return s.control(ctx, "restart") }

func (linuxService) control(ctx context.Context, verb string) error {
	var cmd *exec.Cmd
	switch {
	case systemdRunning():
		cmd = exec.CommandContext(ctx, "systemctl", verb, systemdUnit)
	case openrcInstalled():
		cmd = exec.CommandContext(ctx, "rc-service", "amagent", verb)
	default:
		return errNoService
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func serviceInstall(context.Context, string, io.Writer) error {
	return fmt.Errorf("on Linux the amagent package (.deb, .rpm, .apk) installs the service; %w", errNoServiceInstall)
}

func serviceUninstall(context.Context, io.Writer) error {
	return fmt.Errorf("on Linux removing the amagent package removes the service; %w", errNoServiceInstall)
}

func serviceStart(ctx context.Context, path string, stdout io.Writer) error {
	if err := configured(path); err != nil {
		return fmt.Errorf("not starting the service: %w (run amagent enroll)", err)
	}
	if err := (linuxService{}).control(ctx, "start"); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "started the amagent service")
	return nil
}

func serviceStop(ctx context.Context, stdout io.Writer) error {
	if err := (linuxService{}).control(ctx, "stop"); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "stopped the amagent service")
	return nil
}

func serviceRun(ctx context.Context, path string, stderr io.Writer) error {
	return runAgent(ctx, []string{"--config", path}, stderr)
}
