// Package reboot is the built-in reboot command: it schedules a reboot
// after the given delay through the operating system's own shutdown
// program, logging it before it happens. In dry-run mode it only logs.
package reboot

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/amagent/amagent/agent/command"
	"github.com/amagent/amagent/agent/protocol"
	"github.com/amagent/amagent/agent/sysexec"
)

// MaxDelay is the longest delay accepted (one week).
const MaxDelay = 7 * 24 * time.Hour

// Options configure the handler.
type Options struct {
	Log    *slog.Logger
	DryRun bool
	// Run executes the shutdown program; nil means sysexec.Run.
	Run sysexec.Runner
	// GOOS selects the program's syntax; empty means runtime.GOOS.
	GOOS string
}

// Output is the command's result output.
type Output struct {
	DelaySeconds int64    `json:"delay_seconds"`
	Argv         []string `json:"argv"`
	DryRun       bool     `json:"dry_run"`
	Scheduled    bool     `json:"scheduled"`
}

// Handler returns the command table entry for "reboot".
func Handler(o Options) command.Handler {
	return command.Handler{
		Type:      protocol.CmdReboot,
		Processor: command.ProcessorLegacy,
		Run: func(ctx context.Context, params []string) (any, error) {
			return o.run(ctx, params)
		},
	}
}

// Argv is the shutdown command that reboots goos after delay: minutes
// (rounded up) for Linux and macOS, seconds for Windows.
func Argv(goos string, delay time.Duration) []string {
	secs := int64((delay + time.Second - 1) / time.Second)
	switch goos {
	case "windows":
		return []string{"shutdown", "/r", "/t", strconv.FormatInt(secs, 10)}
	default:
		mins := (secs + 59) / 60
		return []string{"shutdown", "-r", "+" + strconv.FormatInt(mins, 10)}
	}
}

func (o Options) run(ctx context.Context, params []string) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("reboot: want one parameter, the delay in seconds, got %d", len(params))
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(params[0]), 10, 64)
	if err != nil || secs < 0 || time.Duration(secs)*time.Second > MaxDelay {
		return nil, fmt.Errorf("reboot: delay %q is not a whole number of seconds between 0 and %d", params[0], int64(MaxDelay/time.Second))
	}
	goos := o.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	delay := time.Duration(secs) * time.Second
	argv := Argv(goos, delay)
	out := Output{DelaySeconds: secs, Argv: argv, DryRun: o.DryRun}
	if o.DryRun {
		o.Log.Warn("reboot requested; dry_run is set, so not rebooting", "delay", delay, "argv", strings.Join(argv, " "))
		return out, nil
	}
	o.Log.Warn("scheduling reboot", "delay", delay, "argv", strings.Join(argv, " "))
	run := o.Run
	if run == nil {
		run = sysexec.Run
	}
	res, err := run(ctx, sysexec.Request{Argv: argv, Timeout: 30 * time.Second, MaxOutput: 64 << 10})
	if err != nil {
		return nil, fmt.Errorf("reboot: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("reboot: %s exited with %d: %s", argv[0], res.ExitCode, strings.TrimSpace(string(res.Stderr)))
	}
	out.Scheduled = true
	return out, nil
}
