package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/platform/internal/store"
)

// ago2 is how long ago t was, short; "never" for zero.
func ago2(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return ago(now.Sub(t))
}

// devicesTable prints the device list to fit 100 columns (--wide: every
// column, whole): status, outcomes of the newest scan including not
// applicable and quarantined, pending and security updates.
func (a *app) devicesTable(ctx context.Context, st store.Store, now time.Time) error {
	since := now.Add(-2 * checkinInterval(ctx, st))
	var rows []store.DeviceRow
	for {
		page, total, err := st.ListDevices(ctx, store.DeviceQuery{OnlineSince: since, Offset: len(rows), Limit: 10000})
		if err != nil {
			return err
		}
		rows = append(rows, page...)
		if len(page) == 0 || len(rows) >= total {
			break
		}
	}
	status := func(d store.DeviceRow) string {
		switch {
		case d.LastSeen.IsZero():
			return "never"
		case d.LastSeen.Before(since):
			return "offline"
		}
		return "online"
	}
	if a.wide {
		tw := newTable("HOSTNAME", "UUID", "GROUP", "OS", "VERSION", "UPTIME", "TZ", "FIRST CHECK-IN", "LAST CHECK-IN", "STATUS", "LAST SCAN",
			"COMPLIANT", "NON-COMPLIANT", "ERROR", "QUARANTINED", "NOT APPLICABLE", "UPDATES", "SECURITY", "REBOOT").numeric(11, 12, 13, 14, 15, 16, 17)
		for _, d := range rows {
			o := d.Outcomes
			tw.add(d.Hostname, d.UUID, d.Group, d.OS, d.AgentVersion, uptime(d.Uptime), d.TZ, when(d.FirstSeen, now), when(d.LastSeen, now), status(d),
				when(d.LastScan, now), o.Compliant, o.NonCompliant, o.Error, o.Quarantined, o.NotApplicable, d.PendingUpdates, d.SecurityUpdates, yes(d.RebootRequired))
		}
		return tw.write(a.stdout, true)
	}
	tw := newTable("HOSTNAME", "UUID", "STATUS", "SCANNED", "OK", "NC", "ERR", "QUAR", "N/A", "UPD").numeric(4, 5, 6, 7, 8, 9).keep(1)
	for _, d := range rows {
		o := d.Outcomes
		tw.add(d.Hostname, d.UUID, status(d), ago2(d.LastScan, now), o.Compliant, o.NonCompliant, o.Error, o.Quarantined, o.NotApplicable, d.PendingUpdates)
	}
	if err := tw.write(a.stdout, false); err != nil {
		return err
	}
	if len(rows) > 0 {
		fmt.Fprintln(a.stdout, "(NC non-compliant, QUAR quarantined, N/A not applicable, UPD pending updates; --wide: all)")
	}
	return nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// retireDevice takes a device out of the fleet (UUID only: hostnames are
// chosen by devices).
func (a *app) retireDevice(ctx context.Context, args []string) error {
	st, d, err := a.deviceByUUID(ctx, "devices retire", args)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RetireDevice(ctx, d.ID, time.Now()); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "device %s (%s) retired: token and key binding revoked, waiting commands canceled, left out of every list; "+
		"if its agent is still installed it enrolls again\n", termSafe(d.UUID), termSafe(d.Hostname))
	return nil
}

// commands: `commands cancel ID` ends a command that has no result yet.
func (a *app) commands(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "cancel" {
		return errors.New("usage: amplatform commands cancel ID")
	}
	fs := a.flags("commands cancel")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "commands cancel ID"); err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("commands cancel %q: give the command's id (amplatform results DEVICE lists them)", pos[0])
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	c, err := st.CancelCommand(ctx, id, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "command %d (%s) of device %s canceled\n", id, termSafe(c.Command), termSafe(c.Device))
	return nil
}

// software: which devices have package NAME, at which versions, below V.
func (a *app) software(ctx context.Context, args []string) error {
	fs := a.flags("software")
	below := fs.String("below", "", "only devices with a version below this one (dpkg's ordering)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "software NAME [--below VERSION] [--json] [--wide]"); err != nil {
		return err
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	rows, err := st.SoftwareDevices(ctx, pos[0])
	if err != nil {
		return err
	}
	if b := strings.TrimSpace(*below); b != "" {
		if rows, err = store.Below(rows, b); err != nil {
			return fmt.Errorf("--below: %w", err)
		}
	}
	if *asJSON {
		return a.printJSON(rows)
	}
	if len(rows) == 0 {
		names, err := st.SoftwareNames(ctx, pos[0], 10)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "no device has %s", termSafe(pos[0]))
		if *below != "" {
			fmt.Fprintf(a.stdout, " below %s", termSafe(*below))
		}
		fmt.Fprintln(a.stdout)
		if len(names) > 0 && *below == "" {
			var ns []string
			for _, n := range names {
				ns = append(ns, fmt.Sprintf("%s (%d)", n.Name, n.Devices))
			}
			fmt.Fprintf(a.stdout, "similar names: %s\n", termSafe(strings.Join(ns, ", ")))
		}
		return nil
	}
	tw := newTable("HOSTNAME", "UUID", "GROUP", "VERSION", "ARCH", "SOURCE").keep(1)
	for _, r := range rows {
		tw.add(r.Hostname, r.UUID, r.Group, r.Version, r.Architecture, r.Source)
	}
	return tw.write(a.stdout, a.wide)
}
