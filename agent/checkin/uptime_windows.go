package checkin

import (
	"context"
	"time"

	"golang.org/x/sys/windows"
)

// SystemUptime is the time since the machine booted (GetTickCount64).
func SystemUptime(context.Context) (time.Duration, error) {
	return windows.DurationSinceBoot(), nil
}
