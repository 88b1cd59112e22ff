//go:build linux

package scan

// Package databases and package managers of Linux other than dpkg/apt:
// rpm with dnf (or yum), apk, snap and flatpak, and `needs-restarting`.
// The parsing is in internal/pkgmgr; this file decides what to run and how
// to read its exit code. Nothing here refreshes repository metadata or
// takes a package manager's write lock: dnf runs with -C (cache only), apk
// with --no-network and only read-only subcommands.
//
// Why `rpm -qa --qf` and not a pure-Go rpmdb reader: the rpm database has
// had three storage formats in current distributions (Berkeley DB on RHEL 7
// and 8 and Amazon Linux 2, SQLite on RHEL 9 and Fedora, NDB on SUSE), each
// holding rpm's binary header blobs. Reading all of them in Go is a large
// amount of code to keep right, while rpm itself reads its own database in
// well under a second for a thousand packages. The query format asks only
// for fixed-shape tags, so its output is strictly checkable.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/amagent/amagent/agent/scan/internal/pkgmgr"
	"github.com/amagent/amagent/agent/scandoc"
	"github.com/amagent/amagent/agent/sysexec"
)

// haveProgram says whether name exists in one of the directories of the
// fixed system path, looked up in env.FS (so that recorded machines decide
// it, not the machine running the test).
func haveProgram(fsys fs.FS, name string) bool {
	for _, dir := range strings.Split(sysexec.SystemPath, ":") {
		fi, err := fs.Stat(fsys, strings.TrimPrefix(path.Join(dir, name), "/"))
		if err == nil && !fi.IsDir() {
			return true
		}
	}
	return false
}

// pmExec runs argv through env.Exec under the collector timeout. Unlike
// run, a non-zero exit is not an error here: the callers give meaning to
// exit codes (dnf's 100, needs-restarting's 1). Output cut at the cap is an
// error, since a parser must not take half a list for the whole.
func pmExec(ctx context.Context, env *Env, argv ...string) (sysexec.Result, error) {
	if env.Exec == nil {
		return sysexec.Result{}, fmt.Errorf("%s: no program runner", argv[0])
	}
	res, err := env.Exec(ctx, sysexec.Request{Argv: argv, Timeout: env.Timeout})
	if err != nil {
		return res, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	if res.Truncated {
		return res, fmt.Errorf("%s: output exceeded the cap and was truncated", strings.Join(argv, " "))
	}
	return res, nil
}

// exitError describes a failed program by its exit code and stderr.
func exitError(argv []string, res sysexec.Result) error {
	msg := strings.TrimSpace(string(res.Stderr))
	if msg == "" {
		msg = strings.TrimSpace(string(res.Stdout))
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	if msg == "" {
		msg = "(no output)"
	}
	return fmt.Errorf("%s: exit code %d: %s", strings.Join(argv, " "), res.ExitCode, msg)
}

// rpmSoftware lists the packages of the rpm database with
// `rpm -qa --qf pkgmgr.RPMQueryFormat` (see the file comment for why).
func rpmSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	if !haveProgram(env.FS, "rpm") {
		return nil, errors.New("rpm: a package database is present but the rpm program is not on the system path")
	}
	argv := []string{"rpm", "-qa", "--qf", pkgmgr.RPMQueryFormat}
	res, err := pmExec(ctx, env, argv...)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, exitError(argv, res)
	}
	if len(bytes.TrimSpace(res.Stdout)) == 0 && haveFile(env.FS, "var/lib/dpkg/status") {
		// The rpm tool on a dpkg system (installed for alien or mock)
		// with its empty database: nothing installed through rpm.
		return nil, nil
	}
	pkgs, err := pkgmgr.ParseRPMQuery(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("rpm -qa: %w", err)
	}
	return pkgs, nil
}

func haveFile(fsys fs.FS, p string) bool {
	_, err := fs.Stat(fsys, p)
	return err == nil
}

// apkSoftware parses Alpine's lib/apk/db/installed from env.FS.
func apkSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	const db = "lib/apk/db/installed"
	b, err := fs.ReadFile(env.FS, db)
	if err != nil {
		return nil, fmt.Errorf("apk: %w", err)
	}
	pkgs, err := pkgmgr.ParseAPKInstalled(b)
	if err != nil {
		return nil, fmt.Errorf("/%s: %w", db, err)
	}
	return pkgs, nil
}

// snapSoftware lists installed snaps with `snap list`, the interface snapd
// documents (its state.json is internal and changes between releases).
// Without the snap program there is nothing to list and no error.
func snapSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	if !haveProgram(env.FS, "snap") {
		return nil, nil
	}
	argv := []string{"snap", "list"}
	res, err := pmExec(ctx, env, argv...)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, exitError(argv, res)
	}
	pkgs, err := pkgmgr.ParseSnapList(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("snap list: %w", err)
	}
	return pkgs, nil
}

// flatpakSoftware lists installed flatpak applications and runtimes (all
// installations visible to the agent's user) with `flatpak list
// --columns=...`, tab-separated because stdout is not a terminal. Without
// the flatpak program there is nothing to list and no error.
func flatpakSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	if !haveProgram(env.FS, "flatpak") {
		return nil, nil
	}
	argv := []string{"flatpak", "list", "--columns=" + pkgmgr.FlatpakColumns}
	res, err := pmExec(ctx, env, argv...)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, exitError(argv, res)
	}
	pkgs, err := pkgmgr.ParseFlatpakList(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("flatpak list: %w", err)
	}
	return pkgs, nil
}

// dnfPending lists pending updates from dnf's metadata cache (yum where
// there is no dnf): `check-update` (exit 100: updates listed, 0: none, any
// other: error), then, when there are updates, the security advisories
// (`updateinfo list --security`) for the security flag and severity, and
// `rpm -q` for the installed versions. -C keeps dnf on its cache: a
// machine whose cache is stale reports stale updates, one with no cache at
// all reports dnf's error; the scan never downloads metadata. When only
// the advisories fail, the updates are returned with that error.
func dnfPending(ctx context.Context, env *Env) ([]scandoc.Update, error) {
	tool := "dnf"
	updateinfo := []string{"updateinfo", "list", "--security", "--available"}
	if !haveProgram(env.FS, "dnf") {
		if !haveProgram(env.FS, "yum") {
			return nil, nil // an rpm database without dnf or yum: nothing can say what is pending
		}
		tool = "yum"
		updateinfo = []string{"updateinfo", "list", "available", "security"}
	}
	argv := []string{tool, "-q", "-C", "check-update"}
	res, err := pmExec(ctx, env, argv...)
	if err != nil {
		return nil, err
	}
	switch res.ExitCode {
	case 0:
		return []scandoc.Update{}, nil
	case 100:
	default:
		return nil, exitError(argv, res)
	}
	ups, err := pkgmgr.ParseDNFCheckUpdate(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("%s check-update: %w", tool, err)
	}
	if len(ups) == 0 {
		return nil, fmt.Errorf("%s check-update: exit code 100 (updates available) but no update could be read", tool)
	}

	var advErr error
	var advs []pkgmgr.Advisory
	uargv := append([]string{tool, "-q", "-C"}, updateinfo...)
	if ures, err := pmExec(ctx, env, uargv...); err != nil {
		advErr = err
	} else if ures.ExitCode != 0 {
		advErr = exitError(uargv, ures)
	} else if advs, err = pkgmgr.ParseDNFUpdateInfo(ures.Stdout); err != nil {
		advErr = fmt.Errorf("%s updateinfo: %w", tool, err)
	}
	if advErr != nil {
		advErr = fmt.Errorf("security flags unknown: %w", advErr)
	}

	// Installed versions, best effort: a failure only leaves
	// CurrentVersion empty.
	var installed map[string]string
	if haveProgram(env.FS, "rpm") {
		qargv := []string{"rpm", "-q", "--qf", pkgmgr.RPMVersionFormat}
		seen := map[string]bool{}
		for _, u := range ups {
			if k := u.Name + "." + u.Arch; !seen[k] {
				seen[k] = true
				qargv = append(qargv, k)
			}
		}
		// rpm -q exits non-zero when one of the names is not installed
		// (an update that obsoletes another); the other lines still count.
		if qres, err := pmExec(ctx, env, qargv...); err == nil {
			installed, _ = pkgmgr.ParseRPMVersions(qres.Stdout)
		}
	}
	return pkgmgr.MergeDNF(ups, advs, installed), advErr
}

// apkPending lists upgradable packages with `apk --no-network version -l
// <` (read-only: no lock; --no-network: only the cached indexes, never a
// refresh). Alpine's index carries no security flag.
func apkPending(ctx context.Context, env *Env) ([]scandoc.Update, error) {
	if !haveProgram(env.FS, "apk") {
		return nil, errors.New("apk: an apk database is present but the apk program is not on the system path")
	}
	argv := []string{"apk", "--no-network", "version", "-l", "<"}
	res, err := pmExec(ctx, env, argv...)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, exitError(argv, res)
	}
	ups, err := pkgmgr.ParseAPKVersion(res.Stdout)
	if err != nil {
		return nil, fmt.Errorf("apk version: %w", err)
	}
	return ups, nil
}

// needsRestarting asks dnf-utils' `needs-restarting -r` whether core
// packages (kernel, glibc, systemd, ...) were updated since boot. Only
// exit 1 with its "reboot is required" report means yes; exit 0 means no.
// Where dnf is present the same command is run as `dnf -q -C
// --disablerepo=* needs-restarting -r`, which is what the needs-restarting
// wrapper runs, plus two options that keep it from loading (or
// downloading) repository metadata: it needs only the installed packages.
// (Without -C it loads, and when expired downloads, every repository's
// metadata first; dnf-plugins-core issue #575.) Without a needs-restarting
// program, ran is false; that includes dnf 5 systems, where the command is
// built into dnf and no needs-restarting program is installed.
func needsRestarting(ctx context.Context, env *Env) (required bool, reason string, ran bool, err error) {
	if !haveProgram(env.FS, "needs-restarting") {
		return false, "", false, nil
	}
	argv := []string{"needs-restarting", "-r"}
	if haveProgram(env.FS, "dnf") {
		argv = []string{"dnf", "-q", "-C", "--disablerepo=*", "needs-restarting", "-r"}
	}
	res, err := pmExec(ctx, env, argv...)
	if err != nil {
		return false, "", true, err
	}
	items := pkgmgr.ParseNeedsRestarting(res.Stdout)
	switch {
	case res.ExitCode == 0:
		return false, "", true, nil
	case res.ExitCode == 1 && (len(items) > 0 || strings.Contains(string(res.Stdout), "Reboot is required")):
		if len(items) > 0 {
			reason = "updated since boot: " + strings.Join(items, ", ")
		}
		return true, reason, true, nil
	default:
		// dnf also exits 1 on its own errors; without the report that is
		// an error, not a yes.
		return false, "", true, exitError(argv, res)
	}
}
