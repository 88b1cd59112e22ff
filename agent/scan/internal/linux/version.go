package linux

import (
	"strings"

	"github.com/amagent/amagent/wasm-modules/go/debver"
)

// CompareDebVersions orders two Debian package versions
// ([epoch:]upstream[-revision], deb-version(7)): negative when a < b, zero
// when equal, positive when a > b. It is the Go SDK's debver, shared with
// the worklets so that the agent and its checks order versions alike.
func CompareDebVersions(a, b string) int { return debver.Compare(a, b) }

// KernelFlavour is the part of a kernel release after its version and ABI
// number: "amd64" for "6.1.0-17-amd64", "cloud-amd64" for
// "6.1.0-17-cloud-amd64", "generic" for "5.15.0-91-generic", and "" for
// releases without one ("5.14.0-362.8.1.el9_3.x86_64", "6.6.14-0-lts" is
// "lts"). Kernels are only compared within one flavour.
func KernelFlavour(release string) string {
	i := strings.IndexByte(release, '-')
	if i < 0 {
		return ""
	}
	rest := release[i+1:]
	k := 0
	for k < len(rest) && (rest[k] >= '0' && rest[k] <= '9' || rest[k] == '.') {
		k++
	}
	if k == 0 || k >= len(rest) || rest[k] != '-' {
		return ""
	}
	return rest[k+1:]
}

// NewestKernel returns the newest of the installed kernel releases that has
// the running kernel's flavour, and whether it is newer than running.
func NewestKernel(running string, installed []string) (newest string, newer bool) {
	fl := KernelFlavour(running)
	for _, r := range installed {
		if KernelFlavour(r) != fl {
			continue
		}
		if newest == "" || CompareDebVersions(r, newest) > 0 {
			newest = r
		}
	}
	if newest == "" {
		return "", false
	}
	return newest, CompareDebVersions(newest, running) > 0
}
