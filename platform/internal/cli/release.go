package cli

import (
	"context"
	"fmt"
)

// releaseWorklet lifts a worklet's quarantine on every device, or on one:
// the agents learn it at their next check-in (the release counter of the
// worklet's assignment grows) and run the worklet again at their next
// scan.
func (a *app) releaseWorklet(ctx context.Context, name, device string) error {
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	var devID int64
	where := "every device"
	if device != "" {
		d, err := st.FindDevice(ctx, device)
		if err != nil {
			return err
		}
		devID, where = d.ID, fmt.Sprintf("%s (%s)", termSafe(d.Hostname), termSafe(d.UUID))
	}
	n, err := st.ReleaseWorklet(ctx, name, devID)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "released %s on %s (release %d): agents run it again after their next check-in\n", termSafe(name), where, n)
	return nil
}
