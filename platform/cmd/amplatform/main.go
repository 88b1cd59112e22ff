// Command amplatform is the reference platform server for amagent: it
// serves the agent protocol and an admin API, and manages devices, groups,
// commands and signed worklet bundles from the command line.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/amagent/amagent/platform/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "amplatform:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	return cli.Run(ctx, args, os.Stdout, os.Stderr)
}
