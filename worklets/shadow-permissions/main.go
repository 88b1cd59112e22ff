//go:build wasip1

// Command shadow-permissions is an amagent worklet: /etc/shadow (the
// password hashes) is a regular file owned by root, its group root or
// shadow, mode 0640 or stricter (CIS "Ensure permissions on /etc/shadow are
// configured"). It reads the path-metadata fact (amagent.Stat), never the
// file. Remediation tightens what is wrong with chmod, chown and chgrp.
package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/amagent/amagent/wasm-modules/go/amagent"
)

const path = "/etc/shadow"

// allowed is every permission bit the file may have: rw for root, r for
// the group. setuid, setgid, sticky, execute and anything for others are
// not.
const allowed = 0o640

// Details is the result's details.
type Details struct {
	Mode  string   `json:"mode"`
	User  string   `json:"user"`
	Group string   `json:"group"`
	UID   int64    `json:"uid"`
	GID   int64    `json:"gid"`
	Wrong []string `json:"wrong"`
}

func main() {
	in, err := amagent.Input()
	if err != nil {
		amagent.Fatal(err)
	}
	info, err := amagent.Stat(path)
	if errors.Is(err, amagent.ErrNotFound) {
		amagent.NotApplicable(path+" does not exist (no shadow password suite)", nil)
	}
	if err != nil {
		amagent.Fatal(err)
	}
	if info.Type != "file" {
		// A link or anything else is not something chmod should follow.
		if in.Phase == amagent.PhaseRemediate {
			amagent.Failed(fmt.Sprintf("%s is a %s, not a file: fix it by hand", path, info.Type), nil)
		}
		amagent.NonCompliant(fmt.Sprintf("%s is a %s, not a file", path, info.Type), nil)
	}
	d := Details{Mode: info.Mode, User: info.User, Group: info.Group, UID: info.UID, GID: info.GID, Wrong: []string{}}
	badMode := info.Perm()&^allowed != 0
	badOwner := info.UID != 0
	badGroup := info.GID != 0 && info.Group != "shadow"
	if badMode {
		d.Wrong = append(d.Wrong, fmt.Sprintf("mode %s (want 0640 or stricter)", info.Mode))
	}
	if badOwner {
		d.Wrong = append(d.Wrong, fmt.Sprintf("owner %s (uid %d, want root)", name(info.User), info.UID))
	}
	if badGroup {
		d.Wrong = append(d.Wrong, fmt.Sprintf("group %s (gid %d, want root or shadow)", name(info.Group), info.GID))
	}

	if in.Phase == amagent.PhaseRemediate {
		if len(d.Wrong) == 0 {
			amagent.Succeeded(fmt.Sprintf("%s is already %s %s:%s: nothing to do", path, info.Mode, info.User, info.Group), d)
		}
		var argvs [][]string
		if badOwner {
			argvs = append(argvs, []string{"chown", "root", path})
		}
		if badGroup {
			argvs = append(argvs, []string{"chgrp", shadowGroup(), path})
		}
		if badMode {
			argvs = append(argvs, []string{"chmod", fmt.Sprintf("%04o", info.Perm()&allowed), path})
		}
		var done []string
		for _, argv := range argvs {
			res, err := amagent.Exec(argv, "", 10*time.Second)
			if err != nil {
				amagent.Failed(err.Error(), d)
			}
			if res.ExitCode != 0 {
				amagent.Failed(fmt.Sprintf("%s: exit %d: %s", strings.Join(argv, " "), res.ExitCode, strings.TrimSpace(res.Stderr)), d)
			}
			done = append(done, strings.Join(argv[:2], " "))
		}
		amagent.Succeeded("fixed "+path+": "+strings.Join(done, ", "), d)
	}

	if len(d.Wrong) > 0 {
		amagent.NonCompliant(path+": "+strings.Join(d.Wrong, ", "), d)
	}
	amagent.Compliant(fmt.Sprintf("%s is %s %s:%s", path, info.Mode, info.User, info.Group), d)
}

// shadowGroup is the group /etc/shadow belongs to on this family: shadow
// on Debian and its derivatives (unix_chkpwd reads it as that group), root
// elsewhere.
func shadowGroup() string {
	id, _ := amagent.FactString("os.id")
	like, _ := amagent.FactString("os.id_like")
	if id == "debian" || id == "ubuntu" || strings.Contains(" "+like+" ", " debian ") {
		return "shadow"
	}
	return "root"
}

func name(s string) string {
	if s == "" {
		return "(no name)"
	}
	return s
}
