//go:build wasip1

// Command auto-security-updates is an amagent worklet: security updates
// must be installed automatically. On Debian and Ubuntu that is
// unattended-upgrades, enabled through APT::Periodic in apt.conf.d, with
// the security archive among its origins and apt's daily timers on; on RHEL
// and its relatives, dnf-automatic with a timer that applies updates. The
// remediation writes /etc/apt/apt.conf.d/20auto-upgrades (Debian) or enables
// dnf-automatic-install.timer (RHEL); it installs nothing.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
	"github.com/amagent/amagent/wasm-modules/go/amagent/scanjson"
	"github.com/amagent/amagent/worklets/internal/aptconf"
)

const (
	aptParts    = "/etc/apt/apt.conf.d"
	aptMain     = "/etc/apt/apt.conf"
	autoUpg     = "/etc/apt/apt.conf.d/20auto-upgrades"
	dnfAutoConf = "/etc/dnf/automatic.conf"
	autoUpgText = "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\n"
)

// Details is the result's details.
type Details struct {
	Family   string   `json:"family"` // debian or rhel
	Problems []string `json:"problems,omitempty"`
	Facts    []string `json:"facts,omitempty"`
}

type osInfo struct {
	Family string   `json:"family"`
	ID     string   `json:"id"`
	IDLike []string `json:"id_like"`
}

func (o osInfo) is(ids ...string) bool {
	if slices.Contains(ids, o.ID) {
		return true
	}
	for _, l := range o.IDLike {
		if slices.Contains(ids, l) {
			return true
		}
	}
	return false
}

func main() {
	// No parameters: the phase comes from AMAGENT_PHASE (ABI section 2), so
	// the input document (with the whole scan) is not parsed on every run.
	phase := os.Getenv("AMAGENT_PHASE")
	if phase != amagent.PhaseEvaluate && phase != amagent.PhaseRemediate {
		amagent.Fatal(fmt.Errorf("AMAGENT_PHASE is %q, not evaluate or remediate", phase))
	}
	var o osInfo
	if err := amagent.FactInto("os", &o); err != nil {
		amagent.Fatal(err)
	}
	remediate := phase == amagent.PhaseRemediate
	switch {
	case o.Family != "linux":
		amagent.NotApplicable("automatic updates are checked on Linux only, not "+o.Family, nil)
	case o.is("debian", "ubuntu"):
		debian(remediate)
	case o.is("rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn"):
		rhel(remediate)
	}
	amagent.NotApplicable("no automatic-update check for "+o.ID+" (Debian, Ubuntu and RHEL-like systems are supported)", nil)
}

// ---------------------------------------------------------------- Debian

// installed says whether the scan's software list has a package called
// name (asking for one name at a time: cheaper than parsing the list here).
func installed(name string) bool {
	found := false
	_ = amagent.EachElement("software", "name", func(_ int, raw json.RawMessage) bool {
		found = len(raw) > 0 && scanjson.Equal(raw, name)
		return !found
	})
	return found
}

// loadAPT reads apt.conf.d in APT's order, then apt.conf; overlay replaces
// or adds one part file (for checking a remediation before writing it).
func loadAPT(overlay map[string]string) (aptconf.Config, error) {
	c := aptconf.Config{}
	var names []string
	entries, err := os.ReadDir(aptParts)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	for p := range overlay {
		if path.Dir(p) == aptParts && !slices.Contains(names, path.Base(p)) {
			names = append(names, path.Base(p))
		}
	}
	files := []string{}
	for _, n := range aptconf.PartFiles(names) {
		files = append(files, aptParts+"/"+n)
	}
	files = append(files, aptMain)
	for _, f := range files {
		text, ok := overlay[f]
		if !ok {
			b, err := os.ReadFile(f)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, err
			}
			text = string(b)
		}
		if err := c.Parse(f, text); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// enabled reads an APT::Periodic interval: a number of days, 0 is off.
func enabled(v string) bool {
	v = strings.TrimSpace(v)
	return v != "" && v != "0" && !strings.EqualFold(v, "false") && !strings.EqualFold(v, "no")
}

func aptProblems(c aptconf.Config) []string {
	var p []string
	if v := c.Get("APT::Periodic::Update-Package-Lists"); !enabled(v) {
		p = append(p, fmt.Sprintf("APT::Periodic::Update-Package-Lists is %q (package lists are not refreshed)", v))
	}
	if v := c.Get("APT::Periodic::Unattended-Upgrade"); !enabled(v) {
		p = append(p, fmt.Sprintf("APT::Periodic::Unattended-Upgrade is %q", v))
	}
	origins := append(c.List("Unattended-Upgrade::Origins-Pattern"), c.List("Unattended-Upgrade::Allowed-Origins")...)
	if !slices.ContainsFunc(origins, func(s string) bool { return strings.Contains(strings.ToLower(s), "security") }) {
		p = append(p, "no security origin in Unattended-Upgrade::Origins-Pattern or Allowed-Origins")
	}
	return p
}

// timerState asks systemd about a unit; "" when systemctl is unavailable.
func timerState(unit string) string {
	res, err := amagent.Exec([]string{"systemctl", "is-enabled", unit}, "", 5*time.Second)
	if errors.Is(err, amagent.ErrDenied) {
		amagent.Fatal(err)
	}
	if err != nil {
		return ""
	}
	return strings.TrimSpace(res.Stdout)
}

func debian(remediate bool) {
	d := Details{Family: "debian"}
	if !installed("unattended-upgrades") {
		d.Problems = append(d.Problems, "the unattended-upgrades package is not installed")
		if remediate {
			amagent.Failed("install the unattended-upgrades package first (the patch policy or apt-get install unattended-upgrades)", d)
		}
		amagent.NonCompliant("security updates are not automatic: "+strings.Join(d.Problems, "; "), d)
	}
	c, err := loadAPT(nil)
	if err != nil {
		amagent.Fatal(err)
	}
	d.Problems = aptProblems(c)
	var disabledTimers []string
	for _, unit := range []string{"apt-daily.timer", "apt-daily-upgrade.timer"} {
		switch st := timerState(unit); st {
		case "", "enabled", "static", "enabled-runtime", "alias", "indirect", "generated":
		default:
			disabledTimers = append(disabledTimers, unit)
			d.Problems = append(d.Problems, unit+" is "+st)
		}
	}
	if !remediate {
		if len(d.Problems) == 0 {
			amagent.Compliant("unattended-upgrades installs security updates daily", d)
		}
		amagent.NonCompliant("security updates are not automatic: "+strings.Join(d.Problems, "; "), d)
	}
	if len(d.Problems) == 0 {
		amagent.Succeeded("already compliant, nothing changed", d)
	}
	var done []string
	if len(aptProblems(c)) > 0 {
		after, err := loadAPT(map[string]string{autoUpg: autoUpgText})
		if err != nil {
			amagent.Fatal(err)
		}
		if p := aptProblems(after); len(p) > 0 {
			amagent.Failed("writing "+autoUpg+" would not be enough; fix by hand: "+strings.Join(p, "; "), d)
		}
		if err := os.WriteFile(autoUpg, []byte(autoUpgText), 0o644); err != nil {
			amagent.Failed("writing "+autoUpg+": "+err.Error(), d)
		}
		done = append(done, "wrote "+autoUpg)
	}
	if len(disabledTimers) > 0 {
		argv := append([]string{"systemctl", "enable", "--now"}, disabledTimers...)
		res, err := amagent.Exec(argv, "", 20*time.Second)
		if err != nil || res.ExitCode != 0 {
			amagent.Failed(strings.Join(append(done, "systemctl enable --now "+strings.Join(disabledTimers, " ")+" failed: "+describe(res, err)), "; "), d)
		}
		done = append(done, "enabled "+strings.Join(disabledTimers, " "))
	}
	amagent.Succeeded(strings.Join(done, "; "), d)
}

// ------------------------------------------------------------------ RHEL

// iniValue reads key in [section] of an INI file such as automatic.conf.
func iniValue(text, section, key string) (string, bool) {
	cur := ""
	val, found := "", false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			cur = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && cur == section && strings.TrimSpace(k) == key {
			val, found = strings.TrimSpace(v), true
		}
	}
	return val, found
}

func truthy(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "true", "1", "on":
		return true
	}
	return false
}

func rhel(remediate bool) {
	d := Details{Family: "rhel"}
	conf, err := os.ReadFile(dnfAutoConf)
	if errors.Is(err, fs.ErrNotExist) {
		d.Problems = append(d.Problems, "dnf-automatic is not installed ("+dnfAutoConf+" does not exist)")
		if remediate {
			amagent.Failed("install the dnf-automatic package first", d)
		}
		amagent.NonCompliant("security updates are not automatic: "+strings.Join(d.Problems, "; "), d)
	}
	if err != nil {
		amagent.Fatal(err)
	}
	install := timerState("dnf-automatic-install.timer")
	plain := timerState("dnf-automatic.timer")
	d.Facts = append(d.Facts, "dnf-automatic-install.timer: "+orUnknown(install), "dnf-automatic.timer: "+orUnknown(plain))
	apply, _ := iniValue(string(conf), "commands", "apply_updates")
	upgradeType, ok := iniValue(string(conf), "commands", "upgrade_type")
	if !ok {
		upgradeType = "default"
	}
	d.Facts = append(d.Facts, "apply_updates = "+apply, "upgrade_type = "+upgradeType)
	switch {
	case upgradeType != "default" && upgradeType != "security":
		d.Problems = append(d.Problems, "upgrade_type = "+upgradeType+" in "+dnfAutoConf+" (want security or default)")
	case install == "enabled":
		// The install timer applies updates whatever apply_updates says.
	case plain == "enabled" && truthy(apply):
	case plain == "enabled":
		d.Problems = append(d.Problems, "dnf-automatic.timer is enabled but apply_updates is not yes in "+dnfAutoConf+" (updates are only downloaded)")
	default:
		d.Problems = append(d.Problems, "neither dnf-automatic-install.timer nor dnf-automatic.timer is enabled")
	}
	if !remediate {
		if len(d.Problems) == 0 {
			amagent.Compliant("dnf-automatic applies "+upgradeType+" updates on a timer", d)
		}
		amagent.NonCompliant("security updates are not automatic: "+strings.Join(d.Problems, "; "), d)
	}
	if len(d.Problems) == 0 {
		amagent.Succeeded("already compliant, nothing changed", d)
	}
	if upgradeType != "default" && upgradeType != "security" {
		amagent.Failed("fix upgrade_type in "+dnfAutoConf+" by hand", d)
	}
	res, err := amagent.Exec([]string{"systemctl", "enable", "--now", "dnf-automatic-install.timer"}, "", 20*time.Second)
	if err != nil || res.ExitCode != 0 {
		amagent.Failed("systemctl enable --now dnf-automatic-install.timer failed: "+describe(res, err), d)
	}
	amagent.Succeeded("enabled dnf-automatic-install.timer", d)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown (systemctl unavailable)"
	}
	return s
}

func describe(res amagent.ExecResult, err error) string {
	if err != nil {
		return err.Error()
	}
	msg := strings.TrimSpace(res.Stderr + " " + res.Stdout)
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Sprintf("exit %d: %s", res.ExitCode, msg)
}
