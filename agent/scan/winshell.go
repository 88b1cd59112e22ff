package scan

// The Windows collectors' use of PowerShell, kept free of a build tag so
// that it is tested on every OS with recorded outputs (winshell_test.go);
// collect_windows.go calls these.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/amagent/amagent/agent/scan/internal/winparse"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// biosSerialScript prints the BIOS serial number, which the registry does
// not hold.
const biosSerialScript = `[Console]::OutputEncoding = [System.Text.Encoding]::UTF8; $ErrorActionPreference = 'Stop'; (Get-CimInstance -ClassName Win32_BIOS).SerialNumber`

// winChildEnv is the environment PowerShell gets: the fixed path and the
// few system variables Windows programs cannot start without (SystemRoot
// above all), copied from the agent's own environment. Nothing else.
func winChildEnv() []string {
	env := []string{"PATH=" + sysexec.SystemPath}
	for _, k := range []string{"SystemRoot", "windir", "SystemDrive", "ProgramData", "ProgramFiles", "ProgramFiles(x86)", "ProgramW6432",
		"CommonProgramFiles", "CommonProgramFiles(x86)", "ALLUSERSPROFILE", "TEMP", "TMP", "COMPUTERNAME", "USERPROFILE",
		"LOCALAPPDATA", "APPDATA", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "OS", "ComSpec", "PATHEXT"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// winPowerShell runs one script with Windows PowerShell, without a
// profile, non-interactively. A non-zero exit is an error with stderr.
func winPowerShell(ctx context.Context, env *Env, script string) (sysexec.Result, error) {
	if env.Exec == nil {
		return sysexec.Result{}, errors.New("powershell.exe: no program runner")
	}
	argv := []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script}
	res, err := env.Exec(ctx, sysexec.Request{Argv: argv, Timeout: env.Timeout, Env: winChildEnv()})
	if err != nil {
		return res, fmt.Errorf("powershell.exe: %w", err)
	}
	if res.Truncated {
		return res, errors.New("powershell.exe: output exceeded the cap and was truncated")
	}
	if res.ExitCode != 0 {
		msg := strings.TrimSpace(string(res.Stderr))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return res, fmt.Errorf("powershell.exe: exit code %d: %s", res.ExitCode, msg)
	}
	return res, nil
}

func winPatches(ctx context.Context, env *Env) ([]scandoc.Patch, []scandoc.Update, error) {
	patches := []scandoc.Patch{}
	pending := []scandoc.Update{}
	var errs []error
	if res, err := winPowerShell(ctx, env, winparse.HotFixScript); err != nil {
		errs = append(errs, fmt.Errorf("Get-HotFix: %w", err))
	} else if ps, err := winparse.HotFixes(res.Stdout); err != nil {
		errs = append(errs, err)
	} else {
		patches = append(patches, ps...)
	}
	if res, err := winPowerShell(ctx, env, winparse.UpdateSearchScript); err != nil {
		errs = append(errs, fmt.Errorf("Windows Update search: %w", err))
	} else if ups, err := winparse.Updates(res.Stdout); err != nil {
		errs = append(errs, err)
	} else {
		pending = append(pending, ups...)
	}
	return patches, pending, errors.Join(errs...)
}

// winSerial reads the BIOS serial number through CIM (the registry does
// not hold it).
func winSerial(ctx context.Context, env *Env) (string, error) {
	res, err := winPowerShell(ctx, env, biosSerialScript)
	if err != nil {
		return "", fmt.Errorf("BIOS serial: %w", err)
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}
