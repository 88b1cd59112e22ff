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
		{name: "option injection refused", fs: debian, goos: "linux", pkgs: []string{"--reinstall"}, wantErr: `package "--reinstall" refused: it starts with '-'`},
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
				LastScan: lastScan(`{"pending_updates":[{"name":"openssl"},{"name":"libssl3"},{"name":"kernel"},{"name":"musl"},{"name":"x"}]}`),
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

func lastScan(doc string) func(context.Context) ([]byte, error) {
	return func(context.Context) ([]byte, error) { return []byte(doc), nil }
}

// TestInstallUpdateRefusesActions: a name apt, dnf or apk could read as
// another action, or one the last scan does not list with a pending
// update, is refused with the package and the reason, and nothing runs.
// Failed before the fix (issue 9, finding 5): "openssh-server-" passed
// the name check and apt-get ran, reading the trailing '-' as "remove".
func TestInstallUpdateRefusesActions(t *testing.T) {
	doc := `{"pending_updates":[{"name":"openssh-server","version":"1:9.2p1-2+deb12u5"},{"name":"libc6"}]}`
	cases := []struct{ name, want string }{
		{"openssh-server-", `package "openssh-server-" refused: it ends with '-', which apt reads as "remove this package"`},
		{"openssh-server+", `ends with '+'`},
		{"openssh-server=1:8.0", `contains '=', a version pin`},
		{"openssh-server/bookworm-backports", `contains '/', a release selector`},
		{"openssh-*", `contains '*', a pattern character`},
		{"openssh-serve?", `contains '?'`},
		{"openssh-[s]erver", `contains '['`},
		{"--purge", `starts with '-'`},
		{"openssh-server libc6", `whitespace or a control character`},
		{"openssh-server\n", `whitespace or a control character`},
		{"openssh-server@edge", `contains '@'`},
		{"musl~1.2", `contains '~'`},
		{"", `the name is empty`},
		{"bash", `package "bash" refused: the last scan lists no pending update`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran := 0
			in := &Installer{
				Log: slog.New(slog.DiscardHandler), FS: fstest.MapFS{"usr/bin/apt-get": {Mode: 0o755}}, GOOS: "linux",
				LastScan: lastScan(doc),
				Exec: func(context.Context, sysexec.Request) (sysexec.Result, error) {
					ran++
					return sysexec.Result{}, nil
				},
			}
			_, err := in.Install(t.Context(), []string{"libc6", tc.name})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if ran != 0 {
				t.Fatalf("%d programs ran", ran)
			}
		})
	}
	// Without a scan to check against, nothing is installed either.
	in := &Installer{Log: slog.New(slog.DiscardHandler), FS: fstest.MapFS{"usr/bin/apt-get": {Mode: 0o755}}, GOOS: "linux",
		Exec: func(context.Context, sysexec.Request) (sysexec.Result, error) {
			t.Fatal("ran")
			return sysexec.Result{}, nil
		}}
	if _, err := in.Install(t.Context(), []string{"libc6"}); err == nil || !strings.Contains(err.Error(), "no scan") {
		t.Fatalf("got %v", err)
	}
	// The names the scan lists do install.
	in.LastScan = lastScan(doc)
	in.Exec = func(context.Context, sysexec.Request) (sysexec.Result, error) { return sysexec.Result{}, nil }
	if _, err := in.Install(t.Context(), []string{"openssh-server", "libc6"}); err != nil {
		t.Fatal(err)
	}
}
