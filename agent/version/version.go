// Package version holds the agent's version, set at build time with
// -ldflags "-X github.com/amagent/amagent/agent/version.Version=...".
package version

// Version is the agent version sent in every check-in as "ver".
var Version = "0.1.0-dev"
