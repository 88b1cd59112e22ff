//go:build linux

package scan

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/amagent/amagent/agent/scan/internal/linux"
)

// socketDiagFS is implemented by file systems that can list listening and
// bound sockets faster than by reading /proc/net/{tcp,tcp6,udp,udp6}: the
// live one through netlink sock_diag (linux/inet_diag.h). Recorded
// machines have the files.
type socketDiagFS interface {
	// ListeningSockets returns, per table name ("tcp", "tcp6", "udp",
	// "udp6"), the TCP sockets in LISTEN and the UDP sockets in CLOSE
	// (bound, unconnected) state.
	ListeningSockets(ctx context.Context) (map[string][]linux.Socket, error)
}

// ListeningSockets dumps the four tables over netlink, each asking the
// kernel only for the states wanted.
func (liveFS) ListeningSockets(ctx context.Context) (map[string][]linux.Socket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_INET_DIAG)
	if err != nil {
		return nil, fmt.Errorf("netlink sock_diag: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("netlink sock_diag: %w", err)
	}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	out := map[string][]linux.Socket{}
	buf := make([]byte, 64<<10)
	for i, q := range []struct {
		table            string
		family, protocol uint8
		states           uint32
	}{
		{"tcp", unix.AF_INET, unix.IPPROTO_TCP, 1 << linux.StateListen},
		{"tcp6", unix.AF_INET6, unix.IPPROTO_TCP, 1 << linux.StateListen},
		{"udp", unix.AF_INET, unix.IPPROTO_UDP, 1 << linux.StateClose},
		{"udp6", unix.AF_INET6, unix.IPPROTO_UDP, 1 << linux.StateClose},
	} {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		seq := uint32(i + 1)
		req := linux.InetDiagRequest(q.family, q.protocol, q.states)
		msg := make([]byte, unix.NLMSG_HDRLEN+len(req))
		hdr := (*unix.NlMsghdr)(ptr(msg))
		hdr.Len = uint32(len(msg))
		hdr.Type = unix.SOCK_DIAG_BY_FAMILY
		hdr.Flags = unix.NLM_F_REQUEST | unix.NLM_F_DUMP
		hdr.Seq = seq
		copy(msg[unix.NLMSG_HDRLEN:], req)
		if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return nil, fmt.Errorf("netlink sock_diag %s: %w", q.table, err)
		}
		socks := []linux.Socket{}
	recv:
		for {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				return nil, fmt.Errorf("netlink sock_diag %s: %w", q.table, err)
			}
			msgs, err := syscall.ParseNetlinkMessage(buf[:n])
			if err != nil {
				return nil, fmt.Errorf("netlink sock_diag %s: %w", q.table, err)
			}
			for _, m := range msgs {
				if m.Header.Seq != seq {
					continue
				}
				switch m.Header.Type {
				case unix.NLMSG_DONE:
					break recv
				case unix.NLMSG_ERROR:
					if len(m.Data) >= 4 {
						if e := int32(nativeUint32(m.Data)); e != 0 {
							return nil, fmt.Errorf("netlink sock_diag %s: %w", q.table, syscall.Errno(-e))
						}
					}
					return nil, errors.New("netlink sock_diag " + q.table + ": error reply")
				case unix.SOCK_DIAG_BY_FAMILY:
					s, err := linux.ParseInetDiagMsg(m.Data)
					if err != nil {
						return nil, err
					}
					socks = append(socks, s)
				}
			}
		}
		out[q.table] = socks
	}
	return out, nil
}

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }

func nativeUint32(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }

// socketOwnersFS is implemented by file systems that can find the
// processes holding sockets faster than through fs.ReadDir and
// fs.ReadLink (the live one: one directory descriptor per process and
// readlinkat on it, no path resolution per descriptor).
type socketOwnersFS interface {
	// SocketOwners returns the pid holding each of the inodes it finds,
	// walking processes until every inode is found.
	SocketOwners(ctx context.Context, inodes map[uint64]bool) map[uint64]int
}

func (l liveFS) SocketOwners(ctx context.Context, inodes map[uint64]bool) map[uint64]int {
	out := map[uint64]int{}
	proc, err := os.Open(filepath.Join(rootDir(), "proc"))
	if err != nil {
		return out
	}
	defer proc.Close()
	names, _ := proc.Readdirnames(-1)
	buf := make([]byte, 64)
	for _, name := range names {
		if len(out) == len(inodes) || ctx.Err() != nil {
			break
		}
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		dfd, err := unix.Openat(int(proc.Fd()), name+"/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			continue // another user's process, or gone
		}
		d := os.NewFile(uintptr(dfd), name+"/fd")
		fds, _ := d.Readdirnames(-1)
		for _, fd := range fds {
			n, err := unix.Readlinkat(dfd, fd, buf)
			if err != nil || n == len(buf) {
				continue
			}
			if ino, ok := linux.SocketInode(string(buf[:n])); ok && inodes[ino] {
				if _, dup := out[ino]; !dup {
					out[ino] = pid
				}
			}
		}
		d.Close()
	}
	return out
}
