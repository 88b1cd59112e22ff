package pkgtest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// runPlatformUnit runs the installed unit's ExecStart as its user, with
// its EnvironmentFile and the StateDirectory systemd would make, until a
// device checks in (loadgen); it returns what it printed.
func runPlatformUnit(t *testing.T, unit string, port int) string {
	t.Helper()
	u, err := user.Lookup("amplatform")
	if err != nil {
		t.Fatalf("the package made no amplatform user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// StateDirectory=amplatform, StateDirectoryMode=0700.
	os.MkdirAll("/var/lib/amplatform", 0o700)
	os.Chown("/var/lib/amplatform", uid, gid)
	os.Chmod("/var/lib/amplatform", 0o700)

	argv := execStart(t, unit, envFile(t, "/etc/amplatform/amplatform.env"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	cmd.Dir = "/"
	pr, pw, _ := os.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var out []string
	url := ""
	deadline := time.After(30 * time.Second)
	for url == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("amplatform ended:\n%s", strings.Join(out, "\n"))
			}
			out = append(out, l)
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(l); m != nil {
				url = m[1]
			}
		case <-deadline:
			t.Fatalf("amplatform did not listen:\n%s", strings.Join(out, "\n"))
		}
	}
	if url != fmt.Sprintf("http://127.0.0.1:%d", port) {
		t.Errorf("listening on %s, not the port set in amplatform.env (%d)", url, port)
	}
	key := strings.TrimSpace(read(t, "/var/lib/amplatform/access.key"))
	lg := exec.Command("/usr/bin/amplatform", "loadgen", "--url", url, "--access-key", key, "--devices", "1", "--duration", "300ms", "--concurrency", "1")
	if b, err := lg.CombinedOutput(); err != nil || !regexp.MustCompile(`check-ins: [1-9]\d* ok, 0 failed`).Match(b) {
		t.Errorf("a device checking in: %v\n%s", err, b)
	}
	cancel()
	cmd.Wait()
	for l := range lines {
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

// The platform .deb: its own user, files and modes, the unit's ExecStart
// run as that user prints the admin token once (and keeps it in no file),
// a device checks in, an upgrade keeps the database and the settings, remove
// keeps the data, purge leaves nothing.
func TestPlatformDebLifecycle(t *testing.T) {
	needRootDpkg(t)
	arch := runtime.GOARCH
	deb := pkg(t, dist(t), "amplatform_*_"+arch+".deb")
	const unit = "/lib/systemd/system/amplatform.service"
	if st, err := os.Stat("/run/systemd/system"); err == nil && st.IsDir() {
		t.Skip("systemd runs here: the package starts the unit on 127.0.0.1:8080 itself; this test runs ExecStart by hand")
	}
	exec.Command("dpkg", "--purge", "amplatform").Run()
	t.Cleanup(func() { exec.Command("dpkg", "--purge", "amplatform").Run() })
	dpkg(t, "-i", deb)

	checkFiles(t, []fileWant{
		{path: "/usr/bin/amplatform", mode: 0o755, owner: "root", grp: "root"},
		{path: "/etc/amplatform", dir: true, mode: 0o755, owner: "root", grp: "root"},
		{path: "/etc/amplatform/amplatform.env", mode: 0o640, owner: "root", grp: "amplatform"},
		{path: unit, mode: 0o644, owner: "root", grp: "root"},
		{path: "/usr/lib/sysusers.d/amplatform.conf", mode: 0o644, owner: "root", grp: "root"},
		{path: "/usr/share/doc/amplatform/copyright", mode: 0o644, owner: "root", grp: "root"},
		{path: "/etc/systemd/system/multi-user.target.wants/amplatform.service", linkTarget: unit},
	})
	if c := sh(t, "dpkg-query", "-W", "-f=${Conffiles}", "amplatform"); !strings.Contains(c, "/etc/amplatform/amplatform.env") {
		t.Errorf("amplatform.env is not a conffile: %q", c)
	}
	if sh := sh(t, "getent", "passwd", "amplatform"); !strings.Contains(sh, ":/var/lib/amplatform:") || !strings.Contains(sh, "nologin") {
		t.Errorf("amplatform user: %s", sh)
	}
	verifyUnit(t, unit)

	// A settings edit: another port.
	port := freePort(t)
	env := read(t, "/etc/amplatform/amplatform.env")
	env = strings.Replace(env, `AMPLATFORM_SERVE_FLAGS="--listen 127.0.0.1:8080"`, fmt.Sprintf(`AMPLATFORM_SERVE_FLAGS="--listen 127.0.0.1:%d --flush-interval 50ms"`, port), 1)
	os.WriteFile("/etc/amplatform/amplatform.env", []byte(env), 0o640)

	first := runPlatformUnit(t, unit, port)
	tokenRe := regexp.MustCompile(`new admin token .*: (\S+) \(not stored anywhere else`)
	m := tokenRe.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("the first start did not print the admin token:\n%s", first)
	}
	gone(t, "/var/lib/amplatform/admin.token")
	checkFiles(t, []fileWant{
		{path: "/var/lib/amplatform", dir: true, mode: 0o700, owner: "amplatform", grp: "amplatform"},
		{path: "/var/lib/amplatform/access.key", mode: 0o600, owner: "amplatform", grp: "amplatform"},
	})
	devices := func() string {
		cmd := exec.Command("/usr/bin/amplatform", "devices", "--data", "/var/lib/amplatform", "--json")
		u, _ := user.Lookup("amplatform")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("amplatform devices: %v\n%s", err, b)
		}
		return string(b)
	}
	before := devices()
	if !strings.Contains(before, `"uuid"`) {
		t.Fatalf("no device on the platform after loadgen:\n%s", before)
	}

	next := nextVersion(t)
	dpkg(t, "-i", pkg(t, buildDebs(t, next), "amplatform_*_"+arch+".deb"))
	if got := read(t, "/etc/amplatform/amplatform.env"); got != env {
		t.Errorf("the upgrade changed amplatform.env:\n%s", got)
	}
	if got := devices(); got != before {
		t.Errorf("devices after the upgrade:\n%s\nbefore:\n%s", got, before)
	}
	again := runPlatformUnit(t, unit, port)
	if strings.Contains(again, "admin token") || strings.Contains(again, m[1]) {
		t.Errorf("a later start printed the admin token again:\n%s", again)
	}

	dpkg(t, "-r", "amplatform")
	gone(t, "/usr/bin/amplatform", unit)
	if _, err := os.Stat(filepath.Join("/var/lib/amplatform", "access.key")); err != nil {
		t.Errorf("remove did not keep the data: %v", err)
	}
	dpkg(t, "-P", "amplatform")
	gone(t, "/etc/amplatform", "/var/lib/amplatform", unit, "/usr/lib/sysusers.d/amplatform.conf",
		"/etc/systemd/system/multi-user.target.wants/amplatform.service",
		"/var/lib/systemd/deb-systemd-helper-enabled/amplatform.service.dsh-also",
		"/var/lib/systemd/deb-systemd-helper-masked/amplatform.service",
		"/usr/share/doc/amplatform")
	if _, err := user.Lookup("amplatform"); err == nil {
		t.Error("purge left the amplatform user")
	}
}
