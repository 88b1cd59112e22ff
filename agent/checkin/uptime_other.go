//go:build !linux && !darwin && !windows

package checkin

import (
	"context"
	"errors"
	"time"
)

// SystemUptime is not known on this OS; check-ins send 0.
func SystemUptime(context.Context) (time.Duration, error) {
	return 0, errors.New("uptime is not supported on this OS")
}
