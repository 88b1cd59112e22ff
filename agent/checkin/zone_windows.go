//go:build windows

package checkin

import "time"

// SystemZone is the process's local zone. On Windows Go reads the zone
// from the registry once per process, so a change of zone is noticed
// only at the next DST transition or restart.
func SystemZone() *time.Location { return time.Local }
