// Package cli implements the amplatform subcommands: serve, devices, queue,
// results, groups, worklet, key and loadgen. Every subcommand but loadgen
// opens the database itself (--data DIR for the embedded SQLite database,
// --database URL for PostgreSQL).
package cli

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/amagent/amagent/agent/bundle"
	"github.com/amagent/amagent/platform/internal/fleet"
	"github.com/amagent/amagent/platform/internal/store"
)

const usage = `usage: amplatform <command> [flags]

commands:
  serve     --listen 127.0.0.1:8080 [--tls-cert F --tls-key F] [--access-key KEY]
            [--console 127.0.0.1:8443] [--history 720h] [--history-scans 200]
            [--checkin-interval 1h] [--command-timeout 10m]
            [--max-scan-size 16777216] [--max-scans 8]
  devices   [--json] [--wide] | reset UUID | retire UUID
                                            reset releases a device's key binding;
                                            retire takes it out of the fleet
  commands  cancel ID                       ends a command that has no result yet
  software  NAME [--below VERSION] [--json] which devices have package NAME
  queue     DEVICE COMMAND [PARAMS...]      e.g. queue web1 execCmd GetOS
  results   DEVICE [--json]
  groups    list [--json] | add NAME [--scan-interval H] | set-interval NAME H
            | assign GROUP WORKLET[@VERSION] [--remediate immediately|HH:MM|never] [--param k=v]...
            | unassign GROUP WORKLET | move DEVICE GROUP
  worklet   add DIR | list [--json] | release NAME [--device D]
            release lifts a worklet's quarantine (every device, or one)
  key       prints the platform's ed25519 public key (base64)
  admin-token  makes a new admin token, prints it once (the old one stops working)
  loadgen   --url URL --access-key K --devices N --duration 10s --concurrency C

every command but loadgen takes --data DIR (embedded database, keys) or
--database postgres://... (or $AMPLATFORM_DATABASE_URL); --key FILE names the
signing key (default DIR/platform.key). Tables fit 100 columns (long fields
cut with …); --wide shows them whole.
`

// Run runs one amplatform command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	a := &app{stdout: stdout, stderr: stderr}
	cmds := map[string]func(context.Context, []string) error{
		"serve": a.serve, "devices": a.devices, "queue": a.queue, "results": a.results,
		"groups": a.groups, "worklet": a.worklet, "key": a.key, "loadgen": a.loadgen,
		"admin-token": a.adminToken,
		"commands":    a.commands, "software": a.software, // reports.go
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	f, ok := cmds[args[0]]
	if !ok {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return f(ctx, args[1:])
}

type app struct {
	stdout, stderr io.Writer
	data, database string
	keyFile        string
	// noTokenFile: serve --admin-token-file=false prints a new admin token
	// once and keeps it nowhere.
	noTokenFile bool
	// wide: tables show every column whole (table.go).
	wide bool
}

// flags returns a flag set with the database flags.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.StringVar(&a.data, "data", "", "data directory: embedded database, keys")
	fs.StringVar(&a.database, "database", os.Getenv("AMPLATFORM_DATABASE_URL"), "PostgreSQL URL (instead of the embedded database)")
	fs.StringVar(&a.keyFile, "key", "", "signing key file (default DIR/platform.key)")
	fs.BoolVar(&a.wide, "wide", false, "tables: show every column whole (by default long fields are cut with … to fit 100 columns)")
	return fs
}

// parse parses flags anywhere among the arguments and returns the
// positional ones; everything after "--" is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, rest = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return append(pos, rest...), nil
}

func (a *app) open(ctx context.Context) (store.Store, error) {
	return store.Open(ctx, a.data, a.database)
}

func (a *app) keyPath() (string, error) {
	switch {
	case a.keyFile != "":
		return a.keyFile, nil
	case a.data != "":
		return filepath.Join(a.data, fleet.KeyFile), nil
	}
	return "", errors.New("no signing key: give --key FILE or --data DIR")
}

func (a *app) signingKey() (ed25519.PrivateKey, error) {
	p, err := a.keyPath()
	if err != nil {
		return nil, err
	}
	return fleet.LoadOrCreateKey(p)
}

// checkinInterval is the interval the serving platform hands out, for the
// online/offline column.
func checkinInterval(ctx context.Context, st store.Store) time.Duration {
	if v, ok, err := st.Setting(ctx, fleet.SettingCheckinInterval); err == nil && ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return time.Hour
}

func wantArgs(pos []string, n int, use string) error {
	if len(pos) != n {
		return fmt.Errorf("usage: amplatform %s", use)
	}
	return nil
}

// printJSON prints v indented, with nothing a terminal acts on (jsonSafe).
func (a *app) printJSON(v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := a.stdout.Write(jsonSafe(buf.Bytes()))
	return err
}

func when(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05") + " (" + ago(now.Sub(t)) + ")"
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func uptime(s int64) string {
	d := time.Duration(s) * time.Second
	if d >= 24*time.Hour {
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	}
	return d.Round(time.Minute).String()
}

func (a *app) devices(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "reset" {
		return a.resetDevice(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "retire" {
		return a.retireDevice(ctx, args[1:]) // reports.go
	}
	fs := a.flags("devices")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, "devices [--json]"); err != nil {
		return err
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	devs, err := st.Devices(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	views := fleet.Views(devs, now, checkinInterval(ctx, st))
	if *asJSON {
		if views == nil {
			views = []fleet.DeviceView{}
		}
		return a.printJSON(views)
	}
	return a.devicesTable(ctx, st, now)
}

// resetDevice releases a device's key binding and revokes its token, for
// a reinstalled machine that keeps its UUID: the next enrollment of the
// UUID binds the key it carries.
func (a *app) resetDevice(ctx context.Context, args []string) error {
	st, d, err := a.deviceByUUID(ctx, "devices reset", args)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.ResetDevice(ctx, d.ID); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "device %s (%s): key binding released and token revoked; its next enrollment binds the key it carries\n", termSafe(d.UUID), termSafe(d.Hostname))
	return nil
}

// deviceByUUID parses `amplatform WHAT UUID` and finds the device in the
// opened store (UUID only: hostnames are chosen by devices). The caller
// closes the store.
func (a *app) deviceByUUID(ctx context.Context, what string, args []string) (store.Store, store.Device, error) {
	fs := a.flags(what)
	pos, err := parse(fs, args)
	if err != nil {
		return nil, store.Device{}, err
	}
	if err := wantArgs(pos, 1, what+" UUID"); err != nil {
		return nil, store.Device{}, err
	}
	if _, err := uuid.Parse(pos[0]); err != nil {
		return nil, store.Device{}, fmt.Errorf("%s %q: give the device's UUID (hostnames are chosen by devices)", what, pos[0])
	}
	st, err := a.open(ctx)
	if err != nil {
		return nil, store.Device{}, err
	}
	d, err := st.FindDevice(ctx, pos[0])
	if err != nil {
		st.Close()
		return nil, store.Device{}, err
	}
	return st, d, nil
}

func (a *app) queue(ctx context.Context, args []string) error {
	fs := a.flags("queue")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return errors.New("usage: amplatform queue DEVICE COMMAND [PARAMS...]")
	}
	cmd, params := pos[1], pos[2:]
	if err := fleet.ValidateCommand(cmd, params); err != nil {
		return err
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.FindDevice(ctx, pos[0])
	if err != nil {
		return err
	}
	id, err := st.QueueCommand(ctx, d.ID, cmd, params, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, id)
	return nil
}

func (a *app) results(ctx context.Context, args []string) error {
	fs := a.flags("results")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 1, "results DEVICE [--json]"); err != nil {
		return err
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.FindDevice(ctx, pos[0])
	if err != nil {
		return err
	}
	now := time.Now()
	res, err := fleet.DeviceResults(ctx, st, d, now, checkinInterval(ctx, st))
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(res)
	}
	fmt.Fprintf(a.stdout, "device %s (%s), group %s, last check-in %s\n\n", termSafe(d.Hostname), termSafe(d.UUID), termSafe(d.Group), when(d.LastSeen, now))
	tw := newTable("ID", "COMMAND", "STATUS", "QUEUED", "DONE", "ELAPSED", "OUTPUT / ERROR").numeric(0, 5)
	for _, c := range res.Commands {
		status := c.Status
		if c.DoneAt.IsZero() {
			status = "queued"
			if !c.OfferedAt.IsZero() {
				status = fmt.Sprintf("sent (%dx)", c.Offers)
			}
		}
		out := c.Error
		if out == "" {
			out = string(c.Output)
		}
		tw.add(c.ID, strings.TrimSpace(c.Command+" "+strings.Join(c.Params, " ")), status, ago2(c.CreatedAt, now), ago2(c.DoneAt, now),
			fmt.Sprintf("%dms", c.ElapsedMS), clip(termSafe(out), 2000))
	}
	tw.write(a.stdout, a.wide)
	if res.Scan == nil {
		fmt.Fprintln(a.stdout, "\nno scan yet")
		return nil
	}
	sc := res.Scan
	fmt.Fprintf(a.stdout, "\nlatest scan %s, received %s: %d compliant, %d non-compliant, %d error, %d quarantined\n",
		termSafe(sc.ScanID), when(sc.ReceivedAt, now), sc.Summary.Compliant, sc.Summary.NonCompliant, sc.Summary.Error, sc.Summary.Quarantined)
	var rep struct {
		Results []struct {
			Name, Version, Phase, Status, Message, Error string
			DurationMS                                   int64 `json:"duration_ms"`
		} `json:"results"`
	}
	if json.Unmarshal(sc.Report, &rep) == nil && len(rep.Results) > 0 {
		tw := newTable("WORKLET", "VERSION", "PHASE", "STATUS", "MS", "MESSAGE").numeric(4)
		for _, r := range rep.Results {
			msg := r.Message
			if r.Error != "" {
				msg = r.Error
			}
			tw.add(r.Name, r.Version, r.Phase, r.Status, r.DurationMS, msg)
		}
		tw.write(a.stdout, a.wide)
	}
	return nil
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - 3
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

func (a *app) key(ctx context.Context, args []string) error {
	fs := a.flags("key")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, "key --data DIR | --key FILE"); err != nil {
		return err
	}
	k, err := a.signingKey()
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, bundle.FormatPublicKey(k.Public().(ed25519.PublicKey)))
	return nil
}

func (a *app) adminToken(ctx context.Context, args []string) error {
	fs := a.flags("admin-token")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, "admin-token --data DIR | --database URL"); err != nil {
		return err
	}
	st, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	tok := fleet.NewToken()
	if err := st.SetSetting(ctx, fleet.SettingAdminTokenHash, fleet.HashToken(tok)); err != nil {
		return err
	}
	if a.data != "" {
		if err := fleet.WriteSecret(filepath.Join(a.data, fleet.AdminTokenFile), tok+"\n"); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.stdout, tok)
	return nil
}
