package host

// This file is the path-metadata fact (ABI.md section 4): fact("/etc/shadow")
// answers the type, mode, owner, size and mtime of a path the phase
// declares readable, resolved inside its grant like any access (lstat
// semantics), and the refusals of paths a run's file system reports.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"

	"github.com/amagent/amagent/host/internal/guardfs"
)

// PathStat is the answer of the path-metadata fact, and a recording's
// stat entry.
type PathStat struct {
	Type  string `json:"type"` // file, dir, symlink or other
	Mode  string `json:"mode"` // four octal digits, setuid/setgid/sticky included
	UID   int64  `json:"uid"`
	GID   int64  `json:"gid"`
	User  string `json:"user"`  // "" when /etc/passwd has no name for uid
	Group string `json:"group"` // "" when /etc/group has no name for gid
	Size  int64  `json:"size"`
	Mtime string `json:"mtime"` // RFC 3339, UTC, seconds
}

func (s PathStat) check() error {
	switch s.Type {
	case "file", "dir", "symlink", "other":
	default:
		return fmt.Errorf("type %q is not file, dir, symlink or other", s.Type)
	}
	if len(s.Mode) != 4 {
		return fmt.Errorf("mode %q is not four octal digits", s.Mode)
	}
	if _, err := strconv.ParseUint(s.Mode, 8, 16); err != nil {
		return fmt.Errorf("mode %q is not four octal digits", s.Mode)
	}
	if _, err := time.Parse(time.RFC3339, s.Mtime); err != nil {
		return fmt.Errorf("mtime %q is not RFC 3339", s.Mtime)
	}
	return nil
}

// pathStatOf describes fi, naming its owners with names.
func pathStatOf(fi fs.FileInfo, names *idNames) PathStat {
	m := fi.Mode()
	uid, gid := owner(fi)
	out := PathStat{Type: "other", UID: uid, GID: gid, Size: fi.Size(),
		Mtime: fi.ModTime().UTC().Format(time.RFC3339)}
	switch {
	case m.IsRegular():
		out.Type = "file"
	case m.IsDir():
		out.Type = "dir"
	case m&fs.ModeSymlink != 0:
		out.Type = "symlink"
	}
	bits := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		bits |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		bits |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		bits |= 0o1000
	}
	out.Mode = fmt.Sprintf("%04o", bits)
	if names != nil {
		out.User, out.Group = names.users[out.UID], names.groups[out.GID]
	}
	return out
}

// idNames are the user and group names of a system, by id.
type idNames struct {
	users, groups map[int64]string
}

// readIDNames reads root/etc/passwd and root/etc/group (a missing or
// unreadable file gives no names). It does not ask the system's resolver
// (no os/user, no NSS): root may be another system's tree.
func readIDNames(root string) *idNames {
	return &idNames{
		users:  readIDFile(filepath.Join(root, "etc", "passwd")),
		groups: readIDFile(filepath.Join(root, "etc", "group")),
	}
}

// readIDFile maps the third field (the id) of each "name:x:id:..." line
// to the first; the first line for an id wins, as getpwuid's does.
func readIDFile(name string) map[int64]string {
	out := map[int64]string{}
	f, err := os.Open(name)
	if err != nil {
		return out
	}
	defer f.Close()
	return parseIDs(f)
}

// parseIDs is readIDFile's parser: "name:x:id:..." lines of r.
func parseIDs(r io.Reader) map[int64]string {
	out := map[int64]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		fields := strings.SplitN(line, ":", 4)
		if len(fields) < 3 || fields[0] == "" {
			continue
		}
		id, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil || id < 0 {
			continue
		}
		if _, seen := out[id]; !seen {
			out[id] = fields[0]
		}
	}
	return out
}

// cleanAbs cleans an absolute guest path ("/etc//x/" -> "/etc/x").
func cleanAbs(p string) (string, bool) {
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return "", false
	}
	return path.Clean(p), true
}

// pathFact answers fact(key) for a key that starts with "/".
func (st *runState) pathFact(key string) int32 {
	p, ok := cleanAbs(key)
	if !ok {
		return st.fail(CodeMalformed)
	}
	if st.files == nil || !st.files.Readable(p) {
		st.denyPath(p, guardfs.Undeclared)
		return st.fail(CodeDenied)
	}
	var ps PathStat
	if st.env.replay {
		// Capabilities first (above), then the recording.
		rec, ok := st.env.stat[p]
		if !ok {
			return st.fail(CodeNotFound)
		}
		ps = rec
	} else {
		fi, errno := st.files.LstatInfo(p)
		switch {
		case errno == experimentalsys.EACCES:
			return st.fail(CodeDenied) // leaves its grant: refused and logged by the FS
		case errno != 0:
			return st.fail(CodeNotFound)
		}
		var names *idNames
		if st.env.names != nil {
			names = st.env.names()
		}
		ps = pathStatOf(fi, names)
	}
	b, err := json.Marshal(ps)
	if err != nil {
		return st.fail(CodeMalformed)
	}
	return st.answer(b)
}

// denyPath records a refused path in the run's denials and logs it once.
func (st *runState) denyPath(p, why string) {
	if st.denied.Add(p) {
		st.log.Warn("worklet path denied", "worklet", st.name, "phase", st.phase, "path", st.redact.String(p), "reason", why)
	}
}
