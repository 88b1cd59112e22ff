package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

// paramFlags collects repeated --param k=v flags.
type paramFlags map[string]any

func (p paramFlags) String() string { return "" }

// Set takes k=v; v is JSON when it parses as JSON (22, true, ["a"]), else
// a string.
func (p paramFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("--param %q: want key=value", s)
	}
	var x any
	if err := json.Unmarshal([]byte(v), &x); err == nil {
		p[k] = x
	} else {
		p[k] = v
	}
	return nil
}

const groupsUsage = "groups list | add NAME [--scan-interval H] | set-interval NAME H | assign GROUP WORKLET[@VERSION] [--remediate immediately|HH:MM|never] [--param k=v]... | unassign GROUP WORKLET | move DEVICE GROUP"

func (a *app) groups(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: amplatform " + groupsUsage)
	}
	sub := args[0]
	fs := a.flags("groups " + sub)
	asJSON := fs.Bool("json", false, "print JSON (list)")
	interval := fs.Int("scan-interval", store.DefaultScanInterval, "scan interval in hours, 6 to 24 (add)")
	remediate := fs.String("remediate", "never", "when to remediate: immediately, never or HH:MM (assign)")
	params := paramFlags{}
	fs.Var(params, "param", "assignment parameter key=value, repeatable (assign)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "list":
		gs, err := st.Groups(ctx)
		if err != nil {
			return err
		}
		fleet.RedactGroups(ctx, st, gs)
		if *asJSON {
			return a.printJSON(gs)
		}
		tw := newTable("GROUP", "SCAN INTERVAL", "DEVICES", "ASSIGNED").numeric(2)
		for _, g := range gs {
			var as []string
			for _, x := range g.Assignments {
				as = append(as, fmt.Sprintf("%s@%s (remediate %s%s)", x.Worklet, x.Version, x.Remediate, formatParams(x.Params)))
			}
			tw.add(g.Name, fmt.Sprintf("%dh", g.ScanInterval), g.Devices, strings.Join(as, ", "))
		}
		return tw.write(a.stdout, a.wide)
	case "add":
		if err := wantArgs(pos, 1, "groups add NAME [--scan-interval H]"); err != nil {
			return err
		}
		if !fleet.ValidName(pos[0]) {
			return fmt.Errorf("group name %q: want lowercase letters, digits and dashes", pos[0])
		}
		return st.AddGroup(ctx, pos[0], *interval)
	case "set-interval":
		if err := wantArgs(pos, 2, "groups set-interval NAME HOURS"); err != nil {
			return err
		}
		h, err := strconv.Atoi(strings.TrimSuffix(pos[1], "h"))
		if err != nil {
			return fmt.Errorf("scan interval %q: want whole hours, 6 to 24", pos[1])
		}
		return st.SetScanInterval(ctx, pos[0], h)
	case "assign":
		if err := wantArgs(pos, 2, "groups assign GROUP WORKLET[@VERSION] [--remediate ...] [--param k=v]..."); err != nil {
			return err
		}
		if err := fleet.ValidateRemediate(*remediate); err != nil {
			return err
		}
		name, version, _ := strings.Cut(pos[1], "@")
		as := store.Assignment{Worklet: name, Version: version, Remediate: *remediate}
		if len(params) > 0 {
			as.Params = params
		}
		got, err := st.Assign(ctx, pos[0], as)
		if err != nil {
			return err
		}
		got.Params = fleet.RedactParams(ctx, st, got.Worklet, got.Version, got.Params)
		fmt.Fprintf(a.stdout, "assigned %s@%s to group %s (remediate %s%s)\n", termSafe(got.Worklet), termSafe(got.Version), termSafe(pos[0]), termSafe(got.Remediate), termSafe(formatParams(got.Params)))
		return nil
	case "unassign":
		if err := wantArgs(pos, 2, "groups unassign GROUP WORKLET"); err != nil {
			return err
		}
		return st.Unassign(ctx, pos[0], pos[1])
	case "move":
		if err := wantArgs(pos, 2, "groups move DEVICE GROUP"); err != nil {
			return err
		}
		d, err := st.FindDevice(ctx, pos[0])
		if err != nil {
			return err
		}
		return st.MoveDevice(ctx, d.ID, pos[1])
	}
	return errors.New("usage: amplatform " + groupsUsage)
}

// formatParams shows an assignment's (redacted) parameters, sorted.
func formatParams(p map[string]any) string {
	if len(p) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(p))
	var b strings.Builder
	for _, k := range keys {
		v, _ := json.Marshal(p[k])
		if s, ok := p[k].(string); ok {
			v = []byte(s)
		}
		fmt.Fprintf(&b, ", %s=%s", k, v)
	}
	return b.String()
}

func (a *app) worklet(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: amplatform worklet add DIR | list [--json] | release NAME [--device D]")
	}
	sub := args[0]
	fs := a.flags("worklet " + sub)
	asJSON := fs.Bool("json", false, "print JSON (list)")
	device := fs.String("device", "", "release: only on this device (UUID or hostname)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		if err := wantArgs(pos, 1, "worklet add DIR"); err != nil {
			return err
		}
		manifest, module, err := fleet.ReadWorkletDir(pos[0])
		if err != nil {
			return err
		}
		key, err := a.signingKey()
		if err != nil {
			return err
		}
		w, err := fleet.BuildWorklet(manifest, module, key, time.Now())
		if err != nil {
			return fmt.Errorf("%s: %w", pos[0], err)
		}
		st, err := a.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.AddWorklet(ctx, w); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "added %s %s@%s sha256 %s, signed\n", termSafe(w.Kind), termSafe(w.Name), termSafe(w.Version), w.SHA256)
		return nil
	case "release":
		if err := wantArgs(pos, 1, "worklet release NAME [--device D]"); err != nil {
			return err
		}
		return a.releaseWorklet(ctx, pos[0], *device) // release.go
	case "list":
		if err := wantArgs(pos, 0, "worklet list [--json]"); err != nil {
			return err
		}
		st, err := a.open(ctx)
		if err != nil {
			return err
		}
		defer st.Close()
		ws, err := st.Worklets(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			if ws == nil {
				ws = []store.Worklet{}
			}
			return a.printJSON(ws)
		}
		tw := newTable("NAME", "VERSION", "KIND", "SHA256", "ADDED")
		for _, w := range ws {
			tw.add(w.Name, w.Version, w.Kind, w.SHA256, w.CreatedAt.Local().Format(time.DateTime))
		}
		return tw.write(a.stdout, a.wide)
	}
	return errors.New("usage: amplatform worklet add DIR | list [--json] | release NAME [--device D]")
}
