//go:build linux

package scan

// GetStorage on Linux: every mount of /proc/self/mountinfo with its
// options, usage through statfs (live) for the file systems that hold
// data, and the block devices of /sys/block with their size, model and
// partitions. No program (df, lsblk, findmnt) is run.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

const (
	pathMountInfo = "proc/self/mountinfo"
	pathSysBlock  = "sys/block"
)

// fsUsage is what statfs says of one mounted file system.
type fsUsage struct {
	Total, Free, Avail uint64 // bytes; Free counts the blocks reserved for root
	Files, FilesFree   uint64
}

// fsUsageFS is implemented by file systems that can say how full a mount
// is (statfs live; recorded machines from their recording). The older
// diskUsageFS (total and used only) is asked when this is not there.
type fsUsageFS interface {
	FSUsage(ctx context.Context, mountpoint string) (fsUsage, error)
}

// FSUsage is statfs(2) on the mount point.
func (liveFS) FSUsage(ctx context.Context, mountpoint string) (fsUsage, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(mountpoint, &st); err != nil {
		return fsUsage{}, fmt.Errorf("statfs %s: %w", mountpoint, err)
	}
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return fsUsage{Total: st.Blocks * bs, Free: st.Bfree * bs, Avail: st.Bavail * bs, Files: st.Files, FilesFree: st.Ffree}, nil
}

func linuxStorage(ctx context.Context, env *Env) (scandoc.Storage, error) {
	var s scandoc.Storage
	var errs []error
	mounts, err := linuxMounts(ctx, env)
	if err != nil {
		errs = append(errs, err)
	}
	s.Mounts = mounts
	devs, err := blockDevices(env.FS)
	if err != nil {
		errs = append(errs, err)
	}
	s.BlockDevices = devs
	return s, errors.Join(errs...)
}

// linuxMounts lists every mount in mountinfo order (what findmnt lists).
// Usage is asked only of file systems that hold data (linux.WantsUsage:
// not proc or cgroup, not NFS or CIFS, whose server can hang statfs).
func linuxMounts(ctx context.Context, env *Env) ([]scandoc.Mount, error) {
	out := []scandoc.Mount{}
	b, err := fs.ReadFile(env.FS, pathMountInfo)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil // a recording without mountinfo; every live Linux has it
	}
	if err != nil {
		return out, fmt.Errorf("reading /%s: %w", pathMountInfo, err)
	}
	ms, err := linux.ParseMountInfo(b)
	if err != nil {
		return out, fmt.Errorf("/%s: %w", pathMountInfo, err)
	}
	fu, _ := env.FS.(fsUsageFS)
	du, _ := env.FS.(diskUsageFS)
	for _, m := range ms {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		sm := scandoc.Mount{Mountpoint: m.Mountpoint, Device: m.Source, FSType: m.FSType, Options: m.Options()}
		if linux.WantsUsage(m.FSType) {
			switch {
			case fu != nil:
				if u, err := fu.FSUsage(ctx, m.Mountpoint); err == nil {
					sm.TotalBytes, sm.UsedBytes, sm.AvailableBytes = u.Total, u.Total-min(u.Free, u.Total), u.Avail
					sm.TotalInodes, sm.UsedInodes = u.Files, u.Files-min(u.FilesFree, u.Files)
				}
			case du != nil:
				if total, used, err := du.DiskUsage(ctx, m.Mountpoint); err == nil {
					sm.TotalBytes, sm.UsedBytes = total, used
					sm.AvailableBytes = total - min(used, total)
				}
			}
		}
		out = append(out, sm)
	}
	return out, nil
}

// blockDevices lists /sys/block/<dev>: size (in 512-byte sectors, always,
// whatever the device's block size), model, vendor and serial from the
// device directory, rotational and removable flags, and the partitions
// (subdirectories with a "partition" file). Devices of size zero (unused
// loop and ram devices) are left out, as lsblk does.
func blockDevices(fsys fs.FS) ([]scandoc.BlockDevice, error) {
	ents, err := fs.ReadDir(fsys, pathSysBlock)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading /%s: %w", pathSysBlock, err)
	}
	var out []scandoc.BlockDevice
	for _, e := range ents {
		dir := path.Join(pathSysBlock, e.Name())
		attr := func(n string) string {
			b, err := fs.ReadFile(fsys, path.Join(dir, n))
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(b))
		}
		sectors, _ := strconv.ParseUint(attr("size"), 10, 64)
		if sectors == 0 {
			continue
		}
		d := scandoc.BlockDevice{
			Name:       e.Name(),
			SizeBytes:  sectors * 512,
			Model:      attr("device/model"),
			Vendor:     attr("device/vendor"),
			Serial:     attr("device/serial"),
			Rotational: attr("queue/rotational") == "1",
			Removable:  attr("removable") == "1",
			ReadOnly:   attr("ro") == "1",
			Partitions: []scandoc.Partition{},
		}
		if d.Serial == "" {
			d.Serial = attr("serial") // virtio-blk
		}
		subs, _ := fs.ReadDir(fsys, dir)
		for _, p := range subs {
			if !strings.HasPrefix(p.Name(), e.Name()) {
				continue
			}
			pdir := path.Join(dir, p.Name())
			if _, err := fs.Stat(fsys, path.Join(pdir, "partition")); err != nil {
				continue
			}
			b, _ := fs.ReadFile(fsys, path.Join(pdir, "size"))
			n, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
			d.Partitions = append(d.Partitions, scandoc.Partition{Name: p.Name(), SizeBytes: n * 512})
		}
		out = append(out, d)
	}
	return out, nil
}
