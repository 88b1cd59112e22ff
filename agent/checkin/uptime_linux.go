package checkin

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// SystemUptime is the time since the machine booted (/proc/uptime).
func SystemUptime(context.Context) (time.Duration, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, err
	}
	return parseProcUptime(string(b))
}

func parseProcUptime(s string) (time.Duration, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/uptime: empty")
	}
	secs, err := strconv.ParseFloat(f[0], 64)
	if err != nil || secs < 0 {
		return 0, fmt.Errorf("/proc/uptime: %q is not a number of seconds", f[0])
	}
	return time.Duration(secs * float64(time.Second)), nil
}
