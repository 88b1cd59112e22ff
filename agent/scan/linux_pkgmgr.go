//go:build linux

package scan

import (
	"context"
	"errors"

	"github.com/amagent/amagent/agent/scandoc"
)

// errNotImplemented marks a collector part that is still being written.
var errNotImplemented = errors.New("not implemented yet")

// rpmSoftware lists the packages of the rpm database.
func rpmSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	return nil, errNotImplemented
}

// apkSoftware lists the packages of Alpine's installed database.
func apkSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	return nil, errNotImplemented
}

// snapSoftware lists installed snaps when snapd is present.
func snapSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	return nil, errNotImplemented
}

// flatpakSoftware lists installed flatpaks when flatpak is present.
func flatpakSoftware(ctx context.Context, env *Env) ([]scandoc.Package, error) {
	return nil, errNotImplemented
}

// dnfPending lists pending dnf updates from the metadata cache.
func dnfPending(ctx context.Context, env *Env) ([]scandoc.Update, error) {
	return nil, errNotImplemented
}

// apkPending lists pending apk upgrades.
func apkPending(ctx context.Context, env *Env) ([]scandoc.Update, error) {
	return nil, errNotImplemented
}

// needsRestarting runs `needs-restarting -r`.
func needsRestarting(ctx context.Context, env *Env) (required bool, reason string, ran bool, err error) {
	return false, "", false, errNotImplemented
}
