// Package updates installs pending updates through the device's own package
// manager: the InstallUpdate command that carries out a patch policy's
// decision. Programs run argv-only. A name is installed only when the last
// scan lists it as installed with a pending update, and only when no
// package manager could read it as anything but "this package" (an option,
// a removal, a version pin, a release, a glob): both checks come before
// any program runs. A dry-run setting only logs what would run.
package updates

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"
	"unicode"

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
	// LastScan returns the last scan document (JSON): only the names in
	// its pending_updates may be installed. Nil refuses every name.
	LastScan func(ctx context.Context) ([]byte, error)
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

// CheckName says why apt, dnf or apk could read name as something other
// than "the package of this name", or returns nil. apt reads a trailing
// "-" as "remove" and "+" as "install", "pkg=version" and "pkg/release" as
// selectors, and globs and regular expressions as patterns; apk reads
// "pkg=1.2", "pkg~1.2", "pkg<1.2", "pkg@tag"; all three read a leading "-"
// as an option. So a name is letters, digits and ".", "_", ":", "+", "-",
// starts with a letter or digit and ends with neither "+" nor "-" (packages
// named like "g++" are therefore not installed by InstallUpdate).
func CheckName(name string) error {
	if name == "" {
		return errors.New("the name is empty")
	}
	if len(name) > 200 {
		return fmt.Errorf("the name is %d bytes long (at most 200)", len(name))
	}
	for _, r := range name {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Errorf("it contains whitespace or a control character (%q)", r)
		case strings.ContainsRune("*?[]", r):
			return fmt.Errorf("it contains %q, a pattern character (apt, dnf and apk match globs)", r)
		case r == '=':
			return errors.New(`it contains '=', a version pin ("pkg=version") to apt and apk`)
		case r == '/':
			return errors.New(`it contains '/', a release selector ("pkg/release") to apt, or a path`)
		}
	}
	switch name[0] {
	case '-':
		return errors.New("it starts with '-', which a package manager reads as an option")
	}
	switch name[len(name)-1] {
	case '-':
		return errors.New(`it ends with '-', which apt reads as "remove this package"`)
	case '+':
		return errors.New(`it ends with '+', which apt reads as an action suffix ("install this package")`)
	}
	if c := name[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return fmt.Errorf("it starts with %q, not a letter or a digit", c)
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:+-", r)
		if !ok {
			return fmt.Errorf("it contains %q, which is not allowed in a package name (a version constraint or repository tag to apk, or worse)", r)
		}
	}
	return nil
}

// CheckNames checks every name with CheckName; the error names the first
// package refused and why.
func CheckNames(names []string) error {
	if len(names) == 0 {
		return fmt.Errorf("InstallUpdate: no package names given")
	}
	for _, n := range names {
		if err := CheckName(n); err != nil {
			return fmt.Errorf("InstallUpdate: package %q refused: %w", n, err)
		}
	}
	return nil
}

// PendingNames returns the names in a scan document's pending_updates
// (the document itself, or one under "scan").
func PendingNames(doc []byte) (map[string]bool, error) {
	var d struct {
		PendingUpdates *[]struct {
			Name string `json:"name"`
		} `json:"pending_updates"`
		Scan *struct {
			PendingUpdates []struct {
				Name string `json:"name"`
			} `json:"pending_updates"`
		} `json:"scan"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("reading the last scan: %w", err)
	}
	out := map[string]bool{}
	switch {
	case d.PendingUpdates != nil:
		for _, u := range *d.PendingUpdates {
			out[u.Name] = true
		}
	case d.Scan != nil:
		for _, u := range d.Scan.PendingUpdates {
			out[u.Name] = true
		}
	}
	return out, nil
}

// checkPending refuses any name the last scan does not list as installed
// with a pending update.
func (in *Installer) checkPending(ctx context.Context, names []string) error {
	if in.LastScan == nil {
		return fmt.Errorf("InstallUpdate: package %q refused: there is no scan to check it against", names[0])
	}
	doc, err := in.LastScan(ctx)
	if err != nil {
		return fmt.Errorf("InstallUpdate: package %q refused: no scan to check it against: %w", names[0], err)
	}
	pending, err := PendingNames(doc)
	if err != nil {
		return fmt.Errorf("InstallUpdate: package %q refused: %w", names[0], err)
	}
	for _, n := range names {
		if !pending[n] {
			return fmt.Errorf("InstallUpdate: package %q refused: the last scan lists no pending update for an installed package of that name", n)
		}
	}
	return nil
}

// Argv returns the package manager and the program to run for names.
func (in *Installer) Argv(names []string) (string, []string, error) {
	if err := CheckNames(names); err != nil {
		return "", nil, err
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

// Install installs names, or only logs it in dry-run mode. Every name is
// checked (CheckName, then the last scan's pending updates) before any
// program runs.
func (in *Installer) Install(ctx context.Context, names []string) (Output, error) {
	if err := CheckNames(names); err != nil {
		return Output{}, err
	}
	if err := in.checkPending(ctx, names); err != nil {
		return Output{}, err
	}
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
