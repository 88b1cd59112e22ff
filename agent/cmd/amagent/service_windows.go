//go:build windows

package main

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

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/mgr"
)

// Windows: a service of the Service Control Manager (windowsInstallPlan)
// that runs `amagent service run --config ...`; the MSI
// (packaging/windows/amagent.wxs) registers the same service.

type windowsService struct{}

func newSystemService(string) systemService { return windowsService{} }

func openService() (*mgr.Mgr, *mgr.Service, error) {
	m, err := mgr.Connect()
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to the service manager: %w", err)
	}
	s, err := m.OpenService(serviceName)
	if err != nil {
		m.Disconnect()
		return nil, nil, fmt.Errorf("service %s: %w", serviceName, err)
	}
	return m, s, nil
}

func (windowsService) Installed(context.Context) (string, bool) {
	m, s, err := openService()
	if err != nil {
		return "", false
	}
	s.Close()
	m.Disconnect()
	return serviceName, true
}

// Restart also gives a service registered by the MSI (which wixl cannot
// configure further) the plan's delayed start and recovery actions.
func (windowsService) Restart(ctx context.Context) error {
	if err := configureService(); err != nil {
		return err
	}
	if err := stopService(ctx); err != nil {
		return err
	}
	return startService()
}

// configureService applies the plan's start type and recovery actions to
// the installed service.
func configureService() error {
	m, s, err := openService()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	p := windowsInstallPlan("", "")
	c, err := s.Config()
	if err != nil {
		return err
	}
	if c.StartType != mgr.StartAutomatic || c.DelayedAutoStart != p.DelayedAutoStart {
		c.StartType, c.DelayedAutoStart = mgr.StartAutomatic, p.DelayedAutoStart
		if err := s.UpdateConfig(c); err != nil {
			return fmt.Errorf("setting the start type of %s: %w", serviceName, err)
		}
	}
	return setRecovery(s, p)
}

func setRecovery(s *mgr.Service, p windowsPlan) error {
	var actions []mgr.RecoveryAction
	for _, d := range p.Recovery {
		actions = append(actions, mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: d})
	}
	if err := s.SetRecoveryActions(actions, uint32(p.ResetPeriod/time.Second)); err != nil {
		return fmt.Errorf("setting the recovery actions: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("setting the recovery actions: %w", err)
	}
	return nil
}

func startService() error {
	m, s, err := openService()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	if err := s.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", serviceName, err)
	}
	return nil
}

// stopService stops the service and waits until it has stopped.
func stopService(ctx context.Context) error {
	m, s, err := openService()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		return err
	}
	if st.State == svc.Stopped {
		return nil
	}
	if st, err = s.Control(svc.Stop); err != nil {
		return fmt.Errorf("stopping %s: %w", serviceName, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for st.State != svc.Stopped {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not stop within 30s", serviceName)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
		if st, err = s.Query(); err != nil {
			return err
		}
	}
	return nil
}

func serviceInstall(ctx context.Context, path string, stdout io.Writer) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return err
	}
	p := windowsInstallPlan(exe, path)
	for _, d := range p.Dirs {
		if err := restrictDir(d, p.DirSDDL); err != nil {
			return err
		}
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service manager: %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(p.Name); err == nil {
		s.Close()
		return fmt.Errorf("service %s is already installed", p.Name)
	}
	s, err := m.CreateService(p.Name, p.Exe, mgr.Config{
		DisplayName:      p.DisplayName,
		Description:      p.Description,
		StartType:        mgr.StartAutomatic,
		DelayedAutoStart: p.DelayedAutoStart,
		ErrorControl:     mgr.ErrorNormal,
	}, p.Args...)
	if err != nil {
		return fmt.Errorf("creating the service: %w", err)
	}
	defer s.Close()
	if err := setRecovery(s, p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "installed the service %s\n", p.Name)
	if err := configured(path); err != nil {
		fmt.Fprintf(stdout, "not started: %v; `amagent enroll` configures and starts it\n", err)
		return nil
	}
	return startService()
}

func serviceUninstall(ctx context.Context, stdout io.Writer) error {
	if err := stopService(ctx); err != nil {
		return err
	}
	m, s, err := openService()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	defer s.Close()
	if err := s.Delete(); err != nil {
		return fmt.Errorf("removing the service: %w", err)
	}
	fmt.Fprintf(stdout, "removed the service %s; %s is kept\n", serviceName, windowsDataDir)
	return nil
}

func serviceStart(ctx context.Context, path string, stdout io.Writer) error {
	if err := configured(path); err != nil {
		return fmt.Errorf("not starting the service: %w (run amagent enroll)", err)
	}
	if err := startService(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "started", serviceName)
	return nil
}

func serviceStop(ctx context.Context, stdout io.Writer) error {
	if err := stopService(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "stopped", serviceName)
	return nil
}

// serviceRun runs the agent under the SCM (or in a console when started
// by hand).
func serviceRun(ctx context.Context, path string, stderr io.Writer) error {
	isService, err := svc.IsWindowsService()
	if err != nil || !isService {
		return runAgent(ctx, []string{"--config", path}, stderr)
	}
	h := &scmHandler{run: func(ctx context.Context) error { return runAgent(ctx, []string{"--config", path}, stderr) }}
	if err := svc.Run(serviceName, h); err != nil {
		return err
	}
	return h.err
}

// scmHandler runs the agent until the SCM says stop or shut down.
type scmHandler struct {
	run func(context.Context) error
	err error
}

func (h *scmHandler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			// Ended by itself: a non-zero exit makes the SCM's recovery
			// actions start it again.
			h.err = err
			if err != nil {
				return true, 1
			}
			return false, 0
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: 20000}
				cancel()
				select {
				case h.err = <-done:
				case <-time.After(20 * time.Second):
					h.err = errors.New("the agent did not stop within 20s")
				}
				return false, 0
			}
		}
	}
}

// sameOwner keeps nothing on Windows: the new file inherits the folder's
// access list (SYSTEM and Administrators, set by the install).
func sameOwner(*os.File, fs.FileInfo) error { return nil }

// restrictDir makes dir with the access list sddl (protected: nothing
// inherited from ProgramData, where Users may read).
func restrictDir(dir, sddl string) error {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return err
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := windows.SetNamedSecurityInfo(dir, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("restricting %s to SYSTEM and Administrators: %w", dir, err)
	}
	return nil
}

// prepareConfigDir makes the configuration's folder; under ProgramData it
// is restricted to SYSTEM and Administrators (it holds the access key),
// as `amagent service install` does, since the MSI does not make it.
func prepareConfigDir(dir string) error {
	p := windowsInstallPlan("", "")
	if strings.EqualFold(filepath.Clean(dir), p.Dirs[0]) {
		return restrictDir(dir, p.DirSDDL)
	}
	return os.MkdirAll(dir, 0o755)
}
