//go:build wasip1

// Command reboot-pending-max-days is an amagent worklet: a reboot the
// system asks for (new kernel, updated libraries) must not stay pending for
// more than max_days days. It reads the scan's reboot fact and the clock
// (in a replay, the recording's time). It has no remediation: rebooting is
// for a maintenance window, not for a compliance check.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
)

// reboot is the scan's "reboot" object.
type reboot struct {
	Required bool       `json:"required"`
	Reasons  []string   `json:"reasons"`
	Packages []string   `json:"packages"`
	Since    *time.Time `json:"since"`
}

// Details is the result's details.
type Details struct {
	Required    bool     `json:"required"`
	Since       string   `json:"since,omitempty"`
	PendingDays *float64 `json:"pending_days,omitempty"`
	MaxDays     int64    `json:"max_days"`
	Reasons     []string `json:"reasons,omitempty"`
}

const day = 24 * time.Hour

func main() {
	doc, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	maxDays, err := doc.ParamInt("max_days", 7)
	if err != nil {
		amagent.Fatal(err)
	}
	if maxDays < 0 {
		amagent.Fatal(fmt.Errorf("param max_days: %d is negative", maxDays))
	}
	raw, err := amagent.Fact("reboot")
	if errors.Is(err, amagent.ErrNotFound) || err == nil && strings.TrimSpace(string(raw)) == "null" {
		amagent.NotApplicable("the scan has no reboot information for this device", nil)
	}
	if err != nil {
		amagent.Fatal(err)
	}
	var r reboot
	if err := json.Unmarshal(raw, &r); err != nil {
		amagent.Fatal(fmt.Errorf("fact reboot: %w", err))
	}
	d := Details{Required: r.Required, MaxDays: maxDays, Reasons: r.Reasons}
	if !r.Required {
		amagent.Compliant("no reboot pending", d)
	}
	now := time.Now().UTC()
	limit := time.Duration(maxDays) * day
	why := ""
	if len(r.Reasons) > 0 {
		why = " (" + strings.Join(r.Reasons, "; ") + ")"
	}
	if r.Since == nil {
		// The requirement appeared after the last boot, so the uptime bounds its age.
		var boot time.Time
		if err := amagent.FactInto("boot.time", &boot); err == nil && !boot.IsZero() && now.Sub(boot) <= limit {
			amagent.Compliant(fmt.Sprintf("reboot pending since an unknown time, at most %s (uptime), within %d days%s", days(now.Sub(boot)), maxDays, why), d)
		}
		amagent.NonCompliant(fmt.Sprintf("reboot pending since an unknown time, possibly more than %d days%s", maxDays, why), d)
	}
	age := now.Sub(*r.Since)
	pd := math.Round(float64(age)/float64(day)*100) / 100
	d.Since, d.PendingDays = r.Since.UTC().Format(time.RFC3339), &pd
	if age > limit {
		amagent.NonCompliant(fmt.Sprintf("reboot pending for %s, more than %d days%s", days(age), maxDays, why), d)
	}
	amagent.Compliant(fmt.Sprintf("reboot pending for %s, within %d days%s", days(age), maxDays, why), d)
}

// days formats a duration as days with one decimal.
func days(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < day {
		return fmt.Sprintf("%.1f hours", d.Hours())
	}
	return fmt.Sprintf("%.1f days", float64(d)/float64(day))
}
