//go:build linux

package scan

// GetServices and GetListeningPorts on Linux.
//
// Services come from systemd's files, without D-Bus or systemctl: the
// unit files in the unit directories give each service and whether it has
// an [Install] section (static when not); the symbolic links in the
// *.wants/ and *.requires/ directories of /etc and /run say which are
// enabled; a link to /dev/null masks. Whether a service runs is its
// control group: systemd puts each service's processes in
// /sys/fs/cgroup/system.slice/<name> (cgroup v2; the systemd hierarchy
// on v1) and removes the group when the last process is gone, so a
// populated group is a running service. (The one state this cannot see is
// a oneshot service with RemainAfterExit=yes, "active (exited)" with no
// process: it is reported not running.)
//
// Listening sockets come from /proc/net/{tcp,tcp6,udp,udp6}: TCP in state
// LISTEN, UDP bound and unconnected (what `ss -ltu` lists); the process of
// each is found by its inode among the /proc/<pid>/fd links
// ("socket:[inode]"). Processes of other users are only visible to root.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/amagent/amagent/agent/scan/internal/linux"
	"github.com/amagent/amagent/agent/scandoc"
)

// unitDirs are systemd's system unit directories, highest precedence
// first (systemd.unit(5)).
var unitDirs = []string{
	"etc/systemd/system",
	"run/systemd/transient",
	"run/systemd/generator.early",
	"run/systemd/system",
	"run/systemd/generator",
	"usr/local/lib/systemd/system",
	"usr/lib/systemd/system",
	"lib/systemd/system",
	"run/systemd/generator.late",
}

// enableDirs hold the links that enable units: the administrator's and
// the runtime's.
var enableDirs = []string{"etc/systemd/system", "run/systemd/system"}

// cgroupSlices are where a service's control group is, per cgroup layout:
// v2 (unified), hybrid, v1's named systemd hierarchy.
var cgroupSlices = []string{
	"sys/fs/cgroup/system.slice",
	"sys/fs/cgroup/unified/system.slice",
	"sys/fs/cgroup/systemd/system.slice",
}

func linuxServices(ctx context.Context, env *Env) (scandoc.Services, error) {
	var s scandoc.Services
	fsys := env.FS
	if exists(fsys, "run/systemd/system") {
		s.Manager = "systemd" // systemd is the running init (sd_booted(3))
	}
	type unit struct {
		dir     string
		enabled string
	}
	units := map[string]*unit{}
	for _, dir := range unitDirs {
		ents, err := fs.ReadDir(fsys, dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			name := e.Name()
			if !strings.HasSuffix(name, ".service") || units[name] != nil {
				continue
			}
			u := &unit{dir: dir}
			p := path.Join(dir, name)
			// Only links need reading (the directory entry says which).
			if e.Type()&fs.ModeSymlink != 0 {
				t, _ := fs.ReadLink(fsys, p)
				switch {
				case t == "/dev/null":
					u.enabled = "masked"
				case path.Base(t) != name && strings.HasSuffix(t, ".service"):
					continue // an alias of another unit (dbus-org.*.service)
				}
			}
			units[name] = u
		}
	}
	// Enabled: linked from a .wants/.requires directory of /etc or /run.
	enabledBy := map[string]string{}
	for _, dir := range enableDirs {
		wants, _ := fs.Glob(fsys, path.Join(dir, "*.wants"))
		reqs, _ := fs.Glob(fsys, path.Join(dir, "*.requires"))
		for _, w := range append(wants, reqs...) {
			ents, _ := fs.ReadDir(fsys, w)
			for _, e := range ents {
				if strings.HasSuffix(e.Name(), ".service") {
					state := "enabled"
					if dir == "run/systemd/system" {
						state = "enabled-runtime"
					}
					if enabledBy[e.Name()] == "" {
						enabledBy[e.Name()] = state
					}
				}
			}
		}
	}
	out := make([]scandoc.Service, 0, len(units))
	for name, u := range units {
		st := u.enabled
		if st == "" {
			st = enabledBy[name]
		}
		if st == "" && strings.HasSuffix(name, "@.service") {
			// A template is enabled when one of its instances is.
			prefix := strings.TrimSuffix(name, ".service")
			for inst, v := range enabledBy {
				if strings.HasPrefix(inst, prefix) {
					st = v
					break
				}
			}
		}
		switch {
		case st != "":
		case strings.HasPrefix(u.dir, "run/systemd/transient"):
			st = "transient"
		case strings.HasPrefix(u.dir, "run/systemd/generator"):
			st = "generated"
		default:
			st = unitFileState(fsys, path.Join(u.dir, name))
		}
		out = append(out, scandoc.Service{Name: name, Enabled: st})
	}
	// Instances of templates enabled by name (getty@tty1.service).
	for inst, st := range enabledBy {
		if units[inst] == nil && strings.Contains(inst, "@") && !strings.HasSuffix(inst, "@.service") {
			units[inst] = &unit{}
			out = append(out, scandoc.Service{Name: inst, Enabled: st})
		}
	}
	running := runningServices(fsys)
	for i := range out {
		if running[out[i].Name] {
			out[i].Running = true
			delete(running, out[i].Name)
		}
	}
	for name := range running {
		// A running instance of a template, or a unit without a file
		// (transient units whose file is gone).
		st := "static"
		if at := strings.Index(name, "@"); at > 0 {
			if u, ok := units[name[:at+1]+".service"]; ok && u.enabled == "masked" {
				st = "masked"
			}
			for _, o := range out {
				if o.Name == name[:at+1]+".service" {
					st = "indirect"
				}
			}
		}
		out = append(out, scandoc.Service{Name: name, Enabled: st, Running: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	s.Units = out
	return s, nil
}

// socketOwners finds the process holding each socket inode through
// fs.ReadDir and fs.ReadLink of /proc/<pid>/fd (recorded machines), in
// the order /proc lists them, stopping when every inode is found.
func socketOwners(ctx context.Context, fsys fs.FS, inodes map[uint64][]int) map[uint64]int {
	out := map[uint64]int{}
	procs, _ := fs.ReadDir(fsys, "proc")
	for _, p := range procs {
		if len(out) == len(inodes) || ctx.Err() != nil {
			break
		}
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := path.Join("proc", p.Name(), "fd")
		fds, err := fs.ReadDir(fsys, fdDir)
		if err != nil {
			continue // another user's process, or gone
		}
		for _, fd := range fds {
			target, err := fs.ReadLink(fsys, path.Join(fdDir, fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := linux.SocketInode(target); ok {
				if _, want := inodes[ino]; want {
					if _, dup := out[ino]; !dup {
						out[ino] = pid
					}
				}
			}
		}
	}
	return out
}

// unitFileState reads a unit file's [Install] section: none (or an empty
// one) is "static"; only Also= is "indirect"; otherwise "disabled" (it
// could be enabled, and is not).
func unitFileState(fsys fs.FS, p string) string {
	b, err := fs.ReadFile(fsys, p)
	if err != nil {
		return "disabled"
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return "masked" // an empty unit file masks, as a link to /dev/null does
	}
	inInstall, install, also := false, false, false
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "[") {
			inInstall = l == "[Install]"
			continue
		}
		if !inInstall {
			continue
		}
		k, _, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "WantedBy", "RequiredBy", "UpheldBy", "Alias":
			install = true
		case "Also":
			also = true
		}
	}
	switch {
	case install:
		return "disabled"
	case also:
		return "indirect"
	}
	return "static"
}

// runningServices lists the services whose control group has processes.
func runningServices(fsys fs.FS) map[string]bool {
	out := map[string]bool{}
	for _, slice := range cgroupSlices {
		var walk func(dir string, depth int)
		walk = func(dir string, depth int) {
			ents, err := fs.ReadDir(fsys, dir)
			if err != nil {
				return
			}
			for _, e := range ents {
				if !e.IsDir() {
					continue
				}
				p := path.Join(dir, e.Name())
				switch {
				case strings.HasSuffix(e.Name(), ".service"):
					if populated(fsys, p) {
						out[e.Name()] = true
					}
				case strings.HasSuffix(e.Name(), ".slice") && depth < 3:
					walk(p, depth+1)
				}
			}
		}
		walk(slice, 0)
		if len(out) > 0 {
			break // one hierarchy says it all
		}
	}
	return out
}

// populated reads cgroup v2's cgroup.events ("populated 1"), else v1's
// cgroup.procs (any pid), of a service's group or its children.
func populated(fsys fs.FS, dir string) bool {
	if b, err := fs.ReadFile(fsys, path.Join(dir, "cgroup.events")); err == nil {
		return bytes.Contains(b, []byte("populated 1"))
	}
	if b, err := fs.ReadFile(fsys, path.Join(dir, "cgroup.procs")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		return true
	}
	// v1 keeps processes of sub-groups out of the parent's procs.
	subs, _ := fs.ReadDir(fsys, dir)
	for _, s := range subs {
		if s.IsDir() && populated(fsys, path.Join(dir, s.Name())) {
			return true
		}
	}
	return false
}

// socketTables are the /proc/net files of GetListeningPorts.
var socketTables = []struct{ proto, path string }{
	{"tcp", "proc/net/tcp"}, {"tcp6", "proc/net/tcp6"},
	{"udp", "proc/net/udp"}, {"udp6", "proc/net/udp6"},
}

func linuxListening(ctx context.Context, env *Env) ([]scandoc.Listener, error) {
	fsys := env.FS
	var errs []error
	var out []scandoc.Listener
	inodes := map[uint64][]int{} // socket inode -> indexes in out
	// Live: netlink sock_diag asks the kernel for just these states (the
	// files cost ~10 ms each on a large machine); where it is refused
	// (some sandboxes), and on recorded machines, the files.
	var tables map[string][]linux.Socket
	if sd, ok := fsys.(socketDiagFS); ok {
		tables, _ = sd.ListeningSockets(ctx)
	}
	if tables == nil {
		tables = map[string][]linux.Socket{}
		for _, t := range socketTables {
			b, err := fs.ReadFile(fsys, t.path)
			if errors.Is(err, fs.ErrNotExist) {
				continue // no IPv6, or a recording without sockets
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("reading /%s: %w", t.path, err))
				continue
			}
			socks, err := linux.ParseProcNetSockets(b)
			if err != nil {
				errs = append(errs, fmt.Errorf("/%s: %w", t.path, err))
			}
			tables[t.proto] = socks
		}
	}
	for _, t := range socketTables {
		tcp := strings.HasPrefix(t.proto, "tcp")
		for _, s := range tables[t.proto] {
			if tcp && s.State != linux.StateListen {
				continue
			}
			if !tcp && (s.State != linux.StateClose || s.Remote.Port() != 0) {
				continue
			}
			addr := s.Local.Addr()
			l := scandoc.Listener{Protocol: t.proto, Address: addr.String(), Port: int(s.Local.Port()), UID: s.UID}
			if s.Inode != 0 {
				inodes[s.Inode] = append(inodes[s.Inode], len(out))
			}
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return out, errors.Join(errs...)
	}
	// Owners of the sockets: walk /proc/<pid>/fd until every inode is
	// found (or every process seen).
	var owners map[uint64]int
	if so, ok := fsys.(socketOwnersFS); ok {
		want := make(map[uint64]bool, len(inodes))
		for ino := range inodes {
			want[ino] = true
		}
		owners = so.SocketOwners(ctx, want)
	} else {
		owners = socketOwners(ctx, fsys, inodes)
	}
	comms := map[int]string{}
	for ino, pid := range owners {
		comm, ok := comms[pid]
		if !ok {
			comm, _ = readTrim(fsys, path.Join("proc", strconv.Itoa(pid), "comm"))
			comms[pid] = comm
		}
		for _, i := range inodes[ino] {
			out[i].PID, out[i].Process = pid, comm
		}
	}
	var users map[int]string
	if b, err := fs.ReadFile(fsys, "etc/passwd"); err == nil {
		users = linux.ParsePasswdNames(b)
	}
	for i := range out {
		out[i].User = users[out[i].UID]
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Address < b.Address
	})
	return out, errors.Join(errs...)
}
