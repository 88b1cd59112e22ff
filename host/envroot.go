package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/amagent/amagent/agent/sysexec"
	"github.com/amagent/amagent/host/rootfs"
)

// ErrExecUnderRoot is what a module's exec call meets in an environment
// over another system's tree (LiveEnvRoot): error -4, logged with this text.
var ErrExecUnderRoot = errors.New("exec is not available with --root: a program started here would describe this machine, not the tree")

// LiveEnvRoot is the live machine with dir as the guest's "/": a mounted
// image, a container's root, a chroot. Files are dir's (only those
// granted), resolved in dir as in a chroot there (a link with an absolute
// target stays inside dir); the path-metadata fact names owners from
// dir's own /etc/passwd and /etc/group; every exec call is refused with
// -4 (ErrExecUnderRoot), since no program run here describes dir. scan is
// dir's scan document (`amagent scan --once --root DIR`).
func LiveEnvRoot(scan *Scan, dir string) (*Environment, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("--root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("--root: %s is not a directory", dir)
	}
	refuse := func(context.Context, sysexec.Request) (sysexec.Result, error) {
		return sysexec.Result{}, ErrExecUnderRoot
	}
	return &Environment{scan: scan, hostRoot: dir, exec: refuse,
		names: sync.OnceValue(func() *idNames { return readIDNamesIn(dir) })}, nil
}

// readIDNamesIn is readIDNames for a tree read with chroot semantics.
func readIDNamesIn(dir string) *idNames {
	read := func(p string) map[int64]string {
		b, err := rootfs.ReadFile(dir, p)
		if err != nil {
			return map[int64]string{}
		}
		return parseIDs(bytes.NewReader(b))
	}
	return &idNames{users: read("etc/passwd"), groups: read("etc/group")}
}
