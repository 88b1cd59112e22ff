package updates

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/amagent/amagent/agent/sysexec"
)

func TestInstall(t *testing.T) {
	debian := fstest.MapFS{"usr/bin/apt-get": {Mode: 0o755}}
	rhel := fstest.MapFS{"usr/bin/dnf": {Mode: 0o755}}
	alpine := fstest.MapFS{"sbin/apk": {Mode: 0o755}}
	cases := []struct {
		name     string
		fs       fstest.MapFS
		goos     string
		dry      bool
		pkgs     []string
		exit     int
		wantArgv string
		wantErr  string
	}{
		{name: "apt", fs: debian, goos: "linux", pkgs: []string{"openssl", "libssl3"}, wantArgv: "apt-get install -y --only-upgrade -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold openssl libssl3"},
		{name: "dnf", fs: rhel, goos: "linux", pkgs: []string{"kernel"}, wantArgv: "dnf -y upgrade kernel"},
		{name: "apk", fs: alpine, goos: "linux", pkgs: []string{"musl"}, wantArgv: "apk upgrade musl"},
		{name: "dry run runs nothing", fs: debian, goos: "linux", dry: true, pkgs: []string{"openssl"}},
		{name: "option injection refused", fs: debian, goos: "linux", pkgs: []string{"--reinstall"}, wantErr: `"--reinstall" is not a valid package name`},
		{name: "no names", fs: debian, goos: "linux", wantErr: "no package names"},
		{name: "no package manager", fs: fstest.MapFS{}, goos: "linux", pkgs: []string{"x"}, wantErr: "no supported package manager"},
		{name: "windows unsupported", fs: debian, goos: "windows", pkgs: []string{"x"}, wantErr: "not supported yet"},
		{name: "failure reported", fs: debian, goos: "linux", pkgs: []string{"openssl"}, exit: 100, wantArgv: "apt-get install -y --only-upgrade -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold openssl", wantErr: "exited 100: E: broken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			var logs bytes.Buffer
			in := &Installer{
				Log: slog.New(slog.NewTextHandler(&logs, nil)), FS: tc.fs, GOOS: tc.goos, DryRun: tc.dry,
				Exec: func(ctx context.Context, req sysexec.Request) (sysexec.Result, error) {
					ran = append(ran, strings.Join(req.Argv, " "))
					if !strings.Contains(strings.Join(req.Env, " "), "DEBIAN_FRONTEND=noninteractive") {
						t.Errorf("env %v lacks DEBIAN_FRONTEND", req.Env)
					}
					return sysexec.Result{ExitCode: tc.exit, Stderr: []byte("reading lists\nE: broken\n")}, nil
				},
			}
			out, err := in.Install(t.Context(), tc.pkgs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ran, "|"); got != tc.wantArgv {
				t.Fatalf("ran %q, want %q", got, tc.wantArgv)
			}
			if tc.dry && (!out.DryRun || !strings.Contains(logs.String(), "dry run: would install updates")) {
				t.Fatalf("dry run not reported: %+v\n%s", out, logs.String())
			}
		})
	}
}
