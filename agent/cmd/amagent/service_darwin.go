//go:build darwin

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// macOS: a launchd daemon, /Library/LaunchDaemons/com.amagent.amagent.plist
// (darwinInstallPlan).

type darwinService struct{}

func newSystemService(string) systemService { return darwinService{} }

func launchctl(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "launchctl", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("launchctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// loaded says whether launchd knows the daemon now.
func loaded(ctx context.Context) bool {
	return exec.CommandContext(ctx, "launchctl", "print", "system/"+launchdLabel).Run() == nil
}

func (darwinService) Installed(context.Context) (string, bool) {
	_, err := os.Stat(launchdPlistPath)
	return launchdLabel, err == nil
}

func (darwinService) Restart(ctx context.Context) error {
	if loaded(ctx) {
		return launchctl(ctx, "kickstart", "-k", "system/"+launchdLabel)
	}
	return launchctl(ctx, "bootstrap", "system", launchdPlistPath)
}

func serviceInstall(ctx context.Context, path string, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return err
	}
	p := darwinInstallPlan(exe, path)
	if err := applyPlanFiles("/", p.Dirs, p.Files); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "installed %s\n", launchdPlistPath)
	if err := configured(path); err != nil {
		fmt.Fprintf(stdout, "not started: %v; `amagent enroll` configures and starts it\n", err)
		return nil
	}
	if loaded(ctx) {
		return launchctl(ctx, "kickstart", "-k", "system/"+launchdLabel)
	}
	return launchctl(ctx, p.Load[1:]...)
}

func serviceUninstall(ctx context.Context, stdout io.Writer) error {
	if loaded(ctx) {
		if err := launchctl(ctx, "bootout", "system/"+launchdLabel); err != nil {
			return err
		}
	}
	if err := os.Remove(launchdPlistPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Fprintf(stdout, "removed %s; the state in %s is kept\n", launchdPlistPath, darwinStateDir)
	return nil
}

func serviceStart(ctx context.Context, path string, stdout io.Writer) error {
	if err := configured(path); err != nil {
		return fmt.Errorf("not starting the service: %w (run amagent enroll)", err)
	}
	if _, ok := (darwinService{}).Installed(ctx); !ok {
		return errors.New("the service is not installed: run amagent service install")
	}
	if err := (darwinService{}).Restart(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "started", launchdLabel)
	return nil
}

func serviceStop(ctx context.Context, stdout io.Writer) error {
	// KeepAlive would start a killed daemon again: unloading stops it
	// until the next start or boot.
	if loaded(ctx) {
		if err := launchctl(ctx, "bootout", "system/"+launchdLabel); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "stopped", launchdLabel)
	return nil
}

func serviceRun(ctx context.Context, path string, stderr io.Writer) error {
	return runAgent(ctx, []string{"--config", path}, stderr)
}
