//go:build !windows

package checkin

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SystemZone reads the system's time zone afresh. Go reads time.Local
// once per process, so a zone changed while the agent runs would go
// unnoticed: this follows $TZ when set, else /etc/localtime.
func SystemZone() *time.Location {
	return zoneFrom(os.LookupEnv, os.ReadFile, "/etc/localtime")
}

func zoneFrom(env func(string) (string, bool), read func(string) ([]byte, error), localtime string) *time.Location {
	if tz, ok := env("TZ"); ok {
		tz = strings.TrimPrefix(tz, ":")
		if tz == "" || tz == "UTC" {
			return time.UTC
		}
		if filepath.IsAbs(tz) {
			if b, err := read(tz); err == nil {
				if loc, err := time.LoadLocationFromTZData(tz, b); err == nil {
					return loc
				}
			}
		} else if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	b, err := read(localtime)
	if err != nil {
		return time.UTC
	}
	loc, err := time.LoadLocationFromTZData("Local", b)
	if err != nil {
		return time.Local
	}
	return loc
}
