//go:build !linux && !darwin && !windows

package main

import (
	"context"
	"errors"
	"io"
)

var errServiceUnsupported = errors.New("amagent service is not supported on this OS: run amagent run from its service manager")

type noService struct{}

func newSystemService(string) systemService                { return noService{} }
func (noService) Installed(context.Context) (string, bool) { return "", false }
func (noService) Restart(context.Context) error            { return errServiceUnsupported }

func serviceInstall(context.Context, string, io.Writer) error { return errServiceUnsupported }
func serviceUninstall(context.Context, io.Writer) error       { return errServiceUnsupported }
func serviceStart(context.Context, string, io.Writer) error   { return errServiceUnsupported }
func serviceStop(context.Context, io.Writer) error            { return errServiceUnsupported }

func serviceRun(ctx context.Context, path string, stderr io.Writer) error {
	return runAgent(ctx, []string{"--config", path}, stderr)
}
