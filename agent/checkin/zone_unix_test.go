//go:build !windows

package checkin

import (
	"os"
	"testing"
	"time"
)

func TestZoneFrom(t *testing.T) {
	if _, err := os.Stat("/usr/share/zoneinfo/Asia/Kolkata"); err != nil {
		t.Skip("no tzdata on this machine")
	}
	jan := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	offset := func(loc *time.Location) int { _, o := jan.In(loc).Zone(); return o }
	noEnv := func(string) (string, bool) { return "", false }
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) { return v, k == "TZ" }
	}
	files := map[string]string{"/etc/localtime": "/usr/share/zoneinfo/America/New_York"}
	read := func(p string) ([]byte, error) {
		if real, ok := files[p]; ok {
			p = real
		}
		return os.ReadFile(p)
	}
	cases := []struct {
		name string
		env  func(string) (string, bool)
		want int
	}{
		{"/etc/localtime", noEnv, -5 * 3600},
		{"TZ name", env("Asia/Kolkata"), 5*3600 + 1800},
		{"TZ with colon", env(":Asia/Kolkata"), 5*3600 + 1800},
		{"TZ path", env("/usr/share/zoneinfo/Asia/Tokyo"), 9 * 3600},
		{"TZ empty is UTC", env(""), 0},
		{"TZ unknown falls back to /etc/localtime", env("Nowhere/Special"), -5 * 3600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := offset(zoneFrom(tc.env, read, "/etc/localtime")); got != tc.want {
				t.Fatalf("offset %d, want %d", got, tc.want)
			}
		})
	}
	// /etc/localtime is read afresh each time: a change is seen.
	files["/etc/localtime"] = "/usr/share/zoneinfo/Asia/Tokyo"
	if got := offset(zoneFrom(noEnv, read, "/etc/localtime")); got != 9*3600 {
		t.Fatalf("change of /etc/localtime not seen: %d", got)
	}
	// Unreadable: UTC, never a crash.
	if got := zoneFrom(noEnv, func(string) ([]byte, error) { return nil, os.ErrNotExist }, "/etc/localtime"); got != time.UTC {
		t.Fatalf("got %v", got)
	}
}
