package macparse

import (
	"testing"

	"github.com/amagent/amagent/agent/scandoc"
)

func TestPlatformUUID(t *testing.T) {
	id, err := PlatformUUID(read(t, "ioreg-platform.txt"))
	if err != nil || id != "6F1C2E3D-4B5A-6978-8796-A5B4C3D2E1F0" {
		t.Fatalf("%q %v", id, err)
	}
	if _, err := PlatformUUID([]byte("garbage\n")); err == nil {
		t.Error("no UUID: no error")
	}
}

func TestRouteGet(t *testing.T) {
	gw, ifc, err := RouteGet(read(t, "route-get-default.txt"))
	if err != nil || gw != "192.168.1.1" || ifc != "en0" {
		t.Errorf("inet: %q %q %v", gw, ifc, err)
	}
	gw, ifc, err = RouteGet(read(t, "route-get-inet6-default.txt"))
	if err != nil || gw != "fe80::1%en0" || ifc != "en0" {
		t.Errorf("inet6: %q %q %v", gw, ifc, err)
	}
	if _, _, err := RouteGet([]byte("route: writing to routing socket: not in table\n")); err == nil {
		t.Error("no default route: no error")
	}
}

func TestLaunchctl(t *testing.T) {
	svcs, err := LaunchctlList(read(t, "launchctl-list.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []scandoc.Service{
		{Name: "com.apple.SafariHistoryServiceAgent", Enabled: "enabled"},
		{Name: "com.openssh.sshd", Enabled: "enabled", Running: true, PID: 412},
		{Name: "com.apple.periodic-daily", Enabled: "enabled"},
		{Name: "com.apple.mDNSResponder", Enabled: "enabled", Running: true, PID: 98},
	}
	if len(svcs) != len(want) {
		t.Fatalf("got %+v", svcs)
	}
	for i := range want {
		if svcs[i] != want[i] {
			t.Errorf("job %d: %+v, want %+v", i, svcs[i], want[i])
		}
	}
	off := LaunchctlDisabled(read(t, "launchctl-print-disabled.txt"))
	if !off["com.apple.ftp-proxy"] || off["com.openssh.sshd"] || len(off) != 2 {
		t.Errorf("disabled: %v", off)
	}
	for _, bad := range []string{"", "PID\tStatus\tLabel\nx\t0\tcom.a\n", "no header at all\n"} {
		if _, err := LaunchctlList([]byte(bad)); err == nil {
			t.Errorf("LaunchctlList(%q): no error", bad)
		}
	}
}

func TestLsof(t *testing.T) {
	ls, err := Lsof(read(t, "lsof-listen.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := []scandoc.Listener{
		{Protocol: "udp", Address: "0.0.0.0", Port: 5353, PID: 98, Process: "mDNSResponder", UID: 65},
		{Protocol: "udp6", Address: "::", Port: 5353, PID: 98, Process: "mDNSResponder", UID: 65},
		{Protocol: "tcp6", Address: "::", Port: 22, PID: 412, Process: "sshd"},
		{Protocol: "tcp", Address: "0.0.0.0", Port: 22, PID: 412, Process: "sshd"},
		{Protocol: "tcp", Address: "127.0.0.1", Port: 7000, PID: 501, Process: "ControlCenter", UID: 501},
		{Protocol: "tcp6", Address: "::1", Port: 5432, PID: 777, Process: "postgres", UID: 501},
	}
	if len(ls) != len(want) {
		t.Fatalf("got %+v", ls)
	}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("socket %d: %+v, want %+v", i, ls[i], want[i])
		}
	}
	if _, err := Lsof([]byte("pabc\n")); err == nil {
		t.Error("bad pid: no error")
	}
}
