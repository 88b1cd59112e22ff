package pkgtest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const testKey = "package-test-access-key-0123456789"

// platform starts the built amplatform on a loopback port with its own
// data folder and returns its URL and folder.
func platform(t *testing.T, bin string) (string, string) {
	t.Helper()
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve", "--listen", "127.0.0.1:0", "--data", data, "--access-key", testKey,
		"--flush-interval", "50ms", "--log-level", "warn")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	re := regexp.MustCompile(`listening on (http://\S+)`)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return m[1], data
		}
	}
	t.Fatal("amplatform did not print its address")
	return "", ""
}

// seen reports whether the platform lists the device as checked in (the
// agent version is set by a check-in, not by enrolling).
func seen(t *testing.T, bin, data, uuid string) bool {
	out, err := exec.Command(bin, "devices", "--data", data, "--json").Output()
	if err != nil {
		return false
	}
	var devs []struct {
		UUID         string `json:"uuid"`
		AgentVersion string `json:"agent_version"`
	}
	if json.Unmarshal(out, &devs) != nil {
		return false
	}
	for _, d := range devs {
		if d.UUID == uuid && d.AgentVersion != "" {
			return true
		}
	}
	return false
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The agent .deb: install, check every file, enroll against a loopback
// platform, run the unit's ExecStart and see the device check in, upgrade
// (identity, token and configuration edits survive), remove (state kept),
// purge (nothing left).
func TestAgentDebLifecycle(t *testing.T) {
	needRootDpkg(t)
	arch := runtime.GOARCH
	deb := pkg(t, dist(t), "amagent_*_"+arch+".deb")
	ampBin := filepath.Join(dist(t), "build", "linux_"+arch, "amplatform")
	const unit = "/lib/systemd/system/amagent.service"
	systemd := false
	if st, err := os.Stat("/run/systemd/system"); err == nil && st.IsDir() {
		systemd = true
	}

	exec.Command("dpkg", "--purge", "amagent").Run() // a run that failed half-way
	t.Cleanup(func() { exec.Command("dpkg", "--purge", "amagent").Run() })
	dpkg(t, "-i", deb)

	checkFiles(t, []fileWant{
		{path: "/usr/bin/amagent", mode: 0o755, owner: "root", grp: "root"},
		{path: "/etc/amagent", dir: true, mode: 0o755, owner: "root", grp: "root"},
		{path: "/etc/amagent/amagent.toml", mode: 0o640, owner: "root", grp: "root"},
		{path: "/var/lib/amagent", dir: true, mode: 0o700, owner: "root", grp: "root"},
		{path: "/var/log/amagent", dir: true, mode: 0o750, owner: "root", grp: "root"},
		{path: unit, mode: 0o644, owner: "root", grp: "root"},
		{path: "/usr/share/doc/amagent/copyright", mode: 0o644, owner: "root", grp: "root"},
		{path: "/usr/share/doc/amagent/changelog.gz", mode: 0o644, owner: "root", grp: "root"},
		// Enabled at install, not started (not configured).
		{path: "/etc/systemd/system/multi-user.target.wants/amagent.service", linkTarget: unit},
	})
	listed := strings.Fields(sh(t, "dpkg-query", "-L", "amagent"))
	wantListed := []string{"/usr/bin/amagent", "/etc/amagent/amagent.toml", "/var/lib/amagent", "/var/log/amagent", unit,
		"/usr/share/doc/amagent/copyright", "/usr/share/doc/amagent/changelog.gz"}
	for _, w := range wantListed {
		if !contains(listed, w) {
			t.Errorf("dpkg -L amagent lacks %s:\n%s", w, strings.Join(listed, "\n"))
		}
	}
	if c := sh(t, "dpkg-query", "-W", "-f=${Conffiles}", "amagent"); !strings.Contains(c, "/etc/amagent/amagent.toml") {
		t.Errorf("amagent.toml is not a conffile: %q", c)
	}
	verifyUnit(t, unit)
	// Unconfigured: the unit's start condition says no.
	if err := exec.Command("/usr/bin/amagent", "service", "configured", "--config", "/etc/amagent/amagent.toml").Run(); err == nil {
		t.Error("a fresh install counts as configured")
	}

	// An admin's edit before enrolling; it must survive enroll and upgrade.
	f, err := os.OpenFile("/etc/amagent/amagent.toml", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n# edited by the package test\n[scan]\nskip_pending = true\n")
	f.Close()

	url, data := platform(t, ampBin)
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600)
	out := sh(t, "/usr/bin/amagent", "enroll", "--server", url, "--access-key-file", keyFile)
	if strings.Contains(out, testKey) {
		t.Errorf("enroll printed the key:\n%s", out)
	}
	uuid := strings.TrimSpace(read(t, "/var/lib/amagent/device_uuid"))
	token := read(t, "/var/lib/amagent/device_token")
	if !strings.Contains(out, "enrolled device "+uuid) {
		t.Errorf("enroll output:\n%s", out)
	}
	cfg := read(t, "/etc/amagent/amagent.toml")
	if !strings.Contains(cfg, `server = "`+url+`"`) || !strings.Contains(cfg, "# edited by the package test\n[scan]\nskip_pending = true\n") ||
		!strings.Contains(cfg, "# The platform's base URL.") {
		t.Errorf("configuration after enroll:\n%s", cfg)
	}
	checkFiles(t, []fileWant{{path: "/etc/amagent/amagent.toml", mode: 0o640, owner: "root", grp: "root"}})

	if systemd {
		// enroll started the unit itself.
		waitFor(t, 30*time.Second, "the device to check in through amagent.service", func() bool { return seen(t, ampBin, data, uuid) })
	} else {
		// No systemd as PID 1 here: run the unit's own command line.
		argv := execStart(t, unit, nil)
		t.Logf("ExecStart: %q", argv)
		cmd := exec.Command(argv[0], argv[1:]...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the device to check in", func() bool { return seen(t, ampBin, data, uuid) })
		// systemd's stop: SIGTERM; the agent exits 0 with its state flushed.
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("the agent ended with %v after SIGTERM, want exit 0", err)
		}
	}
	if log := read(t, "/var/log/amagent/amagent.log"); !strings.Contains(log, "msg=complete") {
		t.Errorf("no completed check-in in amagent.log:\n%s", log)
	}
	token = read(t, "/var/lib/amagent/device_token")
	cfg = read(t, "/etc/amagent/amagent.toml")

	// Upgrade to a higher version.
	next := nextVersion(t)
	up := pkg(t, buildDebs(t, next), "amagent_*_"+arch+".deb")
	dpkg(t, "-i", up)
	if v := sh(t, "dpkg-query", "-W", "-f=${Version}", "amagent"); v != next {
		t.Errorf("installed version %q after the upgrade, want %s", v, next)
	}
	if got := strings.TrimSpace(read(t, "/var/lib/amagent/device_uuid")); got != uuid {
		t.Errorf("device UUID %s after the upgrade, want %s", got, uuid)
	}
	if got := read(t, "/var/lib/amagent/device_token"); got != token {
		t.Error("device token changed by the upgrade")
	}
	if got := read(t, "/etc/amagent/amagent.toml"); got != cfg {
		t.Errorf("configuration changed by the upgrade:\n%s\nwas:\n%s", got, cfg)
	}
	if v := sh(t, "/usr/bin/amagent", "version"); !strings.Contains(v, next) {
		t.Errorf("amagent version after the upgrade: %q", v)
	}

	// Remove: the program goes, the state and configuration stay.
	dpkg(t, "-r", "amagent")
	gone(t, "/usr/bin/amagent", unit)
	for _, p := range []string{"/var/lib/amagent/device_uuid", "/var/lib/amagent/device_token", "/etc/amagent/amagent.toml"} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("remove did not keep %s: %v", p, err)
		}
	}
	// Purge: nothing is left.
	dpkg(t, "-P", "amagent")
	gone(t, "/etc/amagent", "/var/lib/amagent", "/var/log/amagent", unit,
		"/etc/systemd/system/multi-user.target.wants/amagent.service",
		"/etc/systemd/system/amagent.service",
		"/var/lib/systemd/deb-systemd-helper-enabled/amagent.service.dsh-also",
		"/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/amagent.service",
		"/var/lib/systemd/deb-systemd-helper-masked/amagent.service",
		"/usr/share/doc/amagent")
	if err := exec.Command("dpkg-query", "-W", "amagent").Run(); err == nil {
		if st := sh(t, "dpkg-query", "-W", "-f=${Status}", "amagent"); !strings.Contains(st, "not-installed") {
			t.Errorf("dpkg still knows amagent: %s", st)
		}
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
