package linux

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Socket is one line of /proc/net/{tcp,tcp6,udp,udp6}.
type Socket struct {
	Local, Remote netip.AddrPort
	State         int // TCP state (0x0A listen); for UDP 0x07 is unconnected
	UID           int
	Inode         uint64
}

// TCP and UDP states of /proc/net/tcp* and udp* (include/net/tcp_states.h).
const (
	StateListen = 0x0A
	StateClose  = 0x07 // UDP: bound, unconnected
)

// ParseProcNetSockets parses /proc/net/tcp, tcp6, udp or udp6: "sl
// local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
// timeout inode ...", addresses as hex words in the kernel's byte order
// and ports as big-endian hex.
func ParseProcNetSockets(b []byte) ([]Socket, error) {
	var out []Socket
	err := fieldLines(b, "socket table", true, 10, "want 10 or more fields", func(f []string) error {
		local, err1 := hexAddrPort(f[1])
		remote, err2 := hexAddrPort(f[2])
		st, err3 := strconv.ParseUint(f[3], 16, 8)
		uid, err4 := strconv.Atoi(f[7])
		inode, err5 := strconv.ParseUint(f[9], 10, 64)
		if err := firstErr(err1, err2, err3, err4, err5); err != nil {
			return err
		}
		out = append(out, Socket{Local: local, Remote: remote, State: int(st), UID: uid, Inode: inode})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// hexAddrPort decodes "0100007F:0016" (IPv4) or 32 hex digits ":" port
// (IPv6, four 32-bit words each in the kernel's little-endian order).
func hexAddrPort(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(p, 16, 16)
	if !ok || err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad socket address %q", clip(s))
	}
	switch len(a) {
	case 8:
		ip, err := hexIPv4(a)
		if err != nil {
			return netip.AddrPort{}, err
		}
		return netip.AddrPortFrom(ip, uint16(port)), nil
	case 32:
		var b [16]byte
		for i := 0; i < 4; i++ {
			w, err := strconv.ParseUint(a[i*8:i*8+8], 16, 32)
			if err != nil {
				return netip.AddrPort{}, fmt.Errorf("bad socket address %q", clip(s))
			}
			binary.LittleEndian.PutUint32(b[i*4:], uint32(w))
		}
		return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(port)), nil
	}
	return netip.AddrPort{}, fmt.Errorf("bad socket address %q", clip(s))
}

// SocketInode returns the inode of a /proc/<pid>/fd link target
// "socket:[12345]".
func SocketInode(link string) (uint64, bool) {
	s, ok := strings.CutPrefix(link, "socket:[")
	if !ok || !strings.HasSuffix(s, "]") {
		return 0, false
	}
	n, err := strconv.ParseUint(s[:len(s)-1], 10, 64)
	return n, err == nil
}

// ParsePasswdNames maps uids to user names from /etc/passwd.
func ParsePasswdNames(b []byte) map[int]string {
	out := map[int]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if uid, err := strconv.Atoi(f[2]); err == nil {
			if _, dup := out[uid]; !dup {
				out[uid] = f[0]
			}
		}
	}
	return out
}
