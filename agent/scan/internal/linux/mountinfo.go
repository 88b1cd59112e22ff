package linux

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// MountInfo is one line of /proc/self/mountinfo (proc(5)).
type MountInfo struct {
	ID, ParentID int
	Major, Minor int
	Root         string // the mounted subtree of the file system ("/" for the whole)
	Mountpoint   string
	MountOptions []string // per mount: rw, nosuid, nodev, noexec, relatime, ...
	FSType       string
	Source       string
	SuperOptions []string // the file system's own
}

// Options are the options as findmnt shows them: the mount's, then the
// file system's without its rw/ro (the mount's already says it).
func (m MountInfo) Options() []string {
	out := make([]string, 0, len(m.MountOptions)+len(m.SuperOptions))
	out = append(out, m.MountOptions...)
	seen := map[string]bool{}
	for _, o := range m.MountOptions {
		seen[o] = true
	}
	for _, o := range m.SuperOptions {
		if o == "rw" || o == "ro" || seen[o] {
			continue
		}
		seen[o] = true
		out = append(out, o)
	}
	return out
}

// ParseMountInfo parses /proc/self/mountinfo: "id parent major:minor root
// mountpoint options [optional fields...] - fstype source superoptions",
// octal escapes (\040) in paths. A line without the "-" separator or with
// too few fields is an error naming the line.
func ParseMountInfo(b []byte) ([]MountInfo, error) {
	var out []MountInfo
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 10 || sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("mountinfo line %d: want \"id parent maj:min root mountpoint options ... - fstype source superoptions\", got %q", n, clip(sc.Text()))
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		maj, min, ok := strings.Cut(f[2], ":")
		ma, err3 := strconv.Atoi(maj)
		mi, err4 := strconv.Atoi(min)
		if err := firstErr(err1, err2, err3, err4); err != nil || !ok {
			return nil, fmt.Errorf("mountinfo line %d: bad ids %q %q %q", n, f[0], f[1], f[2])
		}
		m := MountInfo{
			ID: id, ParentID: parent, Major: ma, Minor: mi,
			Root:         unescapeOctal(f[3]),
			Mountpoint:   unescapeOctal(f[4]),
			MountOptions: strings.Split(f[5], ","),
			FSType:       f[sep+1],
			Source:       unescapeOctal(f[sep+2]),
		}
		if sep+3 < len(f) {
			m.SuperOptions = strings.Split(f[sep+3], ",")
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// pseudoFSTypes hold no data of their own: their usage is meaningless and
// is not asked.
var pseudoFSTypes = map[string]bool{
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true, "devpts": true,
	"securityfs": true, "debugfs": true, "tracefs": true, "pstore": true, "bpf": true,
	"mqueue": true, "hugetlbfs": true, "configfs": true, "fusectl": true,
	"binfmt_misc": true, "autofs": true, "rpc_pipefs": true, "nsfs": true,
	"efivarfs": true, "selinuxfs": true, "ramfs": true,
}

// networkFSTypes are file systems on another machine: statfs on them can
// hang for as long as their server is away.
var networkFSTypes = map[string]bool{
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true,
	"ceph": true, "glusterfs": true, "fuse.glusterfs": true, "fuse.sshfs": true,
	"sshfs": true, "9p": true, "afs": true, "fuse.s3fs": true, "fuse.rclone": true,
	"fuse.davfs2": true, "davfs": true, "lustre": true, "ncpfs": true,
}

// WantsUsage reports whether the scan asks a mount's usage (statfs): not
// for pseudo file systems, not for network ones, and not for autofs
// (asking would trigger the mount).
func WantsUsage(fstype string) bool {
	return !pseudoFSTypes[fstype] && !networkFSTypes[fstype]
}
