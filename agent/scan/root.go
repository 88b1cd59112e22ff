package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/amagent/amagent/agent/sysexec"
	"github.com/amagent/amagent/host/rootfs"
)

// ErrNotForRoot is the error of every part of a scan with --root that
// would describe the running machine rather than the tree: the kernel's
// files (/proc, /sys, /dev, /run) and every program.
var ErrNotForRoot = errors.New("not available for --root")

// kernelDirs are the trees under a root that only the running kernel and
// its processes fill; a mounted image's are empty or stale.
var kernelDirs = []string{"proc", "sys", "dev", "run"}

// RootEnv is the Env of another system's tree mounted at dir (`amagent
// scan --once --root DIR`): collectors read dir's files (os-release, the
// package databases, login.defs, sshd config), with paths resolved in dir
// as in a chroot there (an absolute link stays inside dir). What describes
// the running kernel (/proc, /sys, /dev, /run) and every program answer
// ErrNotForRoot, which the scan records in its errors; the host name is
// dir's /etc/hostname. Close the returned function when done.
func RootEnv(dir string) (*Env, func(), error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--root: %w", err)
	}
	if !fi.IsDir() {
		return nil, nil, fmt.Errorf("--root: %s is not a directory", dir)
	}
	tree, err := rootfs.Open(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("--root: %w", err)
	}
	tree.Refuse = func(p string) error {
		for _, k := range kernelDirs {
			if p == k || strings.HasPrefix(p, k+"/") {
				return ErrNotForRoot
			}
		}
		return nil
	}
	env := LiveEnv()
	env.FS = tree
	env.Exec = func(_ context.Context, req sysexec.Request) (sysexec.Result, error) {
		return sysexec.Result{}, fmt.Errorf("%s: %w", strings.Join(req.Argv, " "), ErrNotForRoot)
	}
	env.Hostname = func() (string, error) {
		b, err := tree.ReadFile("etc/hostname")
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	return env, func() { tree.Close() }, nil
}
