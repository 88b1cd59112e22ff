// Package version holds the agent's version and build facts, set at build
// time with -ldflags "-X github.com/amagent/amagent/agent/version.Version=..."
// (and .Commit, .Date): `make build` and `make package` set all three from
// VERSION and the commit, so that two builds of one commit are identical.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the agent version sent in every check-in as "ver".
var Version = "0.1.0-dev"

// Commit is the git commit the binary was built from ("" when unknown;
// "-dirty" is appended when the tree had uncommitted changes).
var Commit = ""

// Date is the commit's time in RFC 3339 UTC, never the time of the build
// (a build at another time must give the same bytes).
var Date = ""

// WazeroModule is the module path of the WebAssembly runtime.
const WazeroModule = "github.com/tetratelabs/wazero"

// Info is what `amagent version --json` prints.
type Info struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Date    string `json:"date"`
	Go      string `json:"go"`
	Wazero  string `json:"wazero"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

// Get returns the build facts of this binary; the wazero version is read
// from the build information the Go linker embeds.
func Get() Info {
	in := Info{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		in.Wazero = depVersion(bi, WazeroModule)
	}
	return in
}

// depVersion is the version of module path among bi's dependencies (a
// replacement's when it is replaced), "" when it is not linked in.
func depVersion(bi *debug.BuildInfo, path string) string {
	for _, d := range bi.Deps {
		if d.Path != path {
			continue
		}
		if d.Replace != nil {
			return d.Replace.Version
		}
		return d.Version
	}
	return ""
}
