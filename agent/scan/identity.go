package scan

// Time zone helpers shared by the OS collectors.

import (
	"io/fs"
	"strings"
	"time"
)

// pathLocaltimeLink is /etc/localtime, a link into the zone database on
// Linux and macOS.
const pathLocaltimeLink = "etc/localtime"

// zoneFromLink turns a /etc/localtime link target
// ("/usr/share/zoneinfo/Europe/Paris", "../usr/share/zoneinfo/UTC",
// "/var/db/timezone/zoneinfo/America/New_York") into the zone name.
func zoneFromLink(target string) string {
	if _, after, ok := strings.Cut(target, "zoneinfo/"); ok {
		// posix/ and right/ are variants of the same zones.
		after = strings.TrimPrefix(strings.TrimPrefix(after, "posix/"), "right/")
		return after
	}
	return ""
}

// zoneNow is the abbreviation and UTC offset at env's now of the zone in
// /etc/localtime (of name when that file is absent and the name is known
// to Go's zone database; UTC otherwise).
func zoneNow(env *Env, name string) (string, int) {
	now := time.Now()
	if env.Now != nil {
		now = env.Now()
	}
	if b, err := fs.ReadFile(env.FS, pathLocaltimeLink); err == nil {
		if loc, err := time.LoadLocationFromTZData(name, b); err == nil {
			return now.In(loc).Zone()
		}
	}
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return now.In(loc).Zone()
		}
	}
	return "UTC", 0
}

// containsFold reports whether sub is in s, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
