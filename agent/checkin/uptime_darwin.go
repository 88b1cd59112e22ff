package checkin

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
)

// SystemUptime is the time since the machine booted (kern.boottime).
func SystemUptime(context.Context) (time.Duration, error) {
	tv, err := unix.SysctlTimeval("kern.boottime")
	if err != nil {
		return 0, err
	}
	return time.Since(time.Unix(tv.Unix())), nil
}
