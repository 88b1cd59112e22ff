package scan

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/scandoc"
)

// ScanCommand implements `amagent scan --once [--json] [--no-pending] [-v]`: run one scan
// on the spot and print it (the document as JSON with --json, a short
// summary otherwise). -v writes the command log lines to stderr. It
// returns the process exit code: 0 when the scan ran (even partial), 1 when
// a collector failed, 2 on bad usage.
func ScanCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("amagent scan", flag.ContinueOnError)
	fl.SetOutput(stderr)
	once := fl.Bool("once", false, "run one scan now and print it")
	asJSON := fl.Bool("json", false, "print the scan document as JSON")
	verbose := fl.Bool("v", false, "log each collector command to stderr")
	noPending := fl.Bool("no-pending", false, "leave out pending updates (skip the package manager simulation)")
	root := fl.String("root", "", "scan the system mounted at `DIR` (an image, a container's root) instead of this one")
	// The lead adds --record FILE here: record every file read and program
	// run by the collectors into a replayable machine (testdata/machines
	// layout) through the host's recorder, by wrapping env.FS and env.Exec
	// below before the scan runs.
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: amagent scan --once [--json] [--no-pending] [--root DIR] [-v]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "amagent scan: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if !*once {
		fmt.Fprintln(stderr, "amagent scan: only --once is supported here (the daemon schedules scans itself)")
		fl.Usage()
		return 2
	}
	env := LiveEnv()
	if *root != "" {
		var done func()
		var err error
		if env, done, err = RootEnv(*root); err != nil {
			fmt.Fprintf(stderr, "amagent scan: %v\n", err)
			return 2
		}
		defer done()
	}
	env.SkipPending = *noPending
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if *verbose {
		log = slog.New(slog.NewTextHandler(stderr, nil)).With("process", "scan")
	}
	s := &Scanner{Env: env, Log: log}
	doc := s.Collect(ctx)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			fmt.Fprintf(stderr, "amagent scan: %v\n", err)
			return 1
		}
	} else {
		writeSummary(stdout, doc, env.SkipPending)
	}
	if len(doc.Errors) > 0 {
		return 1
	}
	return 0
}

// writeSummary prints a human summary of a scan document.
func writeSummary(w io.Writer, d *scandoc.Document, skippedPending bool) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("Host:       %s", d.Hostname)
	p("OS:         %s (%s %s, kernel %s, %s)", orDash(d.OS.PrettyName), d.OS.ID, d.OS.Version, d.OS.Kernel, d.OS.Architecture)
	hw := strings.TrimSpace(d.Hardware.Vendor + " " + d.Hardware.Model)
	if d.Hardware.Virtual != "" {
		hw = strings.TrimSpace(hw + " (virtual: " + d.Hardware.Virtual + ")")
	}
	p("Hardware:   %s", orDash(hw))
	p("CPU:        %s, %d cores, %d threads", orDash(d.Hardware.CPU.Model), d.Hardware.CPU.Cores, d.Hardware.CPU.Threads)
	p("Memory:     %.1f GiB", float64(d.Hardware.MemoryBytes)/(1<<30))
	for _, k := range d.Hardware.Disks {
		p("Disk:       %s %s %s %.1f%% of %.1f GiB used", k.Mountpoint, k.Device, k.FSType, k.UsedPct, float64(k.TotalBytes)/(1<<30))
	}
	if d.AWS != nil {
		p("AWS:        %s %s %s", d.AWS.InstanceID, d.AWS.InstanceType, d.AWS.AvailabilityZone)
	} else {
		p("AWS:        no")
	}
	if d.LastUser.Name != "" {
		p("Last user:  %s on %s at %s", d.LastUser.Name, d.LastUser.Terminal, d.LastUser.Time.Format(time.RFC3339))
	} else {
		p("Last user:  -")
	}
	p("Logged on:  %d session(s)", len(d.LastUser.Current))
	p("Software:   %d packages", len(d.Software))
	sec := 0
	for _, u := range d.PendingUpdates {
		if u.Security {
			sec++
		}
	}
	if skippedPending {
		p("Patches:    %d installed updates, pending updates not checked (--no-pending)", len(d.Patches))
	} else {
		p("Patches:    %d installed updates, %d pending (%d security)", len(d.Patches), len(d.PendingUpdates), sec)
	}
	if d.RebootRequired {
		p("Reboot:     required: %s", strings.Join(d.Reboot.Reasons, "; "))
	} else {
		p("Reboot:     not required")
	}
	p("Boot:       %s, up %s", d.Boot.ID, time.Duration(d.Boot.UptimeS)*time.Second)
	p("Time zone:  %s (%s)", orDash(d.Timezone.Name), orDash(d.Timezone.Abbreviation))
	p("Resources:  %.1f GiB available, swap %.1f GiB; load %.2f %.2f %.2f", float64(d.Memory.AvailableBytes)/(1<<30), float64(d.Memory.SwapTotalBytes)/(1<<30), d.Load.One, d.Load.Five, d.Load.Fifteen)
	p("Network:    %s, %d interfaces, gateway %s, DNS %s", orDash(d.Network.FQDN), len(d.Network.Interfaces), orDash(d.Network.DefaultGateway), orDash(strings.Join(d.Network.DNS.Servers, " ")))
	p("Storage:    %d mounts, %d block devices", len(d.Storage.Mounts), len(d.Storage.BlockDevices))
	v := d.Virtualization
	p("Virtual:    hypervisor %s, cloud %s, container %s, sandbox %s", orDash(v.Hypervisor), orDash(v.Cloud), orDash(v.Container), orDash(v.Sandbox))
	running := 0
	for _, u := range d.Services.Units {
		if u.Running {
			running++
		}
	}
	p("Services:   %d (%d running, manager %s)", len(d.Services.Units), running, orDash(d.Services.Manager))
	p("Listening:  %d sockets", len(d.Listening))
	names := make([]string, 0, len(d.Errors))
	for n := range d.Errors {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p("Error:      %s: %s", n, d.Errors[n])
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
