package scan

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
)

// TestMacSystemCollectors runs issue 15's macOS program-running parts on
// recorded outputs: which programs run with which arguments and what the
// scan makes of them.
func TestMacSystemCollectors(t *testing.T) {
	md := func(name string) string { return testdataFile(t, "macparse", name) }
	answers := map[string]fakeAnswer{
		"ioreg -rd1 -c IOPlatformExpertDevice":        out(0, md("ioreg-platform.txt")),
		"route -n get default":                        out(0, md("route-get-default.txt")),
		"route -n get -inet6 default":                 out(1, ""),
		"launchctl list":                              out(0, md("launchctl-list.txt")),
		"launchctl print-disabled system":             out(0, md("launchctl-print-disabled.txt")),
		"lsof -nP -iTCP -sTCP:LISTEN -iUDP -F pcuPtn": out(0, md("lsof-listen.txt")),
	}
	fsys := fstest.MapFS{
		"etc/resolv.conf": {Data: []byte("search corp.example\nnameserver 192.168.1.1\nnameserver fe80::1%en0\n")},
		"etc/hosts":       {Data: []byte("127.0.0.1 localhost\n")},
		"etc/localtime":   {Data: []byte("/var/db/timezone/zoneinfo/Europe/Paris"), Mode: 0o777 | fs.ModeSymlink},
	}
	env, _ := pmEnv(t, fsys, answers)
	env.Hostname = func() (string, error) { return "jane-mbp.corp.example", nil }
	env.Now = func() time.Time { return time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC) }
	ctx := t.Context()

	if id, err := macMachineID(ctx, env); err != nil || id != "6F1C2E3D-4B5A-6978-8796-A5B4C3D2E1F0" {
		t.Errorf("machine id %q, %v", id, err)
	}
	if tz := macTimezone(env); tz.Name != "Europe/Paris" || tz.Abbreviation != "CEST" || tz.OffsetS != 7200 {
		t.Errorf("timezone %+v", tz)
	}
	n := normNetwork(scandoc.Network{})
	macRoutes(ctx, env, &n)
	if n.DefaultGateway != "192.168.1.1" || n.DefaultInterface != "en0" || n.DefaultGateway6 != "" || len(n.Routes) != 1 {
		t.Errorf("routes: %+v", n)
	}
	if len(n.DNS.Servers) != 2 || n.DNS.Search[0] != "corp.example" || n.FQDN != "jane-mbp.corp.example" || n.Domain != "corp.example" {
		t.Errorf("dns/fqdn: %+v %q %q", n.DNS, n.FQDN, n.Domain)
	}
	s, err := macServices(ctx, env)
	if err != nil || s.Manager != "launchd" || len(s.Units) != 4 {
		t.Fatalf("services %+v, %v", s, err)
	}
	for _, u := range s.Units {
		if u.Name == "com.openssh.sshd" && (!u.Running || u.PID != 412 || u.Enabled != "enabled") {
			t.Errorf("sshd: %+v", u)
		}
	}
	ls, err := macListening(ctx, env)
	if err != nil || len(ls) != 6 || ls[0].Protocol != "tcp" || ls[0].Port != 22 {
		t.Errorf("listening %+v, %v", ls, err)
	}
	// lsof exits 1 with no output when nothing listens.
	answers["lsof -nP -iTCP -sTCP:LISTEN -iUDP -F pcuPtn"] = out(1, "")
	if ls, err := macListening(ctx, env); err != nil || len(ls) != 0 {
		t.Errorf("nothing listening: %+v, %v", ls, err)
	}
	answers["launchctl list"] = out(0, "garbage\n")
	if _, err := macServices(ctx, env); err == nil || !strings.Contains(err.Error(), "launchctl list") {
		t.Errorf("garbage launchctl: %v", err)
	}
}
