//go:build windows

package config

// Default file locations on Windows.
const (
	DefaultPath     = `C:\ProgramData\amagent\amagent.toml`
	DefaultStateDir = `C:\ProgramData\amagent\state`
	DefaultLogFile  = `C:\ProgramData\amagent\amagent.log`
)
