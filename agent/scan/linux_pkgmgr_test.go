//go:build linux

package scan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"testing/synctest"
	"time"

	"github.com/amagent/amagent/agent/scan/internal/pkgmgr"
	"github.com/amagent/amagent/agent/sysexec"
)

var rpmQA = "rpm -qa --qf " + pkgmgr.RPMQueryFormat

func TestRPMSoftware(t *testing.T) {
	env, _ := pmEnv(t, progs("/usr/bin/rpm"), map[string]fakeAnswer{rpmQA: out(0, pmData(t, "rpm-qa-rhel9.txt"))})
	pkgs, err := rpmSoftware(t.Context(), env)
	if err != nil || len(pkgs) != 32 {
		t.Fatalf("got %d packages, %v", len(pkgs), err)
	}
	// rpm installed on a dpkg system, its database empty: no packages, no error.
	deb := progs("/usr/bin/rpm")
	deb["var/lib/dpkg/status"] = &fstest.MapFile{Data: []byte("Package: rpm\n")}
	env, _ = pmEnv(t, deb, map[string]fakeAnswer{rpmQA: out(0, "")})
	if pkgs, err := rpmSoftware(t.Context(), env); pkgs != nil || err != nil {
		t.Errorf("rpm on Debian: %v %v", pkgs, err)
	}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		ans  fakeAnswer
		want string
	}{
		{"no rpm program", progs(), fakeAnswer{}, "rpm program is not on the system path"},
		{"exit 1", progs("/bin/rpm"), fakeAnswer{res: sysexec.Result{ExitCode: 1, Stderr: []byte("error: cannot open Packages database in /var/lib/rpm")}}, "exit code 1: error: cannot open Packages"},
		{"garbage", progs("/bin/rpm"), out(0, pmData(t, "rpm-qa-garbage.txt")), "want 7"},
		{"empty", progs("/bin/rpm"), out(0, ""), "no packages"},
		{"output over the cap", progs("/bin/rpm"), fakeAnswer{res: sysexec.Result{Stdout: []byte(pmData(t, "rpm-qa-truncated.txt")), Truncated: true}}, "truncated"},
		{"timeout", progs("/bin/rpm"), fakeAnswer{err: fmt.Errorf("rpm: %w after 5s", sysexec.ErrTimeout)}, "timed out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := pmEnv(t, tc.fsys, map[string]fakeAnswer{rpmQA: tc.ans})
			_, err := rpmSoftware(t.Context(), env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestPkgmgrHangingProgram runs each collector against a program that
// never ends: the runner honours the request's timeout (in a synctest
// bubble, so no real time passes) and each collector reports the timeout.
func TestPkgmgrHangingProgram(t *testing.T) {
	hang := hangRunner
	fsys := progs("/usr/bin/rpm", "/usr/bin/dnf", "/usr/bin/needs-restarting", "/sbin/apk", "/usr/bin/snap", "/usr/bin/flatpak")
	calls := map[string]func(ctx context.Context, env *Env) error{
		"rpm":     func(ctx context.Context, env *Env) error { _, err := rpmSoftware(ctx, env); return err },
		"dnf":     func(ctx context.Context, env *Env) error { _, err := dnfPending(ctx, env); return err },
		"apk":     func(ctx context.Context, env *Env) error { _, err := apkPending(ctx, env); return err },
		"snap":    func(ctx context.Context, env *Env) error { _, err := snapSoftware(ctx, env); return err },
		"flatpak": func(ctx context.Context, env *Env) error { _, err := flatpakSoftware(ctx, env); return err },
		"needs-restarting": func(ctx context.Context, env *Env) error {
			_, _, ran, err := needsRestarting(ctx, env)
			if !ran {
				return errors.New("did not run")
			}
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				env := &Env{FS: fsys, Exec: hang, Timeout: 30 * time.Second}
				start := time.Now()
				err := call(t.Context(), env)
				if !errors.Is(err, sysexec.ErrTimeout) {
					t.Fatalf("err = %v, want a timeout", err)
				}
				if d := time.Since(start); d != 30*time.Second {
					t.Errorf("gave up after %s, want the 30s timeout", d)
				}
			})
		})
	}
}

func TestDNFPending(t *testing.T) {
	cu := "dnf -q -C check-update"
	ui := "dnf -q -C updateinfo list --security --available"
	fsys := progs("/usr/bin/dnf", "/usr/bin/rpm")
	var rpmQ string
	{
		ups, err := pkgmgr.ParseDNFCheckUpdate([]byte(pmData(t, "dnf-check-update-rhel9.txt")))
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"rpm", "-q", "--qf", pkgmgr.RPMVersionFormat}
		for _, u := range ups {
			args = append(args, u.Name+"."+u.Arch)
		}
		rpmQ = strings.Join(args, " ")
	}
	t.Run("updates", func(t *testing.T) {
		env, f := pmEnv(t, fsys, map[string]fakeAnswer{
			cu:   out(100, pmData(t, "dnf-check-update-rhel9.txt")),
			ui:   out(0, pmData(t, "dnf-updateinfo-security-rhel9.txt")),
			rpmQ: out(1, "kernel.x86_64\t(none)\t5.14.0\t427.13.1.el9_4\npackage tzdata.noarch is not installed\n"),
		})
		ups, err := dnfPending(t.Context(), env)
		if err != nil {
			t.Fatal(err)
		}
		if len(ups) != 13 || len(f.ran) != 3 {
			t.Fatalf("%d updates after running %q", len(ups), f.ran)
		}
		var k *struct{ cur, sev string }
		for _, u := range ups {
			if u.Name == "kernel" {
				k = &struct{ cur, sev string }{u.CurrentVersion, u.Severity}
				if !u.Security || u.Source != "dnf" {
					t.Errorf("kernel = %+v", u)
				}
			}
		}
		if k == nil || k.cur != "5.14.0-427.13.1.el9_4" || k.sev != "important" {
			t.Errorf("kernel: %+v", k)
		}
	})
	t.Run("none", func(t *testing.T) {
		env, f := pmEnv(t, fsys, map[string]fakeAnswer{cu: out(0, "")})
		ups, err := dnfPending(t.Context(), env)
		if err != nil || ups == nil || len(ups) != 0 || len(f.ran) != 1 {
			t.Fatalf("%v %v, ran %q", ups, err, f.ran)
		}
	})
	t.Run("no cache", func(t *testing.T) {
		env, _ := pmEnv(t, fsys, map[string]fakeAnswer{cu: {res: sysexec.Result{ExitCode: 1, Stderr: []byte("Error: Cache-only enabled but no cache for 'baseos'")}}})
		_, err := dnfPending(t.Context(), env)
		if err == nil || !strings.Contains(err.Error(), "exit code 1: Error: Cache-only") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("exit 100 with garbage", func(t *testing.T) {
		env, _ := pmEnv(t, fsys, map[string]fakeAnswer{cu: out(100, pmData(t, "dnf-check-update-garbage.txt"))})
		if _, err := dnfPending(t.Context(), env); err == nil || !strings.Contains(err.Error(), "check-update") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("exit 100 empty", func(t *testing.T) {
		env, _ := pmEnv(t, fsys, map[string]fakeAnswer{cu: out(100, "\n")})
		if _, err := dnfPending(t.Context(), env); err == nil || !strings.Contains(err.Error(), "no update could be read") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("updateinfo fails", func(t *testing.T) {
		env, _ := pmEnv(t, fsys, map[string]fakeAnswer{
			cu:   out(100, pmData(t, "dnf-check-update-rhel9.txt")),
			ui:   out(0, "garbage here\n"),
			rpmQ: out(0, ""),
		})
		ups, err := dnfPending(t.Context(), env)
		if len(ups) != 13 || err == nil || !strings.Contains(err.Error(), "security flags unknown") {
			t.Fatalf("%d updates, err = %v", len(ups), err)
		}
		for _, u := range ups {
			if u.Security {
				t.Errorf("%s flagged security without advisories", u.Name)
			}
		}
	})
	t.Run("yum", func(t *testing.T) {
		env, f := pmEnv(t, progs("/usr/bin/yum"), map[string]fakeAnswer{
			"yum -q -C check-update":                       out(100, "kernel.x86_64  4.14.343-261.564.amzn2  amzn2-core\n"),
			"yum -q -C updateinfo list available security": out(0, "ALAS2-2024-2532 important/Sec. kernel-4.14.343-261.564.amzn2.x86_64\n"),
		})
		ups, err := dnfPending(t.Context(), env)
		if err != nil || len(ups) != 1 || !ups[0].Security || ups[0].Severity != "important" || len(f.ran) != 2 {
			t.Fatalf("%+v %v ran %q", ups, err, f.ran)
		}
	})
	t.Run("neither dnf nor yum", func(t *testing.T) {
		env, f := pmEnv(t, progs("/usr/bin/rpm"), nil)
		if ups, err := dnfPending(t.Context(), env); ups != nil || err != nil || len(f.ran) != 0 {
			t.Fatalf("%v %v ran %q", ups, err, f.ran)
		}
	})
}

func TestNeedsRestarting(t *testing.T) {
	dnfNR := "dnf -q -C --disablerepo=* needs-restarting -r"
	for _, tc := range []struct {
		name              string
		fsys              fstest.MapFS
		answers           map[string]fakeAnswer
		required, ran     bool
		reason, errSubstr string
	}{
		{name: "absent", fsys: progs("/usr/bin/dnf"), ran: false},
		{name: "yes", fsys: progs("/usr/bin/dnf", "/usr/bin/needs-restarting"), answers: map[string]fakeAnswer{dnfNR: out(1, pmData(t, "needs-restarting-yes.txt"))},
			required: true, ran: true, reason: "updated since boot: glibc, kernel, systemd"},
		{name: "no", fsys: progs("/usr/bin/dnf", "/usr/bin/needs-restarting"), answers: map[string]fakeAnswer{dnfNR: out(0, pmData(t, "needs-restarting-no.txt"))}, ran: true},
		{name: "without dnf", fsys: progs("/usr/bin/needs-restarting"), answers: map[string]fakeAnswer{"needs-restarting -r": out(1, pmData(t, "needs-restarting-yes.txt"))},
			required: true, ran: true, reason: "updated since boot: glibc, kernel, systemd"},
		{name: "dnf error exit 1", fsys: progs("/usr/bin/dnf", "/usr/bin/needs-restarting"),
			answers: map[string]fakeAnswer{dnfNR: {res: sysexec.Result{ExitCode: 1, Stderr: []byte("Error: rpmdb open failed")}}}, ran: true, errSubstr: "rpmdb open failed"},
		{name: "exit 2", fsys: progs("/usr/bin/needs-restarting"), answers: map[string]fakeAnswer{"needs-restarting -r": {res: sysexec.Result{ExitCode: 2, Stderr: []byte("usage")}}}, ran: true, errSubstr: "exit code 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := pmEnv(t, tc.fsys, tc.answers)
			req, reason, ran, err := needsRestarting(t.Context(), env)
			if req != tc.required || ran != tc.ran || reason != tc.reason {
				t.Errorf("got required=%v ran=%v reason=%q", req, ran, reason)
			}
			if (err != nil) != (tc.errSubstr != "") || (err != nil && !strings.Contains(err.Error(), tc.errSubstr)) {
				t.Errorf("err = %v, want %q", err, tc.errSubstr)
			}
		})
	}
}

func TestAPK(t *testing.T) {
	fsys := progs("/sbin/apk")
	fsys["lib/apk/db/installed"] = &fstest.MapFile{Data: []byte(pmData(t, "apk-installed-alpine319"))}
	av := "apk --no-network version -l <"
	env, _ := pmEnv(t, fsys, map[string]fakeAnswer{av: out(0, pmData(t, "apk-version-alpine319.txt"))})
	pkgs, err := apkSoftware(t.Context(), env)
	if err != nil || len(pkgs) != 17 {
		t.Fatalf("%d packages, %v", len(pkgs), err)
	}
	ups, err := apkPending(t.Context(), env)
	if err != nil || len(ups) != 6 {
		t.Fatalf("%d updates, %v", len(ups), err)
	}

	fsys["lib/apk/db/installed"] = &fstest.MapFile{Data: []byte(pmData(t, "apk-installed-truncated"))}
	if _, err := apkSoftware(t.Context(), env); err == nil || !strings.Contains(err.Error(), "/lib/apk/db/installed") {
		t.Errorf("truncated db: %v", err)
	}
	delete(fsys, "lib/apk/db/installed")
	if _, err := apkSoftware(t.Context(), env); err == nil || !strings.Contains(err.Error(), "file does not exist") {
		t.Errorf("missing db: %v", err)
	}
	env, _ = pmEnv(t, fsys, map[string]fakeAnswer{av: {res: sysexec.Result{ExitCode: 1, Stderr: []byte("ERROR: Unable to lock database")}}})
	if _, err := apkPending(t.Context(), env); err == nil || !strings.Contains(err.Error(), "Unable to lock") {
		t.Errorf("apk failure: %v", err)
	}
	env, _ = pmEnv(t, progs(), nil)
	if _, err := apkPending(t.Context(), env); err == nil {
		t.Error("apk program absent: no error")
	}
}

func TestSnapFlatpak(t *testing.T) {
	fl := "flatpak list --columns=" + pkgmgr.FlatpakColumns
	env, f := pmEnv(t, progs(), nil)
	if p, err := snapSoftware(t.Context(), env); p != nil || err != nil {
		t.Errorf("snap absent: %v %v", p, err)
	}
	if p, err := flatpakSoftware(t.Context(), env); p != nil || err != nil {
		t.Errorf("flatpak absent: %v %v", p, err)
	}
	if len(f.ran) != 0 {
		t.Errorf("ran %q without the programs", f.ran)
	}
	env, _ = pmEnv(t, progs("/usr/bin/snap", "/usr/bin/flatpak"), map[string]fakeAnswer{
		"snap list": out(0, pmData(t, "snap-list.txt")),
		fl:          out(0, pmData(t, "flatpak-list.txt")),
	})
	if p, err := snapSoftware(t.Context(), env); len(p) != 5 || err != nil {
		t.Errorf("snap: %d %v", len(p), err)
	}
	if p, err := flatpakSoftware(t.Context(), env); len(p) != 4 || err != nil {
		t.Errorf("flatpak: %d %v", len(p), err)
	}
	env, _ = pmEnv(t, progs("/usr/bin/snap", "/usr/bin/flatpak"), map[string]fakeAnswer{
		"snap list": {res: sysexec.Result{ExitCode: 1, Stderr: []byte(pmData(t, "snap-list-garbage.txt"))}},
		fl:          out(0, pmData(t, "flatpak-list-garbage.txt")),
	})
	if _, err := snapSoftware(t.Context(), env); err == nil || !strings.Contains(err.Error(), "cannot communicate") {
		t.Errorf("snapd down: %v", err)
	}
	if _, err := flatpakSoftware(t.Context(), env); err == nil {
		t.Error("flatpak garbage: no error")
	}
}
