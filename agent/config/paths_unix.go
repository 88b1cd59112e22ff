//go:build !windows

package config

// Default file locations on Linux and macOS.
const (
	DefaultPath     = "/etc/amagent/amagent.toml"
	DefaultStateDir = "/var/lib/amagent"
	DefaultLogFile  = "/var/log/amagent/amagent.log"
)
