// Package sshworklet is the shared body of the sshd worklets
// (ssh-no-root-login, ssh-no-password-login): each names the keywords it
// requires and the values it accepts, and this package evaluates the
// effective sshd configuration and, in the remediate phase, writes one
// drop-in under /etc/ssh/sshd_config.d/, validates it with `sshd -t` (undoing
// the write when sshd rejects it) and reloads the ssh service.
package sshworklet

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
	"github.com/amagent/amagent/worklets/internal/sshdconf"
)

// Rule is one keyword the worklet requires.
type Rule struct {
	Keyword string   // canonical spelling, as written in the drop-in
	Aliases []string // older names sshd still accepts
	Default string   // sshd's value when the keyword is not set
	Allowed []string // accepted values (lower case)
	Want    string   // the value the remediation writes
}

// Spec describes one sshd worklet.
type Spec struct {
	What   string // what compliance means, for messages: "sshd refuses root logins"
	Fail   string // what non-compliance means: "sshd allows root logins"
	DropIn string // absolute path of the drop-in the remediation writes
	Rules  []Rule
}

// Finding is one setting the worklet looked at.
type Finding struct {
	Keyword string `json:"keyword"`
	Value   string `json:"value"`
	Source  string `json:"source"` // file:line, or "default"
	Match   string `json:"match,omitempty"`
	OK      bool   `json:"ok"`
}

// Details is the result's details object.
type Details struct {
	Settings   []Finding `json:"settings"`
	Violations []string  `json:"violations,omitempty"`
	DropIn     string    `json:"drop_in,omitempty"`
}

// check evaluates the rules against cfg.
func (s Spec) check(cfg *sshdconf.Config) Details {
	var d Details
	for _, r := range s.Rules {
		names := append([]string{strings.ToLower(r.Keyword)}, r.Aliases...)
		f := Finding{Keyword: r.Keyword, Value: r.Default, Source: "default"}
		for _, st := range cfg.Settings {
			if st.Match == "" && slices.Contains(names, st.Keyword) {
				f.Value, f.Source = st.Value, st.Where()
				break
			}
		}
		f.OK = slices.Contains(r.Allowed, strings.ToLower(f.Value))
		if !f.OK {
			d.Violations = append(d.Violations, fmt.Sprintf("%s %s (%s)", r.Keyword, f.Value, f.Source))
		}
		d.Settings = append(d.Settings, f)
		for _, st := range cfg.Settings {
			if st.Match == "" || !slices.Contains(names, st.Keyword) {
				continue
			}
			m := Finding{Keyword: r.Keyword, Value: st.Value, Source: st.Where(), Match: st.Match}
			m.OK = slices.Contains(r.Allowed, strings.ToLower(st.Value))
			if !m.OK {
				d.Violations = append(d.Violations, fmt.Sprintf("%s %s in Match %s (%s)", r.Keyword, st.Value, st.Match, st.Where()))
			}
			d.Settings = append(d.Settings, m)
		}
	}
	return d
}

// matchViolations tells whether a violation is inside a Match block, which
// a global drop-in cannot override.
func matchViolations(d Details) bool {
	for _, f := range d.Settings {
		if !f.OK && f.Match != "" {
			return true
		}
	}
	return false
}

// dropIn is the file the remediation writes.
func (s Spec) dropIn(worklet string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by the amagent worklet %s: %s.\n# Delete this file to undo.\n", worklet, s.What)
	for _, r := range s.Rules {
		fmt.Fprintf(&b, "%s %s\n", r.Keyword, r.Want)
	}
	return b.String()
}

// Run carries out the phase of the input document and never returns.
func Run(doc *amagent.Document, s Spec) {
	if family, err := amagent.FactString("os.family"); err == nil && family != "linux" {
		amagent.NotApplicable("sshd checks apply to Linux only, not "+family, nil)
	}
	root := os.DirFS("/")
	cfg, err := sshdconf.Load(root, nil)
	if errors.Is(err, sshdconf.ErrNoConfig) {
		amagent.NotApplicable("sshd is not configured on this device ("+sshdconf.MainPath+" does not exist)", nil)
	}
	if err != nil {
		amagent.Fatal(fmt.Errorf("reading the sshd configuration: %w", err))
	}
	d := s.check(cfg)
	if doc.Phase != amagent.PhaseRemediate {
		if len(d.Violations) == 0 {
			amagent.Compliant(s.What, d)
		}
		amagent.NonCompliant(s.Fail+": "+strings.Join(d.Violations, "; "), d)
	}
	remediate(doc, s, root, d)
}

func remediate(doc *amagent.Document, s Spec, root fs.FS, d Details) {
	if len(d.Violations) == 0 {
		amagent.Succeeded("already compliant, nothing written", d)
	}
	if matchViolations(d) {
		amagent.Failed("a Match block overrides the setting; edit it by hand: "+strings.Join(d.Violations, "; "), d)
	}
	content := s.dropIn(doc.Worklet.Name)
	// Check, before writing anything, that sshd would read the drop-in
	// before any conflicting setting.
	after, err := sshdconf.Load(root, map[string]string{s.DropIn: content})
	if err != nil {
		amagent.Failed("reading the sshd configuration with the drop-in: "+err.Error(), d)
	}
	if ad := s.check(after); len(ad.Violations) > 0 {
		amagent.Failed("a drop-in in /etc/ssh/sshd_config.d/ would not take effect (sshd_config sets the value first, or does not Include sshd_config.d/*.conf); edit it by hand: "+strings.Join(ad.Violations, "; "), ad)
	}
	old, oldErr := os.ReadFile(s.DropIn)
	if err := os.WriteFile(s.DropIn, []byte(content), 0o644); err != nil {
		amagent.Failed("writing "+s.DropIn+": "+err.Error(), d)
	}
	d.DropIn = s.DropIn
	res, err := amagent.Exec([]string{"sshd", "-t"}, "", 10*time.Second)
	if err != nil || res.ExitCode != 0 {
		why := describe(res, err)
		if oldErr == nil {
			err = os.WriteFile(s.DropIn, old, 0o644)
		} else {
			err = os.Remove(s.DropIn)
		}
		undo := "the drop-in was removed"
		if err != nil {
			undo = "undoing the write also failed: " + err.Error()
		}
		amagent.Failed("sshd -t rejected the configuration ("+why+"); "+undo, d)
	}
	svc := serviceName()
	res, err = amagent.Exec([]string{"systemctl", "reload", svc}, "", 20*time.Second)
	if err != nil || res.ExitCode != 0 {
		amagent.Failed("wrote "+s.DropIn+" but systemctl reload "+svc+" failed ("+describe(res, err)+"); it takes effect at the next restart of sshd", d)
	}
	amagent.Succeeded("wrote "+s.DropIn+" and reloaded "+svc, d)
}

// serviceName is the systemd unit of sshd: "ssh" on Debian and Ubuntu,
// "sshd" elsewhere.
func serviceName() string {
	var osFact struct {
		ID     string   `json:"id"`
		IDLike []string `json:"id_like"`
	}
	if err := amagent.FactInto("os", &osFact); err == nil {
		if osFact.ID == "debian" || osFact.ID == "ubuntu" || slices.Contains(osFact.IDLike, "debian") || slices.Contains(osFact.IDLike, "ubuntu") {
			return "ssh"
		}
	}
	return "sshd"
}

func describe(res amagent.ExecResult, err error) string {
	if err != nil {
		return err.Error()
	}
	msg := strings.TrimSpace(res.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(res.Stdout)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return fmt.Sprintf("exit %d: %s", res.ExitCode, msg)
}
